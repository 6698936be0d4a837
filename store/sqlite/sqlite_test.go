package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/store/storetest"
)

func open(t *testing.T) store.Store {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "osprey.db"),
		sqlite.Options{Now: storetest.Clock(t).Now, NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Exercise(t, open)
}

func TestConformanceInMemory(t *testing.T) {
	storetest.Exercise(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(t.Context(), ":memory:", sqlite.Options{Now: storetest.Clock(t).Now})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		return s
	})
}

// TestReopenKeepsData proves what `server local` promises across restarts:
// the file keeps flows, and migrations run once.
func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "osprey.db")
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	require.NoError(t, err)
	_, err = s.Flows().Create(t.Context(), store.PutFlowParams{Namespace: "acme", ID: "f", Source: "id: f"})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = sqlite.Open(t.Context(), path, sqlite.Options{})
	require.NoError(t, err)
	defer s.Close()
	got, err := s.Flows().Get(t.Context(), "acme", "f", 0)
	require.NoError(t, err)
	require.Equal(t, "id: f", got.Source)

	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "%s is readable by its owner only", f)
	}
}
