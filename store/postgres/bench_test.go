package postgres_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/pgtest"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/postgres"
	"github.com/ospreyhq/osprey/store/storetest"
)

// BenchmarkStore runs the shared store benchmarks on this driver.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		s, err := postgres.Open(b.Context(), pgtest.Start(b), postgres.Options{})
		require.NoError(b, err)
		b.Cleanup(func() { s.Close() })
		return s
	})
}
