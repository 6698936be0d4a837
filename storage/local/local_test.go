package local_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/storage/local"
	"github.com/ospreyhq/osprey/storage/storagetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storagetest.Exercise(t, func(t *testing.T) storage.Storage {
		s, err := local.New(t.TempDir())
		require.NoError(t, err)
		return s
	}, storagetest.Options{})
}

func TestLayoutIsKestras(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	s, err := local.New(base)
	require.NoError(t, err)
	_, err = s.Put(t.Context(), "kestra:///acme/flow/executions/E/inputs/in/a.txt", strings.NewReader("x"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(base, "main", "acme", "flow", "executions", "E", "inputs", "in", "a.txt"))
	require.NoError(t, err)
	require.Equal(t, "x", string(b))
}

func TestEmptyBasePath(t *testing.T) {
	t.Parallel()
	_, err := local.New("")
	require.ErrorContains(t, err, "kestra.storage.local.base-path")
}
