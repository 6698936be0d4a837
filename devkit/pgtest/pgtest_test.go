package pgtest_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestStart proves each call gets its own working, empty database on a
// PostgreSQL 15 or newer.
func TestStart(t *testing.T) {
	a, b := pgtest.Start(t), pgtest.Start(t)
	require.NotEqual(t, a, b)

	ctx := t.Context()
	ca, err := pgx.Connect(ctx, a)
	require.NoError(t, err)
	defer ca.Close(ctx)
	cb, err := pgx.Connect(ctx, b)
	require.NoError(t, err)
	defer cb.Close(ctx)

	var version int
	require.NoError(t, ca.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version))
	require.GreaterOrEqual(t, version, 150000)

	_, err = ca.Exec(ctx, "CREATE TABLE t (x int)")
	require.NoError(t, err)
	var n int
	require.NoError(t, cb.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 't'").Scan(&n))
	require.Zero(t, n, "databases are isolated")
}
