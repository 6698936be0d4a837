package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/worker"
)

// outageStore is a store whose CompleteAll fails while the database is
// "down": the first fails calls answer as a restarting PostgreSQL does.
type outageStore struct {
	store.Store
	fails atomic.Int32
	calls atomic.Int32
}

func (s *outageStore) Queue() store.QueueStore { return outageQueue{s.Store.Queue(), s} }

type outageQueue struct {
	store.QueueStore
	s *outageStore
}

func (q outageQueue) CompleteAll(ctx context.Context, owner string, done []store.Completion) ([]string, error) {
	q.s.calls.Add(1)
	if q.s.fails.Add(-1) >= 0 {
		return nil, errors.New("complete jobs: FATAL: terminating connection due to administrator command (SQLSTATE 57P01)")
	}
	return q.QueueStore.CompleteAll(ctx, owner, done)
}

// TestResultSurvivesAStoreOutage: a job that ends while the store cannot
// be reached keeps offering its result until the store answers, rather than
// leaving the job RUNNING for its lease to expire and run it a second time.
func TestResultSurvivesAStoreOutage(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	st := &outageStore{Store: db}
	st.fails.Store(3)

	task := &flow.Task{ID: "fine", Type: "fake"}
	f := &flow.Flow{ID: "f", Namespace: "n", Revision: 1, Tasks: []*flow.Task{task}}
	now := time.Now()
	tr := &flow.TaskRun{ID: "tr1", ExecutionID: "ex1", Namespace: "n", FlowID: "f", TaskID: "fine", State: flow.NewStateInfo(flow.StateRunning, now)}
	ex := &flow.Execution{ID: "ex1", Namespace: "n", FlowID: "f", FlowRevision: 1, State: flow.NewStateInfo(flow.StateRunning, now), TaskRunList: []*flow.TaskRun{tr}}
	require.NoError(t, db.Executions().Create(ctx, ex))
	payload, err := json.Marshal(engine.Payload{Namespace: "n", FlowID: "f", Revision: 1, TaskID: "fine", TaskRun: tr, Attempt: 1, Vars: map[string]any{}})
	require.NoError(t, err)
	_, err = db.Executions().Save(ctx, store.SaveParams{Execution: ex, Version: 1, Jobs: []store.Job{{ID: "j1", ExecutionID: "ex1", TaskRunID: "tr1", Attempt: 1, Payload: payload}}})
	require.NoError(t, err)

	w := worker.New(worker.Options{Store: st, Tasks: fakeTasks{}, Flows: fakeFlows{f}, Renderers: secretRenderer{}, Threads: 1, Poll: 10 * time.Millisecond, Lease: time.Hour, TmpDir: t.TempDir()})
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = w.Stop(ctx)
	})
	require.Eventually(t, func() bool {
		res, err := db.Queue().Results(ctx, "ex1")
		return err == nil && len(res) == 1
	}, 10*time.Second, 10*time.Millisecond, "the result reached the store once it answered")
	require.EqualValues(t, 4, st.calls.Load(), "three refusals, then the result is stored")
}
