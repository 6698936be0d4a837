package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// fakeTask does what its id says.
type fakeTask struct{ id string }

func (f fakeTask) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	switch f.id {
	case "panics":
		panic("boom with s3cret-value")
	case "sleeps":
		<-ctx.Done()
		return nil, ctx.Err()
	case "naps":
		napping <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	case "streams":
		rc.Log("INFO", "first line")
		select {
		case <-release:
		case <-ctx.Done():
		}
		rc.Log("INFO", "last line")
		return nil, nil
	case "measures":
		v, err := rc.Render(ctx, "{{ pw }}")
		if err != nil {
			return nil, err
		}
		rc.Metric(flow.Metric{Name: "rows", Type: "counter", Value: 3, Tags: map[string]string{"key": v}})
		rc.Metric(flow.Metric{Name: "load", Type: "timer", Value: 0.5})
		return nil, nil
	case "leaks":
		v, err := rc.Render(ctx, "{{ pw }}")
		if err != nil {
			return nil, err
		}
		rc.Log("INFO", "the value is "+v)
		rc.SetLabels([]flow.Label{{Key: "pw", Value: "is " + v}})
		return map[string]any{"echo": v}, errors.New("failed with " + v)
	}
	return map[string]any{"ok": true}, nil
}

// release lets the "streams" task finish; the test that runs it makes a
// new one each time (a closed one would let the next run's task end at
// once, under -count).
var release chan struct{}

// napping tells that a "naps" task started.
var napping = make(chan struct{}, 1)

type fakeTasks struct{}

func (fakeTasks) Runnable(t *flow.Task) (worker.Runnable, error) { return fakeTask{t.ID}, nil }

type fakeFlows struct{ f *flow.Flow }

func (ff fakeFlows) Get(context.Context, string, string, int) (*flow.Flow, error) { return ff.f, nil }

// secretRenderer renders only {{ pw }}, as if it were a secret, and
// teaches it to the job's masker.
type secretRenderer struct{ learn func(string) }

func (r secretRenderer) ForJob(learn func(string)) worker.Renderer { return secretRenderer{learn} }
func (r secretRenderer) Render(_ context.Context, tmpl string, _ map[string]any) (string, error) {
	if tmpl == "{{ pw }}" {
		r.learn("s3cret-value")
		return "s3cret-value", nil
	}
	return tmpl, nil
}
func (r secretRenderer) RenderTyped(ctx context.Context, tmpl string, v map[string]any) (any, error) {
	return r.Render(ctx, tmpl, v)
}
func (r secretRenderer) RenderValue(_ context.Context, v any, _ map[string]any) (any, error) {
	return v, nil
}

// runJob queues one job for task id and returns the result the worker
// stored and the log lines it wrote.
func runJob(t *testing.T, id, timeout string) (engine.Result, []flow.LogEntry) {
	return runJobWatching(t, id, timeout, nil)
}

func runJobWatching(t *testing.T, id, timeout string, whileRunning func(st store.Store, w *worker.Worker)) (engine.Result, []flow.LogEntry) {
	return runJobWith(t, id, timeout, nil, whileRunning)
}

// runJobWith is runJobWatching with a hook run after the job is queued and
// before the worker starts.
func runJobWith(t *testing.T, id, timeout string, beforeStart func(st store.Store), whileRunning func(st store.Store, w *worker.Worker)) (engine.Result, []flow.LogEntry) {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	task := &flow.Task{ID: id, Type: "fake", Timeout: timeout}
	f := &flow.Flow{ID: "f", Namespace: "n", Revision: 1, Tasks: []*flow.Task{task}}
	now := time.Now()
	tr := &flow.TaskRun{ID: "tr1", ExecutionID: "ex1", Namespace: "n", FlowID: "f", TaskID: id, State: flow.NewStateInfo(flow.StateRunning, now)}
	ex := &flow.Execution{ID: "ex1", Namespace: "n", FlowID: "f", FlowRevision: 1, State: flow.NewStateInfo(flow.StateRunning, now), TaskRunList: []*flow.TaskRun{tr}}
	require.NoError(t, st.Executions().Create(ctx, ex))
	payload, err := json.Marshal(engine.Payload{Namespace: "n", FlowID: "f", Revision: 1, TaskID: id, TaskRun: tr, Attempt: 1, Vars: map[string]any{}})
	require.NoError(t, err)
	_, err = st.Executions().Save(ctx, store.SaveParams{Execution: ex, Version: 1, Jobs: []store.Job{{ID: "j1", ExecutionID: "ex1", TaskRunID: "tr1", Attempt: 1, Payload: payload}}})
	require.NoError(t, err)
	if beforeStart != nil {
		beforeStart(st)
	}
	// A lease of an hour: no heartbeat comes during a test, so a kill is
	// seen only through the wake-up or the claim.
	w := worker.New(worker.Options{Store: st, Tasks: fakeTasks{}, Flows: fakeFlows{f}, Renderers: secretRenderer{}, Threads: 2, Poll: 10 * time.Millisecond, Lease: time.Hour, TmpDir: t.TempDir()})
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = w.Stop(ctx)
	})
	if whileRunning != nil {
		whileRunning(st, w)
	}
	var res []store.Job
	require.Eventually(t, func() bool {
		res, err = st.Queue().Results(ctx, "ex1")
		return err == nil && len(res) == 1
	}, 10*time.Second, 10*time.Millisecond)
	var r engine.Result
	require.NoError(t, flow.DecodeJSON(res[0].Result, &r))
	logs, err := st.Logs().List(ctx, store.LogQuery{ExecutionID: "ex1"})
	require.NoError(t, err)
	return r, logs
}

func TestWorkerOutcomes(t *testing.T) {
	t.Parallel()
	t.Run("success", func(t *testing.T) {
		t.Parallel()
		r, _ := runJob(t, "fine", "")
		require.Equal(t, flow.StateSuccess, r.State)
		require.Equal(t, map[string]any{"ok": true}, r.Outputs)
	})
	t.Run("a panic fails the task run, not the worker", func(t *testing.T) {
		t.Parallel()
		r, _ := runJob(t, "panics", "")
		require.Equal(t, flow.StateFailed, r.State)
		require.Contains(t, r.Error, "panic")
		require.NotContains(t, r.Error, "goroutine", "no stack trace reaches the user")
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		r, _ := runJob(t, "sleeps", "PT0.2S")
		require.Equal(t, flow.StateFailed, r.State)
		require.Contains(t, r.Error, "timed out after PT0.2S")
	})
	t.Run("a killed job back in the queue ends at once", func(t *testing.T) {
		// A kill removes queued jobs outright (storetest's CancelJobs); a
		// running one is flagged, and if its worker dies the flag comes
		// back with it from the queue: the next worker does not run it.
		t.Parallel()
		r, _ := runJobWith(t, "sleeps", "", func(st store.Store) {
			ctx := t.Context()
			_, err := st.Queue().ClaimJobs(ctx, "dead-worker", 1, time.Millisecond)
			require.NoError(t, err)
			ex, ver, err := st.Executions().Get(ctx, "ex1")
			require.NoError(t, err)
			_, err = st.Executions().Save(ctx, store.SaveParams{Execution: ex, Version: ver, CancelJobs: []string{"j1"}})
			require.NoError(t, err)
			require.Eventually(t, func() bool {
				n, err := st.Queue().RequeueExpired(ctx)
				require.NoError(t, err)
				return n == 1
			}, 10*time.Second, 5*time.Millisecond)
		}, nil)
		require.Equal(t, flow.StateKilled, r.State)
	})
	t.Run("a job killed while its worker stops ends at once", func(t *testing.T) {
		t.Parallel()
		r, _ := runJobWatching(t, "naps", "", func(st store.Store, w *worker.Worker) {
			<-napping
			stopped := make(chan error, 1)
			go func() { stopped <- w.Stop(context.Background()) }() // no deadline: it waits for the job
			ex, ver, err := st.Executions().Get(t.Context(), "ex1")
			require.NoError(t, err)
			_, err = st.Executions().Save(t.Context(), store.SaveParams{Execution: ex, Version: ver, CancelJobs: []string{"j1"}})
			require.NoError(t, err)
			select {
			case err := <-stopped:
				require.NoError(t, err, "the job ended, so Stop did not need its deadline")
			case <-time.After(10 * time.Second):
				t.Fatal("the stopping worker did not stop the killed job")
			}
		})
		require.Equal(t, flow.StateKilled, r.State)
	})
	t.Run("metrics are kept with the attempt's result, masked", func(t *testing.T) {
		t.Parallel()
		r, _ := runJob(t, "measures", "")
		require.Equal(t, flow.StateSuccess, r.State)
		require.Len(t, r.Metrics, 2)
		require.Equal(t, "rows", r.Metrics[0].Name)
		require.Equal(t, 3.0, r.Metrics[0].Value)
		require.Equal(t, map[string]string{"key": "******"}, r.Metrics[0].Tags)
		require.Equal(t, "timer", r.Metrics[1].Type)
		require.False(t, r.Metrics[1].Timestamp.IsZero())
	})
	t.Run("secrets are masked in logs, outputs and errors", func(t *testing.T) {
		t.Parallel()
		r, logs := runJob(t, "leaks", "")
		require.Equal(t, flow.StateFailed, r.State)
		require.Equal(t, "failed with ******", r.Error)
		require.Nil(t, r.Outputs, "a failed attempt keeps no outputs")
		raw, _ := json.Marshal(logs)
		require.NotContains(t, string(raw), "s3cret")
		require.Contains(t, string(raw), "the value is ******")
		require.Equal(t, []flow.Label{{Key: "pw", Value: "is ******"}}, r.Labels, "labels are stored with the execution")
	})
}

// TestLogsAreStoredWhileTheTaskRuns checks that a follower sees a long
// task's lines before it ends.
func TestLogsAreStoredWhileTheTaskRuns(t *testing.T) {
	t.Parallel()
	release = make(chan struct{})
	_, logs := runJobWatching(t, "streams", "", func(st store.Store, _ *worker.Worker) {
		require.Eventually(t, func() bool {
			logs, err := st.Logs().List(t.Context(), store.LogQuery{ExecutionID: "ex1"})
			return err == nil && len(logs) == 1 && logs[0].Message == "first line"
		}, 5*time.Second, 20*time.Millisecond)
		res, err := st.Queue().Results(t.Context(), "ex1")
		require.NoError(t, err)
		require.Empty(t, res, "the task is still running")
		close(release)
	})
	require.Len(t, logs, 2)
	require.Equal(t, []string{"first line", "last line"}, []string{logs[0].Message, logs[1].Message})
}

// TestFreedThreadClaimsAtOnce: with one thread and no poll to speak of, a
// job queued behind a running one starts when the thread frees up, woken
// by that alone.
func TestFreedThreadClaimsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	f := &flow.Flow{ID: "f", Namespace: "n", Revision: 1, Tasks: []*flow.Task{{ID: "fine", Type: "fake"}}}
	now := time.Now()
	ex := &flow.Execution{ID: "ex1", Namespace: "n", FlowID: "f", FlowRevision: 1, State: flow.NewStateInfo(flow.StateRunning, now)}
	var jobs []store.Job
	for i := range 5 {
		tr := &flow.TaskRun{ID: fmt.Sprintf("tr%d", i), ExecutionID: "ex1", Namespace: "n", FlowID: "f", TaskID: "fine", State: flow.NewStateInfo(flow.StateRunning, now)}
		ex.TaskRunList = append(ex.TaskRunList, tr)
		payload, err := json.Marshal(engine.Payload{Namespace: "n", FlowID: "f", Revision: 1, TaskID: "fine", TaskRun: tr, Attempt: 1, Vars: map[string]any{}})
		require.NoError(t, err)
		jobs = append(jobs, store.Job{ID: "j" + tr.ID, ExecutionID: "ex1", TaskRunID: tr.ID, Attempt: 1, Payload: payload})
	}
	require.NoError(t, st.Executions().Create(ctx, ex))
	_, err = st.Executions().Save(ctx, store.SaveParams{Execution: ex, Version: 1, Jobs: jobs})
	require.NoError(t, err)

	w := worker.New(worker.Options{Store: st, Tasks: fakeTasks{}, Flows: fakeFlows{f}, Renderers: secretRenderer{}, Threads: 1, Poll: time.Hour, Lease: time.Hour, TmpDir: t.TempDir()})
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() { _ = w.Stop(context.Background()) })
	require.Eventually(t, func() bool {
		res, err := st.Queue().Results(ctx, "ex1")
		return err == nil && len(res) == len(jobs)
	}, time.Minute, 10*time.Millisecond, "every job ran on the one thread, each claimed as the last one finished")
}
