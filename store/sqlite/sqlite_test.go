package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
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

// TestCheckpointsInTheBackground: committed pages reach the database file
// without any writer growing the WAL to its own checkpoint threshold, so
// no commit pays for copying them back.
func TestCheckpointsInTheBackground(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "osprey.db")
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	st, err := os.Stat(path)
	require.NoError(t, err)
	before := st.Size()
	content := make([]byte, 1<<20) // 256 pages: far below the writer's threshold
	for i := range content {
		content[i] = byte(i * 7)
	}
	require.NoError(t, s.Files().Put(t.Context(), store.FileRecord{Namespace: "acme", Path: "/big.bin", Content: content}))
	require.Eventually(t, func() bool {
		st, err := os.Stat(path)
		return err == nil && st.Size() >= before+int64(len(content))
	}, 10*time.Second, 10*time.Millisecond, "the file's pages were copied into the database file")
}

// TestReadStep: one read gives an executor step what Get, Results and
// Commands give, and leaves the execution out when asked.
func TestReadStep(t *testing.T) {
	ctx := t.Context()
	s := open(t)
	now := time.Now().UTC()
	e := &flow.Execution{ID: "e1", Namespace: "acme", FlowID: "f", FlowRevision: 1, State: flow.NewStateInfo(flow.StateRunning, now),
		TaskRunList: []*flow.TaskRun{{ID: "tr1", ExecutionID: "e1", Namespace: "acme", FlowID: "f", TaskID: "t",
			State: flow.NewStateInfo(flow.StateRunning, now)}}}
	require.NoError(t, s.Executions().Create(ctx, e))
	_, err := s.Executions().Save(ctx, store.SaveParams{Execution: e, Version: 1,
		Jobs: []store.Job{{ID: "j1", ExecutionID: "e1", TaskRunID: "tr1", Attempt: 1, Payload: []byte(`{}`)}}})
	require.NoError(t, err)
	jobs, err := s.Queue().ClaimJobs(ctx, "w", 1, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.NoError(t, s.Queue().Complete(ctx, "w", "j1", []byte(`{"state":"SUCCESS"}`)))
	_, err = s.Executions().Send(ctx, store.Command{ExecutionID: "e1", Payload: []byte(`{"kind":"KILL"}`)})
	require.NoError(t, err)

	r, ok := s.Executions().(store.StepReader)
	require.True(t, ok, "the SQLite driver reads a step in one go")
	in, err := r.ReadStep(ctx, "e1", true)
	require.NoError(t, err)
	got, version, err := s.Executions().Get(ctx, "e1")
	require.NoError(t, err)
	results, err := s.Queue().Results(ctx, "e1")
	require.NoError(t, err)
	cmds, err := s.Executions().Commands(ctx, "e1")
	require.NoError(t, err)
	require.Equal(t, got, in.Execution)
	require.Equal(t, version, in.Version)
	require.Equal(t, results, in.Results)
	require.Len(t, in.Results, 1)
	require.Equal(t, cmds, in.Commands)
	require.Len(t, in.Commands, 1)

	in, err = r.ReadStep(ctx, "e1", false)
	require.NoError(t, err)
	require.Nil(t, in.Execution)
	require.Equal(t, results, in.Results)

	_, err = r.ReadStep(ctx, "missing", true)
	require.ErrorIs(t, err, store.ErrNotFound)
}
