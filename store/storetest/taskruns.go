package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

var taskRunTests = []test{
	{"DeltaWritesOnlyWhatItNames", testTaskRunDelta},
	{"DeltaAppendsAndRemoves", testTaskRunDeltaAppendRemove},
	{"DeltaConflictLosesNothing", testTaskRunDeltaConflict},
	{"FullSaveReplacesTaskRuns", testTaskRunFullSave},
	{"StateAlone", testExecutionState},
}

// testExecutionState: the state alone follows every save.
func testExecutionState(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	require.NoError(t, xs.Create(ctx, wideExecution("s", 3, clock.Now())))
	st, err := xs.State(ctx, "s")
	require.NoError(t, err)
	require.Equal(t, flow.StateRunning, st)
	e, v, err := xs.Get(ctx, "s")
	require.NoError(t, err)
	e.State.Set(flow.StateSuccess, clock.Now())
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, Delta: &store.TaskRunDelta{}})
	require.NoError(t, err)
	st, err = xs.State(ctx, "s")
	require.NoError(t, err)
	require.Equal(t, flow.StateSuccess, st)
	_, err = xs.State(ctx, "missing")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// wideExecution returns a RUNNING execution with n RUNNING task runs
// under one ForEach-like parent.
func wideExecution(id string, n int, now time.Time) *flow.Execution {
	e := newExecution(id, "acme", "wide", now)
	e.State.Set(flow.StateRunning, now)
	e.TaskRunList = append(e.TaskRunList, &flow.TaskRun{ID: id + "-each", ExecutionID: id, Namespace: "acme", FlowID: "wide",
		TaskID: "each", State: flow.NewStateInfo(flow.StateRunning, now), Items: []string{"a", "b"}})
	for i := range n - 1 {
		e.TaskRunList = append(e.TaskRunList, taskRun(e, fmt.Sprintf("%s-%04d", id, i), fmt.Sprint(i), now))
	}
	return e
}

func taskRun(e *flow.Execution, id, value string, now time.Time) *flow.TaskRun {
	return &flow.TaskRun{ID: id, ExecutionID: e.ID, Namespace: e.Namespace, FlowID: e.FlowID, TaskID: "ret",
		ParentTaskRunID: e.ID + "-each", Value: value, State: flow.NewStateInfo(flow.StateRunning, now)}
}

func succeed(tr *flow.TaskRun, out string, now time.Time) {
	tr.Attempts = append(tr.Attempts, flow.TaskRunAttempt{State: flow.NewStateInfo(flow.StateSuccess, now), WorkerID: "w"})
	tr.Outputs = map[string]any{"value": out, "n": int64(len(out))}
	tr.State.Set(flow.StateSuccess, now)
}

// testTaskRunDelta: a step that changes one of 1,000 task runs writes that
// one (and the header) and nothing else. The proof is a change made in
// memory to another task run and not named in the delta: it is not
// stored, so Save wrote only the task run it was told about.
func testTaskRunDelta(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	require.NoError(t, xs.Create(ctx, wideExecution("w", 1000, clock.Now())))
	e, v, err := xs.Get(ctx, "w")
	require.NoError(t, err)
	require.Len(t, e.TaskRunList, 1000)

	clock.Advance(time.Second)
	changed, unnamed := e.TaskRunList[500], e.TaskRunList[700]
	succeed(changed, "five hundred", clock.Now())
	e.Outputs = map[string]any{"header": "written"}
	want := cloneExecution(t, e)
	unnamed.Error = "changed in memory, not named in the delta"
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, Delta: &store.TaskRunDelta{Changed: []*flow.TaskRun{changed}}})
	require.NoError(t, err)

	got, _, err := xs.Get(ctx, "w")
	require.NoError(t, err)
	requireSameExecution(t, want, got)
	found, _, err := xs.Search(ctx, store.ExecutionQuery{FlowID: "wide"})
	require.NoError(t, err)
	require.Len(t, found, 1)
	requireSameExecution(t, want, found[0])
	latest, err := xs.Latest(ctx, []store.FlowRef{{Namespace: "acme", ID: "wide"}})
	require.NoError(t, err)
	require.Len(t, latest, 1)
	requireSameExecution(t, want, latest[0])
}

// testTaskRunDeltaAppendRemove: new task runs come after every stored one,
// whatever else the delta changes, and removed ones are gone (a restart
// drops task runs; the ones created after it still come last).
func testTaskRunDeltaAppendRemove(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	require.NoError(t, xs.Create(ctx, wideExecution("r", 10, clock.Now())))
	e, v, err := xs.Get(ctx, "r")
	require.NoError(t, err)

	clock.Advance(time.Second)
	succeed(e.TaskRunList[1], "one", clock.Now())
	a, b := taskRun(e, "r-new-a", "a", clock.Now()), taskRun(e, "r-new-b", "b", clock.Now())
	e.TaskRunList = append(e.TaskRunList, a, b)
	v, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, Delta: &store.TaskRunDelta{Changed: []*flow.TaskRun{e.TaskRunList[1], a, b}}})
	require.NoError(t, err)
	got, _, err := xs.Get(ctx, "r")
	require.NoError(t, err)
	requireSameExecution(t, e, got)

	removed := []string{e.TaskRunList[3].ID, e.TaskRunList[10].ID}
	kept := e.TaskRunList[:0]
	for _, tr := range e.TaskRunList {
		if tr.ID != removed[0] && tr.ID != removed[1] {
			kept = append(kept, tr)
		}
	}
	e.TaskRunList = kept
	c := taskRun(e, "r-new-c", "c", clock.Now())
	e.TaskRunList = append(e.TaskRunList, c)
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, Delta: &store.TaskRunDelta{Changed: []*flow.TaskRun{c}, Removed: removed}})
	require.NoError(t, err)
	got, _, err = xs.Get(ctx, "r")
	require.NoError(t, err)
	require.Len(t, got.TaskRunList, 11)
	requireSameExecution(t, e, got)
}

// testTaskRunDeltaConflict: a stale step's delta writes nothing; re-read
// and applied again, both steps' changes are kept.
func testTaskRunDeltaConflict(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	require.NoError(t, xs.Create(ctx, wideExecution("c", 100, clock.Now())))
	first, v, err := xs.Get(ctx, "c")
	require.NoError(t, err)
	second, _, err := xs.Get(ctx, "c")
	require.NoError(t, err)

	clock.Advance(time.Second)
	succeed(first.TaskRunList[10], "ten", clock.Now())
	_, err = xs.Save(ctx, store.SaveParams{Execution: first, Version: v, Delta: &store.TaskRunDelta{Changed: []*flow.TaskRun{first.TaskRunList[10]}}})
	require.NoError(t, err)

	succeed(second.TaskRunList[20], "twenty", clock.Now())
	extra := taskRun(second, "c-extra", "x", clock.Now())
	second.TaskRunList = append(second.TaskRunList, extra)
	_, err = xs.Save(ctx, store.SaveParams{Execution: second, Version: v, Delta: &store.TaskRunDelta{
		Changed: []*flow.TaskRun{second.TaskRunList[20], extra}, Removed: []string{second.TaskRunList[30].ID}}})
	require.ErrorIs(t, err, store.ErrConflict)
	got, v2, err := xs.Get(ctx, "c")
	require.NoError(t, err)
	requireSameExecution(t, first, got)

	// The loser steps again on a fresh read: nothing of either is lost.
	succeed(got.TaskRunList[20], "twenty", clock.Now())
	extra = taskRun(got, "c-extra", "x", clock.Now())
	got.TaskRunList = append(got.TaskRunList, extra)
	_, err = xs.Save(ctx, store.SaveParams{Execution: got, Version: v2, Delta: &store.TaskRunDelta{Changed: []*flow.TaskRun{got.TaskRunList[20], extra}}})
	require.NoError(t, err)
	final, _, err := xs.Get(ctx, "c")
	require.NoError(t, err)
	requireSameExecution(t, got, final)
	require.Equal(t, flow.StateSuccess, final.TaskRunList[10].State.Current)
	require.Equal(t, flow.StateSuccess, final.TaskRunList[20].State.Current)
	require.Equal(t, "c-extra", final.TaskRunList[100].ID)
}

// testTaskRunFullSave: a Save without a delta stores the list as given.
func testTaskRunFullSave(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	require.NoError(t, xs.Create(ctx, wideExecution("f", 5, clock.Now())))
	e, v, err := xs.Get(ctx, "f")
	require.NoError(t, err)
	e.TaskRunList = append([]*flow.TaskRun{e.TaskRunList[0]}, e.TaskRunList[3:]...)
	succeed(e.TaskRunList[1], "three", clock.Now())
	e.TaskRunList = append(e.TaskRunList, taskRun(e, "f-new", "n", clock.Now()))
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v})
	require.NoError(t, err)
	got, _, err := xs.Get(ctx, "f")
	require.NoError(t, err)
	requireSameExecution(t, e, got)

	require.NoError(t, xs.Delete(ctx, "f"))
	require.NoError(t, xs.Create(ctx, wideExecution("f", 2, clock.Now())), "a deleted execution leaves no task runs behind")
	got, _, err = xs.Get(ctx, "f")
	require.NoError(t, err)
	require.Len(t, got.TaskRunList, 2)
}

// cloneExecution deep-copies e through its JSON form.
func cloneExecution(t *testing.T, e *flow.Execution) *flow.Execution {
	t.Helper()
	b, err := json.Marshal(e)
	require.NoError(t, err)
	var c flow.Execution
	require.NoError(t, flow.DecodeJSON(b, &c))
	return &c
}
