package sqlite_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store/sqlite"
)

// TestTaskRunsMigration moves executions stored as one document (before
// migration 13) to a header and task run rows, and back: a database
// written by an older Osprey reads the same after the upgrade.
func TestTaskRunsMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "osprey.db")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := &flow.Execution{ID: "old", Namespace: "acme", FlowID: "f", FlowRevision: 1, Inputs: map[string]any{"n": int64(3)},
		State: flow.NewStateInfo(flow.StateRunning, now)}
	for _, id := range []string{"b", "a", "c"} {
		e.TaskRunList = append(e.TaskRunList, &flow.TaskRun{ID: id, ExecutionID: "old", Namespace: "acme", FlowID: "f", TaskID: "t" + id,
			Value: id, State: flow.NewStateInfo(flow.StateSuccess, now), Outputs: map[string]any{"n": int64(7), "f": 1.5}})
	}
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Executions().Create(ctx, e))
	require.NoError(t, s.Close())

	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	p, err := goose.NewProvider(goose.DialectSQLite3, db, os.DirFS("migrations"), goose.WithDisableGlobalRegistry(true))
	require.NoError(t, err)
	_, err = p.DownTo(ctx, 12)
	require.NoError(t, err)
	var n int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT json_array_length(CAST(doc AS TEXT), '$.taskRunList') FROM executions WHERE id = 'old'`).Scan(&n))
	require.Equal(t, 3, n, "before migration 13 the document holds the task runs")
	require.NoError(t, db.Close())

	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	require.NoError(t, err)
	defer s.Close()
	got, _, err := s.Executions().Get(ctx, "old")
	require.NoError(t, err)
	require.Equal(t, e, got)
}
