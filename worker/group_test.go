package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/worker"
)

// groupTasks are the tasks of a group job: the group writes seed.txt
// before its children and lists the directory after them; "write" writes
// a file, "read" reads it back with the outputs it sees, "fail" fails.
type groupTasks struct{}

func (groupTasks) Runnable(t *flow.Task) (worker.Runnable, error) {
	if t.ID == "group" {
		return groupTask{}, nil
	}
	return childTask{t.ID}, nil
}

type groupTask struct{}

func (groupTask) Run(_ context.Context, rc *worker.RunContext) (map[string]any, error) {
	return nil, os.WriteFile(filepath.Join(rc.TmpDir, "seed.txt"), []byte("seed"), 0o600)
}

func (groupTask) Collect(_ context.Context, rc *worker.RunContext) (map[string]any, error) {
	entries, err := os.ReadDir(rc.TmpDir)
	if err != nil {
		return nil, err
	}
	var names []any
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return map[string]any{"files": names}, nil
}

type childTask struct{ id string }

func (c childTask) Run(_ context.Context, rc *worker.RunContext) (map[string]any, error) {
	switch c.id {
	case "write":
		rc.Log("INFO", "writing")
		return map[string]any{"wrote": rc.TaskRun.ID}, os.WriteFile(filepath.Join(rc.TmpDir, "a.txt"), []byte("from write"), 0o600)
	case "read":
		b, err := os.ReadFile(filepath.Join(rc.TmpDir, "a.txt"))
		if err != nil {
			return nil, err
		}
		outs, _ := rc.Vars["outputs"].(map[string]any)
		_, stale := os.Stat(filepath.Join(rc.TmpDir, "stale.txt"))
		return map[string]any{"content": string(b), "before": outs["write"], "staleGone": errors.Is(stale, os.ErrNotExist)}, nil
	case "fail":
		return nil, errors.New("child failed")
	case "flaky":
		if rc.Attempt < 3 {
			return nil, fmt.Errorf("attempt %d failed", rc.Attempt)
		}
		_, err := os.Stat(filepath.Join(rc.TmpDir, "a.txt"))
		return map[string]any{"attempt": rc.Attempt, "sawWrite": err == nil}, nil
	}
	return map[string]any{"ran": true}, nil
}

// runGroupJob queues one group job whose children are ids and returns
// the result the worker stored and its log.
func runGroupJob(t *testing.T, ids []string, beforeStart func(st store.Store, tmp string)) (engine.Result, []flow.LogEntry, string) {
	return runGroupJobRetry(t, ids, nil, beforeStart)
}

func runGroupJobRetry(t *testing.T, ids []string, retry map[string]any, beforeStart func(st store.Store, tmp string)) (engine.Result, []flow.LogEntry, string) {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	group := &flow.Task{ID: "group", Type: "fake-group"}
	f := &flow.Flow{ID: "f", Namespace: "n", Revision: 1, Tasks: []*flow.Task{group}}
	now := time.Now()
	tr := &flow.TaskRun{ID: "tr1", ExecutionID: "ex1", Namespace: "n", FlowID: "f", TaskID: "group", State: flow.NewStateInfo(flow.StateRunning, now)}
	var children []engine.GroupChild
	for i, id := range ids {
		f.Tasks = append(f.Tasks, &flow.Task{ID: id, Type: "fake"})
		children = append(children, engine.GroupChild{TaskID: id, TaskRun: &flow.TaskRun{ID: "c" + string(rune('0'+i)), ExecutionID: "ex1", Namespace: "n", FlowID: "f", TaskID: id, ParentTaskRunID: "tr1"}, Retry: retry})
	}
	ex := &flow.Execution{ID: "ex1", Namespace: "n", FlowID: "f", FlowRevision: 1, State: flow.NewStateInfo(flow.StateRunning, now), TaskRunList: []*flow.TaskRun{tr}}
	require.NoError(t, st.Executions().Create(ctx, ex))
	payload, err := json.Marshal(engine.Payload{Namespace: "n", FlowID: "f", Revision: 1, TaskID: "group", TaskRun: tr, Attempt: 1, Vars: map[string]any{"outputs": map[string]any{}}, Children: children})
	require.NoError(t, err)
	_, err = st.Executions().Save(ctx, store.SaveParams{Execution: ex, Version: 1, Jobs: []store.Job{{ID: "j1", ExecutionID: "ex1", TaskRunID: "tr1", Attempt: 1, Payload: payload}}})
	require.NoError(t, err)
	tmp := t.TempDir()
	if beforeStart != nil {
		beforeStart(st, tmp)
	}
	w := worker.New(worker.Options{Store: st, Tasks: groupTasks{}, Flows: fakeFlows{f}, Renderers: secretRenderer{}, Threads: 1, Poll: 10 * time.Millisecond, Lease: time.Hour, TmpDir: tmp})
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = w.Stop(ctx)
	})
	var res []store.Job
	require.Eventually(t, func() bool {
		res, err = st.Queue().Results(ctx, "ex1")
		return err == nil && len(res) == 1
	}, 10*time.Second, 10*time.Millisecond)
	var r engine.Result
	require.NoError(t, flow.DecodeJSON(res[0].Result, &r))
	logs, err := st.Logs().List(ctx, store.LogQuery{ExecutionID: "ex1"})
	require.NoError(t, err)
	return r, logs, tmp
}

// WorkingDirectoryTest#success: one job runs the children in order in one
// directory; each reports its own result, sees the files and outputs of
// those before it, and logs under its own task run.
func TestGroupChildrenShareTheDirectory(t *testing.T) {
	t.Parallel()
	r, logs, tmp := runGroupJob(t, []string{"write", "read"}, nil)
	require.Equal(t, flow.StateSuccess, r.State)
	require.Len(t, r.Children, 2)
	require.Equal(t, "c0", r.Children[0].TaskRunID)
	require.Equal(t, "write", r.Children[0].TaskID)
	require.Equal(t, flow.StateSuccess, r.Children[1].State)
	require.Equal(t, "from write", r.Children[1].Outputs["content"])
	require.Equal(t, map[string]any{"wrote": "c0"}, ordered.Plain(r.Children[1].Outputs["before"]), "outputs.write is there for the next child")
	require.ElementsMatch(t, []any{"seed.txt", "a.txt"}, r.Outputs["files"], "Collect sees what the children left")
	require.NotEmpty(t, logs)
	require.Equal(t, "c0", logs[0].TaskRunID)
	require.Equal(t, "write", logs[0].TaskID)
	_, err := os.Stat(filepath.Join(tmp, "j1"))
	require.ErrorIs(t, err, os.ErrNotExist, "the group's directory is removed after the job")
}

// Worker#handleTask: the first child that fails (without allowFailure)
// stops the group; the rest does not run.
func TestGroupStopsAtAFailedChild(t *testing.T) {
	t.Parallel()
	r, _, _ := runGroupJob(t, []string{"write", "fail", "read"}, nil)
	require.Equal(t, flow.StateFailed, r.State)
	require.Len(t, r.Children, 2)
	require.Equal(t, flow.StateFailed, r.Children[1].State)
	require.Equal(t, "child failed", r.Children[1].Error)
}

// A worker lost mid-group loses the whole job: it runs again from the
// first child in an empty directory, reported as one lost attempt.
func TestALostGroupRunsAgainFromAnEmptyDirectory(t *testing.T) {
	t.Parallel()
	r, _, _ := runGroupJob(t, []string{"write", "read"}, func(st store.Store, tmp string) {
		loseRuns(t, st, 1)
		// what the lost run left on this host
		require.NoError(t, os.MkdirAll(filepath.Join(tmp, "j1"), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(tmp, "j1", "stale.txt"), []byte("x"), 0o600))
	})
	require.Equal(t, flow.StateSuccess, r.State)
	require.Equal(t, 1, r.Lost)
	require.Len(t, r.Children, 2)
	require.Equal(t, true, r.Children[1].Outputs["staleGone"])
}

// A child's retry policy runs it again in the group's directory, on the
// same worker, before the next child; its failed attempts come with it.
func TestGroupRetriesAChildInPlace(t *testing.T) {
	t.Parallel()
	retry := map[string]any{"type": "constant", "interval": "PT0.01S", "maxAttempt": 3}
	r, logs, _ := runGroupJobRetry(t, []string{"write", "flaky", "read"}, retry, nil)
	require.Equal(t, flow.StateSuccess, r.State, "%+v", r.Children)
	require.Len(t, r.Children, 3)
	flaky := r.Children[1]
	require.Equal(t, flow.StateSuccess, flaky.State)
	require.Len(t, flaky.Retried, 2, "two failed attempts before it succeeded")
	require.Equal(t, flow.StateFailed, flaky.Retried[0].State)
	require.Equal(t, "attempt 1 failed", flaky.Retried[0].Error)
	require.Equal(t, map[string]any{"attempt": int64(3), "sawWrite": true}, flaky.Outputs)
	var numbers []int
	for _, l := range logs {
		if l.TaskID == "flaky" {
			numbers = append(numbers, l.AttemptNumber)
		}
	}
	require.Equal(t, []int{0, 1}, numbers, "each failed attempt logs under its own number")
}
