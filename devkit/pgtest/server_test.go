package pgtest_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/pgtest"
)

// TestServerRestartKeepsData stops a server of its own and starts it again:
// the same DSN reaches the same data, and a connection opened before the
// outage fails rather than hangs.
func TestServerRestartKeepsData(t *testing.T) {
	srv := pgtest.StartServer(t)
	ctx := t.Context()
	dsn, err := srv.CreateDatabase(ctx, "restart")
	require.NoError(t, err)
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (42)")
	require.NoError(t, err)

	srv.Stop()
	_, err = conn.Exec(ctx, "SELECT 1")
	require.Error(t, err, "the session ended with the server")
	require.NoError(t, srv.Start())

	again, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer again.Close(ctx)
	var x int
	require.NoError(t, again.QueryRow(ctx, "SELECT x FROM t").Scan(&x))
	require.Equal(t, 42, x)
}
