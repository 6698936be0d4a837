package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/store/storetest"
)

// BenchmarkStore runs the shared store benchmarks on this driver.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
		require.NoError(b, err)
		b.Cleanup(func() { s.Close() })
		return s
	})
}
