package postgres_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/pgtest"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/postgres"
)

// TestCrashLosesOnlyWhatIsDerivedAgain crashes a durable PostgreSQL (every
// process killed at once) after each kind of write of a two-task
// execution and reads what survived: a step that leaves the execution
// unended, which commits without waiting for the disk, is lost with its
// claim, and the execution is back as created and claimable at once, so
// the next step derives it again; once a worker's result for a job that
// step queued is stored (a durable commit), the step survives with it;
// the creation, the results and the step that ends the execution always
// survive. The WAL writer is slowed to its longest delay so that a commit
// that did not wait stays in shared memory until the crash.
func TestCrashLosesOnlyWhatIsDerivedAgain(t *testing.T) {
	srv := pgtest.StartDurableServer(t)
	ctx := t.Context()
	dsn, err := srv.CreateDatabase(ctx, "crash")
	require.NoError(t, err)
	admin, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "ALTER SYSTEM SET wal_writer_delay = '10s'")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "SELECT pg_reload_conf()")
	require.NoError(t, err)
	require.NoError(t, admin.Close(ctx))

	var s *postgres.Store
	open := func() {
		var err error
		s, err = postgres.Open(ctx, dsn, postgres.Options{MaxConns: 4})
		require.NoError(t, err)
	}
	crash := func() {
		t.Helper()
		require.NoError(t, srv.Crash())
		require.NoError(t, srv.Start())
		_ = s.Close() // its sessions died with the database
		open()
	}
	open()
	t.Cleanup(func() { s.Close() })
	now := time.Now().UTC()
	require.NoError(t, s.Executions().Create(ctx, &flow.Execution{ID: "e", Namespace: "acme", FlowID: "f",
		State: flow.NewStateInfo(flow.StateCreated, now)}))

	// The first step: RUNNING, one task run, its job queued.
	step := func(owner string) int64 {
		t.Helper()
		ids, err := s.Queue().ClaimExecutions(ctx, owner, 10, time.Minute)
		require.NoError(t, err)
		require.Equal(t, []string{"e"}, ids, "the execution is claimable")
		e, v, err := s.Executions().Get(ctx, "e")
		require.NoError(t, err)
		e.State.Set(flow.StateRunning, now)
		e.TaskRunList = []*flow.TaskRun{{ID: "tr1", ExecutionID: "e", TaskID: "t1", State: flow.NewStateInfo(flow.StateRunning, now)}}
		saved, err := s.Executions().Save(ctx, store.SaveParams{Execution: e, Version: v, Owner: owner,
			Jobs: []store.Job{{ID: "j1", ExecutionID: "e", TaskRunID: "tr1", Attempt: 1}}})
		require.NoError(t, err)
		return saved
	}
	created, createdVersion, err := s.Executions().Get(ctx, "e")
	require.NoError(t, err)
	step("executor-1")
	crash()

	e, v, err := s.Executions().Get(ctx, "e")
	require.NoError(t, err, "the creation was durable")
	require.Equal(t, createdVersion, v, "the step that did not wait for the disk is lost with the crash")
	require.Equal(t, created.State.Current, e.State.Current)
	require.Empty(t, e.TaskRunList)
	jobs, err := s.Queue().ClaimJobs(ctx, "worker", 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, jobs, "its job is lost with it")

	// The next claim derives the step again; the worker's result for its
	// job is durable, and makes the step durable with it.
	stepped := step("executor-2")
	jobs, err = s.Queue().ClaimJobs(ctx, "worker", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	lost, err := s.Queue().CompleteAll(ctx, "worker", []store.Completion{{JobID: "j1", Result: []byte(`{"state":"SUCCESS"}`)}})
	require.NoError(t, err)
	require.Empty(t, lost)
	crash()

	e, v, err = s.Executions().Get(ctx, "e")
	require.NoError(t, err)
	require.Equal(t, stepped, v, "a durable commit after the step flushed the step first")
	require.Equal(t, flow.StateRunning, e.State.Current)
	results, err := s.Queue().Results(ctx, "e")
	require.NoError(t, err)
	require.Len(t, results, 1, "the worker's result is durable")
	require.JSONEq(t, `{"state":"SUCCESS"}`, string(results[0].Result))

	// The step that ends the execution waits for the disk.
	ids, err := s.Queue().ClaimExecutions(ctx, "executor-3", 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"e"}, ids, "the result marked the execution for a step")
	e.TaskRunList[0].State.Set(flow.StateSuccess, now)
	e.State.Set(flow.StateSuccess, now)
	ended, err := s.Executions().Save(ctx, store.SaveParams{Execution: e, Version: v, Owner: "executor-3", AckResults: []string{"j1"}})
	require.NoError(t, err)
	crash()

	e, v, err = s.Executions().Get(ctx, "e")
	require.NoError(t, err)
	require.Equal(t, ended, v, "the end survives the crash")
	require.Equal(t, flow.StateSuccess, e.State.Current)
	results, err = s.Queue().Results(ctx, "e")
	require.NoError(t, err)
	require.Empty(t, results, "its acknowledgement too")
}
