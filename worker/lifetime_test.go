package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/worker"
)

// loseRuns has n workers claim the queued job and die: each claim's lease
// runs out and the job is requeued, as the executor does.
func loseRuns(t *testing.T, st store.Store, n int) {
	t.Helper()
	ctx := t.Context()
	for range n {
		jobs, err := st.Queue().ClaimJobs(ctx, "dead-worker", 1, time.Millisecond)
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		require.Eventually(t, func() bool {
			k, err := st.Queue().RequeueExpired(ctx)
			return err == nil && k == 1
		}, 10*time.Second, 5*time.Millisecond)
	}
}

func TestLostRunsAreReported(t *testing.T) {
	t.Parallel()
	r, logs := runJobWith(t, "fine", "", func(st store.Store) { loseRuns(t, st, 1) }, nil)
	require.Equal(t, flow.StateSuccess, r.State)
	require.Equal(t, 1, r.Lost, "the run its dead worker never reported")
	for _, l := range logs {
		require.Equal(t, 1, l.AttemptNumber, "lines belong to the second attempt")
	}
}

func TestATaskThatKeepsCrashingItsWorkerFails(t *testing.T) {
	t.Parallel()
	r, _ := runJobWith(t, "fine", "", func(st store.Store) { loseRuns(t, st, worker.DefaultMaxLeaseExpiries) }, nil)
	require.Equal(t, flow.StateFailed, r.State)
	require.Contains(t, r.Error, "the worker running this task stopped 3 times; the task may crash the worker")
	require.Nil(t, r.Outputs, "the task did not run again")
	require.Equal(t, 2, r.Lost, "three runs: two lost, the last one failed")
}

// queueJob stores one execution with one queued job of task id.
func queueJob(t *testing.T, st store.Store, id string) *flow.Flow {
	t.Helper()
	ctx := t.Context()
	task := &flow.Task{ID: id, Type: "fake"}
	f := &flow.Flow{ID: "f", Namespace: "n", Revision: 1, Tasks: []*flow.Task{task}}
	now := time.Now()
	tr := &flow.TaskRun{ID: "tr1", ExecutionID: "ex1", Namespace: "n", FlowID: "f", TaskID: id, State: flow.NewStateInfo(flow.StateRunning, now)}
	ex := &flow.Execution{ID: "ex1", Namespace: "n", FlowID: "f", FlowRevision: 1, State: flow.NewStateInfo(flow.StateRunning, now), TaskRunList: []*flow.TaskRun{tr}}
	require.NoError(t, st.Executions().Create(ctx, ex))
	payload, err := json.Marshal(engine.Payload{Namespace: "n", FlowID: "f", Revision: 1, TaskID: id, TaskRun: tr, Attempt: 1, Vars: map[string]any{}})
	require.NoError(t, err)
	_, err = st.Executions().Save(ctx, store.SaveParams{Execution: ex, Version: 1, Jobs: []store.Job{{ID: "j1", ExecutionID: "ex1", TaskRunID: "tr1", Attempt: 1, Payload: payload}}})
	require.NoError(t, err)
	return f
}

// holdTasks' task says it started, then runs until cancelled.
type holdTasks struct{ started chan struct{} }

func (h holdTasks) Runnable(*flow.Task) (worker.Runnable, error) { return h, nil }

func (h holdTasks) Run(ctx context.Context, _ *worker.RunContext) (map[string]any, error) {
	close(h.started)
	<-ctx.Done()
	return nil, ctx.Err()
}

// releaseFails is a store whose queue cannot hand a job back.
type releaseFails struct{ store.Store }

func (s releaseFails) Queue() store.QueueStore { return failingQueue{s.Store.Queue()} }

type failingQueue struct{ store.QueueStore }

func (failingQueue) Release(context.Context, string, string) error {
	return errors.New("database is closed")
}

func TestShutdownPastGraceHandsJobsBack(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		wrap    func(store.Store) store.Store
		wantErr string
	}{
		{"handed back", func(s store.Store) store.Store { return s }, ""},
		{"the store refuses", func(s store.Store) store.Store { return releaseFails{s} }, "hand jobs back: job j1: database is closed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { st.Close() })
			f := queueJob(t, st, "holds")
			started := make(chan struct{})
			w := worker.New(worker.Options{Store: tt.wrap(st), Tasks: holdTasks{started}, Flows: fakeFlows{f}, Renderers: secretRenderer{},
				ID: "w1", Poll: 10 * time.Millisecond, Lease: time.Hour, TmpDir: t.TempDir()})
			require.NoError(t, w.Start(ctx))
			<-started
			grace, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			err = w.Stop(grace)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			jobs, err := st.Queue().ClaimJobs(ctx, "w2", 1, time.Hour)
			require.NoError(t, err)
			require.Len(t, jobs, 1, "queued again at once, not after its lease")
			require.Equal(t, 1, jobs[0].Lost)
			require.Zero(t, jobs[0].Expired, "a shutdown is not a crash")
			res, err := st.Queue().Results(ctx, "ex1")
			require.NoError(t, err)
			require.Empty(t, res, "no KILLED result was stored for it")
		})
	}
}
