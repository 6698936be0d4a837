package storage_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/storage/local"
	"github.com/ospreyhq/osprey/storage/storagetest"
)

func TestInstrumentedConformance(t *testing.T) {
	t.Parallel()
	storagetest.Exercise(t, func(t *testing.T) storage.Storage {
		s, err := local.New(t.TempDir())
		require.NoError(t, err)
		return storage.Instrument(s)
	}, storagetest.Options{LargeSize: 1 << 20})
}

func TestInstrumentedCounts(t *testing.T) {
	t.Parallel()
	s, err := local.New(t.TempDir())
	require.NoError(t, err)
	m := storage.Instrument(s)
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(m))
	ctx := context.Background()
	_, err = m.Put(ctx, "/a/f", strings.NewReader("12345"))
	require.NoError(t, err)
	rc, err := m.Get(ctx, "/a/f")
	require.NoError(t, err)
	_, _ = io.ReadAll(rc)
	rc.Close()
	_, err = m.Stat(ctx, "/a/missing")
	require.ErrorIs(t, err, storage.ErrNotFound)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP osprey_storage_bytes_total Bytes written to (in) and read from (out) internal storage.
# TYPE osprey_storage_bytes_total counter
osprey_storage_bytes_total{direction="in"} 5
osprey_storage_bytes_total{direction="out"} 5
# HELP osprey_storage_operations_total Internal storage operations by operation (put, get, stat, list, delete, delete_tree) and result (ok, not_found, error).
# TYPE osprey_storage_operations_total counter
osprey_storage_operations_total{operation="get",result="ok"} 1
osprey_storage_operations_total{operation="put",result="ok"} 1
osprey_storage_operations_total{operation="stat",result="not_found"} 1
`), "osprey_storage_bytes_total", "osprey_storage_operations_total"))
}
