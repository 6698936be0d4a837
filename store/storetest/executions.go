package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/store"
)

var executionTests = []test{
	{"CreateGetSave", testExecutionCreateGetSave},
	{"SaveIsAtomic", testExecutionSaveAtomic},
	{"ConcurrentSave", testExecutionConcurrentSave},
	{"SaveEnqueuesAndCreates", testExecutionSaveEnqueues},
	{"Search", testExecutionSearch},
	{"CountActive", testExecutionCountActive},
	{"Latest", testExecutionLatest},
	{"Daily", testExecutionDaily},
	{"Delete", testExecutionDelete},
	{"NumbersKeepTheirType", testExecutionNumbers},
	{"MapOrderSurvives", testExecutionMapOrder},
}

// testExecutionMapOrder checks that the user's maps in an execution's
// documents keep their keys' order through the store, as Kestra's
// LinkedHashMap does through its repository: `toJson` of an output, and
// the API's JSON, read the same after the executor reloads it.
func testExecutionMapOrder(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	doc := func() *ordered.Map {
		v, err := ordered.Decode([]byte(`{"zeta":1,"alpha":{"y":[{"q":1,"p":2}],"x":2.5},"mid":"m"}`))
		require.NoError(t, err)
		return v.(*ordered.Map)
	}
	e := newExecution("ord", "acme", "o", clock.Now())
	e.Inputs = map[string]any{"json": doc()}
	e.Outputs = map[string]any{"out": doc()}
	e.Trigger = &flow.ExecutionTrigger{ID: "hook", Type: "io.kestra.plugin.core.trigger.Webhook", Variables: map[string]any{"body": doc()}}
	e.TaskRunList = []*flow.TaskRun{{ID: "tr", ExecutionID: "ord", TaskID: "t", State: flow.NewStateInfo(flow.StateSuccess, clock.Now()),
		Outputs: map[string]any{"values": doc()}}}
	require.NoError(t, xs.Create(ctx, e))
	got, _, err := xs.Get(ctx, "ord")
	require.NoError(t, err)
	const want = `{"zeta":1,"alpha":{"y":[{"q":1,"p":2}],"x":2.5},"mid":"m"}`
	for name, v := range map[string]any{
		"inputs": got.Inputs["json"], "outputs": got.Outputs["out"],
		"trigger variables": got.Trigger.Variables["body"], "task run outputs": got.TaskRunList[0].Outputs["values"],
	} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		require.Equal(t, want, string(b), "%s lost their order", name)
	}
}

// testExecutionNumbers checks that integers come back as int64 and
// fractions as float64, in inputs, outputs and task run outputs: an INT
// input must still print 5, not 5.0, once the executor reloads it.
func testExecutionNumbers(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	e := newExecution("num", "acme", "n", clock.Now())
	e.Inputs = map[string]any{"i": int64(5), "f": 1.5, "whole": 2.0, "list": []any{int64(1), 2.25}}
	e.Outputs = map[string]any{"count": int64(3)}
	e.TaskRunList = []*flow.TaskRun{{ID: "tr", ExecutionID: "num", TaskID: "t", State: flow.NewStateInfo(flow.StateSuccess, clock.Now()),
		Outputs: map[string]any{"nested": map[string]any{"n": int64(7)}}}}
	require.NoError(t, xs.Create(ctx, e))
	got, _, err := xs.Get(ctx, "num")
	require.NoError(t, err)
	require.Equal(t, int64(5), got.Inputs["i"])
	require.Equal(t, 1.5, got.Inputs["f"])
	require.Equal(t, []any{int64(1), 2.25}, got.Inputs["list"])
	require.Equal(t, int64(3), got.Outputs["count"])
	require.Equal(t, map[string]any{"n": int64(7)}, ordered.Plain(got.TaskRunList[0].Outputs["nested"]))
}

func testExecutionCreateGetSave(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	e := newExecution("e1", "acme", "hello", clock.Now())
	e.Labels = []flow.Label{{Key: "team", Value: "data"}}
	require.NoError(t, xs.Create(ctx, e))
	require.ErrorIs(t, xs.Create(ctx, newExecution("e1", "acme", "hello", clock.Now())), store.ErrConflict)

	got, v, err := xs.Get(ctx, "e1")
	require.NoError(t, err)
	require.Equal(t, int64(1), v)
	requireSameExecution(t, e, got)
	_, _, err = xs.Get(ctx, "missing")
	require.ErrorIs(t, err, store.ErrNotFound)

	got.State.Set(flow.StateRunning, clock.Now().Add(time.Second))
	got.Outputs = map[string]any{"x": "y"}
	v2, err := xs.Save(ctx, store.SaveParams{Execution: got, Version: v})
	require.NoError(t, err)
	require.Equal(t, int64(2), v2)
	again, v3, err := xs.Get(ctx, "e1")
	require.NoError(t, err)
	require.Equal(t, v2, v3)
	requireSameExecution(t, got, again)

	_, err = xs.Save(ctx, store.SaveParams{Execution: got, Version: v})
	require.ErrorIs(t, err, store.ErrConflict, "a stale version loses")
	stale, _, err := xs.Get(ctx, "e1")
	require.NoError(t, err)
	requireSameExecution(t, got, stale)

	_, err = xs.Save(ctx, store.SaveParams{Execution: newExecution("ghost", "acme", "hello", clock.Now()), Version: 1})
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, xs.MarkDirty(ctx, "ghost"), store.ErrNotFound)
	require.NoError(t, xs.MarkDirty(ctx, "e1"))
}

// testExecutionConcurrentSave proves optimistic concurrency under a real
// race: of several saves from one version exactly one lands, with its jobs.
func testExecutionConcurrentSave(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	require.NoError(t, xs.Create(ctx, newExecution("e1", "acme", "f", clock.Now())))
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			e, _, err := xs.Get(ctx, "e1")
			if err != nil {
				errs[i] = err
				return
			}
			e.Outputs = map[string]any{"winner": float64(i)}
			_, errs[i] = xs.Save(ctx, store.SaveParams{Execution: e, Version: 1,
				Jobs: []store.Job{{ID: fmt.Sprintf("job-%d", i), ExecutionID: "e1", TaskRunID: "tr", Attempt: 1}}})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "two saves from one version both landed")
			winner = i
			continue
		}
		require.ErrorIs(t, err, store.ErrConflict)
	}
	require.NotEqual(t, -1, winner, "one save lands")
	got, v, err := xs.Get(ctx, "e1")
	require.NoError(t, err)
	require.Equal(t, int64(2), v)
	require.EqualValues(t, winner, got.Outputs["winner"])
	jobs, err := s.Queue().ClaimJobs(ctx, "w", 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{fmt.Sprintf("job-%d", winner)}, jobIDs(jobs), "only the winner's jobs exist")
}

// testExecutionSaveAtomic proves a failing part of a Save writes nothing:
// a subflow execution whose id is taken makes the whole step roll back.
func testExecutionSaveAtomic(t *testing.T, s store.Store) {
	ctx, xs, q, clock := t.Context(), s.Executions(), s.Queue(), Clock(t)
	require.NoError(t, xs.Create(ctx, newExecution("parent", "acme", "p", clock.Now())))
	require.NoError(t, xs.Create(ctx, newExecution("taken", "acme", "c", clock.Now())))
	e, v, err := xs.Get(ctx, "parent")
	require.NoError(t, err)
	e.State.Set(flow.StateRunning, clock.Now())
	_, err = xs.Save(ctx, store.SaveParams{
		Execution:     e,
		Version:       v,
		Jobs:          []store.Job{{ID: "j1", ExecutionID: "parent", TaskRunID: "tr1", Attempt: 1, Payload: []byte(`{}`)}},
		NewExecutions: []*flow.Execution{newExecution("fresh", "acme", "c", clock.Now()), newExecution("taken", "acme", "c", clock.Now())},
	})
	require.Error(t, err)
	got, gv, err := xs.Get(ctx, "parent")
	require.NoError(t, err)
	require.Equal(t, v, gv, "the version did not move")
	require.Equal(t, flow.StateCreated, got.State.Current)
	_, _, err = xs.Get(ctx, "fresh")
	require.ErrorIs(t, err, store.ErrNotFound, "no new execution of a failed save")
	jobs, err := q.ClaimJobs(ctx, "w", 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, jobs, "no job of a failed save")
}

func testExecutionSaveEnqueues(t *testing.T, s store.Store) {
	ctx, xs, q, clock := t.Context(), s.Executions(), s.Queue(), Clock(t)
	require.NoError(t, xs.Create(ctx, newExecution("parent", "acme", "p", clock.Now())))
	ids, err := q.ClaimExecutions(ctx, "exec-1", 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"parent"}, ids)

	e, v, err := xs.Get(ctx, "parent")
	require.NoError(t, err)
	e.State.Set(flow.StateRunning, clock.Now())
	child := newExecution("child", "acme", "c", clock.Now())
	child.ParentID = "parent"
	_, err = xs.Save(ctx, store.SaveParams{
		Execution: e, Version: v, Owner: "exec-1",
		Jobs: []store.Job{
			{ID: "j1", ExecutionID: "parent", TaskRunID: "tr1", Attempt: 1, Payload: []byte(`{"task":"a"}`)},
			{ID: "j2", ExecutionID: "parent", TaskRunID: "tr2", Attempt: 1, Payload: []byte(`{"task":"b"}`)},
		},
		NewExecutions: []*flow.Execution{child},
	})
	require.NoError(t, err)

	jobs, err := q.ClaimJobs(ctx, "w", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 2)
	require.Equal(t, "j1", jobs[0].ID)
	require.Equal(t, "j2", jobs[1].ID)
	require.Equal(t, "parent", jobs[0].ExecutionID)
	require.Equal(t, "tr1", jobs[0].TaskRunID)
	require.Equal(t, 1, jobs[0].Attempt)
	require.JSONEq(t, `{"task":"a"}`, string(jobs[0].Payload))

	ids, err = q.ClaimExecutions(ctx, "exec-2", 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"child"}, ids, "the new execution is claimable; the saved one is released and clean")
	got, _, err := xs.Get(ctx, "child")
	require.NoError(t, err)
	requireSameExecution(t, child, got)
}

func testExecutionSearch(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	base := clock.Now()
	mk := func(id, ns, fl string, minutes int, st flow.State, parent string, labels ...flow.Label) {
		e := newExecution(id, ns, fl, base.Add(time.Duration(minutes)*time.Minute))
		e.State.Set(st, base.Add(time.Duration(minutes)*time.Minute+time.Second))
		e.Labels, e.ParentID = labels, parent
		require.NoError(t, xs.Create(ctx, e))
	}
	team := flow.Label{Key: "team", Value: "data"}
	env := flow.Label{Key: "env", Value: "prod"}
	mk("a", "acme", "load", 0, flow.StateSuccess, "", team, env)
	mk("b", "acme.team", "load", 1, flow.StateFailed, "", team)
	mk("c", "acme", "report", 2, flow.StateRunning, "a", env)
	mk("d", "acmex", "load", 3, flow.StateSuccess, "")
	mk("e", "other", "x", 4, flow.StateRunning, "", flow.Label{Key: "team", Value: "ops"})

	ids := func(es []*flow.Execution) []string {
		out := make([]string, len(es))
		for i, e := range es {
			out[i] = e.ID
		}
		return out
	}
	tests := []struct {
		name  string
		q     store.ExecutionQuery
		want  []string
		total int
	}{
		{"all, newest first", store.ExecutionQuery{}, []string{"e", "d", "c", "b", "a"}, 5},
		{"namespace and children", store.ExecutionQuery{Namespace: "acme"}, []string{"c", "b", "a"}, 3},
		{"flow", store.ExecutionQuery{Namespace: "acme", FlowID: "load"}, []string{"b", "a"}, 2},
		{"states", store.ExecutionQuery{States: []flow.State{flow.StateSuccess, flow.StateFailed}}, []string{"d", "b", "a"}, 3},
		{"one label", store.ExecutionQuery{Labels: []flow.Label{team}}, []string{"b", "a"}, 2},
		{"every label must match", store.ExecutionQuery{Labels: []flow.Label{team, env}}, []string{"a"}, 1},
		{"label value must match", store.ExecutionQuery{Labels: []flow.Label{{Key: "team", Value: "ops"}}}, []string{"e"}, 1},
		{"parent", store.ExecutionQuery{ParentID: "a"}, []string{"c"}, 1},
		{"from", store.ExecutionQuery{From: ptr(base.Add(2 * time.Minute))}, []string{"e", "d", "c"}, 3},
		{"to", store.ExecutionQuery{To: ptr(base.Add(time.Minute))}, []string{"b", "a"}, 2},
		{"from and to", store.ExecutionQuery{From: ptr(base.Add(time.Minute)), To: ptr(base.Add(3 * time.Minute))}, []string{"d", "c", "b"}, 3},
		{"page 1", store.ExecutionQuery{Page: 1, Size: 2}, []string{"e", "d"}, 5},
		{"page 3", store.ExecutionQuery{Page: 3, Size: 2}, []string{"a"}, 5},
		{"nothing", store.ExecutionQuery{FlowID: "none"}, []string{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := xs.Search(ctx, tc.q)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(got))
			require.Equal(t, tc.total, total)
		})
	}
	got, _, err := xs.Search(ctx, store.ExecutionQuery{FlowID: "report"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	want, _, err := xs.Get(ctx, "c")
	require.NoError(t, err)
	requireSameExecution(t, want, got[0])
}

func testExecutionCountActive(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	states := []flow.State{flow.StateCreated, flow.StateQueued, flow.StateRunning, flow.StatePaused,
		flow.StateKilling, flow.StateRetrying, flow.StateSuccess, flow.StateFailed, flow.StateKilled, flow.StateWarning}
	for i, st := range states {
		e := newExecution(fmt.Sprintf("e%d", i), "acme", "limited", clock.Now())
		e.State.Set(st, clock.Now())
		require.NoError(t, xs.Create(ctx, e))
	}
	other := newExecution("other", "acme", "unlimited", clock.Now())
	other.State.Set(flow.StateRunning, clock.Now())
	require.NoError(t, xs.Create(ctx, other))

	n, err := xs.CountActive(ctx, "acme", "limited")
	require.NoError(t, err)
	require.Equal(t, 4, n, "RUNNING, PAUSED, KILLING and RETRYING count; CREATED, QUEUED and terminal states do not")

	// Finishing one lowers the count.
	e, v, err := xs.Get(ctx, fmt.Sprintf("e%d", slices.Index(states, flow.StateRunning)))
	require.NoError(t, err)
	e.State.Set(flow.StateSuccess, clock.Now())
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v})
	require.NoError(t, err)
	n, err = xs.CountActive(ctx, "acme", "limited")
	require.NoError(t, err)
	require.Equal(t, 3, n)
}

func testExecutionDelete(t *testing.T, s store.Store) {
	ctx, xs, q, clock := t.Context(), s.Executions(), s.Queue(), Clock(t)
	for _, id := range []string{"gone", "kept"} {
		require.NoError(t, xs.Create(ctx, newExecution(id, "acme", "f", clock.Now())))
		e, v, err := xs.Get(ctx, id)
		require.NoError(t, err)
		_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v,
			Jobs: []store.Job{{ID: "job-" + id, ExecutionID: id, TaskRunID: "tr", Attempt: 1}}})
		require.NoError(t, err)
		require.NoError(t, s.Logs().Append(ctx, []flow.LogEntry{{ExecutionID: id, Namespace: "acme", FlowID: "f",
			Level: "INFO", Message: "hello " + id, Timestamp: clock.Now()}}))
	}
	require.NoError(t, xs.Delete(ctx, "gone"))
	_, _, err := xs.Get(ctx, "gone")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, xs.Delete(ctx, "gone"), store.ErrNotFound)
	logs, err := s.Logs().List(ctx, store.LogQuery{ExecutionID: "gone"})
	require.NoError(t, err)
	require.Empty(t, logs, "its logs are gone")
	jobs, err := q.ClaimJobs(ctx, "w", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 1, "its jobs are gone, the other execution's stay")
	require.Equal(t, "job-kept", jobs[0].ID)
	logs, err = s.Logs().List(ctx, store.LogQuery{ExecutionID: "kept"})
	require.NoError(t, err)
	require.Len(t, logs, 1)
}

// testExecutionLatest checks the newest execution per flow: by start date
// then id, the flow's own namespace only (not a child's flow of the same
// id), nothing for a flow that never ran.
func testExecutionLatest(t *testing.T, s store.Store) {
	ctx, xs, base := t.Context(), s.Executions(), Clock(t).Now()
	mk := func(id, ns, fl string, minutes int) {
		e := newExecution(id, ns, fl, base.Add(time.Duration(minutes)*time.Minute))
		require.NoError(t, xs.Create(ctx, e))
	}
	mk("a1", "acme", "load", 0)
	mk("a2", "acme", "load", 5)
	mk("c1", "acme.team", "load", 10)
	mk("r1", "acme", "report", 1)
	mk("t1", "acme", "tie", 2)
	mk("t2", "acme", "tie", 2)

	got, err := xs.Latest(ctx, []store.FlowRef{
		{Namespace: "acme", ID: "load"}, {Namespace: "acme", ID: "report"}, {Namespace: "acme", ID: "never"},
		{Namespace: "acme.team", ID: "load"}, {Namespace: "acme", ID: "tie"},
	})
	require.NoError(t, err)
	ids := make([]string, len(got))
	for i, e := range got {
		ids[i] = e.ID
	}
	slices.Sort(ids)
	require.Equal(t, []string{"a2", "c1", "r1", "t2"}, ids)
	want, _, err := xs.Get(ctx, "r1")
	require.NoError(t, err)
	requireSameExecution(t, want, got[slices.IndexFunc(got, func(e *flow.Execution) bool { return e.ID == "r1" })])

	none, err := xs.Latest(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, none)
}

// testExecutionDaily checks the counts by day and state: days start at
// midnight in the asked zone, the window excludes its end, and the
// namespace filter takes children.
func testExecutionDaily(t *testing.T, s store.Store) {
	ctx, xs := t.Context(), s.Executions()
	at := func(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, time.UTC) }
	mk := func(id, ns string, start time.Time, st flow.State) {
		e := newExecution(id, ns, "f", start)
		e.State.Set(st, start.Add(time.Second))
		require.NoError(t, xs.Create(ctx, e))
	}
	mk("d1", "acme", at(4, 1, 0), flow.StateSuccess)
	mk("d2", "acme.team", at(4, 23, 30), flow.StateFailed)
	mk("d3", "acme", at(4, 23, 45), flow.StateSuccess)
	mk("d4", "other", at(5, 10, 0), flow.StateSuccess)
	mk("d5", "acme", at(2, 12, 0), flow.StateSuccess) // before the window

	from, to := at(3, 0, 0), at(6, 0, 0)
	tests := []struct {
		name string
		q    store.DailyQuery
		want []store.DailyCount
	}{
		{"UTC days", store.DailyQuery{From: from, To: to}, []store.DailyCount{
			{Day: at(4, 0, 0), State: flow.StateFailed, Count: 1},
			{Day: at(4, 0, 0), State: flow.StateSuccess, Count: 2},
			{Day: at(5, 0, 0), State: flow.StateSuccess, Count: 1},
		}},
		{"days two hours east", store.DailyQuery{From: from, To: to, Offset: 2 * time.Hour}, []store.DailyCount{
			{Day: at(3, 22, 0), State: flow.StateSuccess, Count: 1},
			{Day: at(4, 22, 0), State: flow.StateFailed, Count: 1},
			{Day: at(4, 22, 0), State: flow.StateSuccess, Count: 2},
		}},
		{"days five hours west", store.DailyQuery{From: from, To: to, Offset: -5 * time.Hour}, []store.DailyCount{
			{Day: at(3, 5, 0), State: flow.StateSuccess, Count: 1},
			{Day: at(4, 5, 0), State: flow.StateFailed, Count: 1},
			{Day: at(4, 5, 0), State: flow.StateSuccess, Count: 1},
			{Day: at(5, 5, 0), State: flow.StateSuccess, Count: 1},
		}},
		{"end excluded", store.DailyQuery{From: from, To: at(5, 10, 0)}, []store.DailyCount{
			{Day: at(4, 0, 0), State: flow.StateFailed, Count: 1},
			{Day: at(4, 0, 0), State: flow.StateSuccess, Count: 2},
		}},
		{"namespace and children", store.DailyQuery{From: from, To: to, Namespace: "acme"}, []store.DailyCount{
			{Day: at(4, 0, 0), State: flow.StateFailed, Count: 1},
			{Day: at(4, 0, 0), State: flow.StateSuccess, Count: 2},
		}},
		{"flow", store.DailyQuery{From: from, To: to, Namespace: "other", FlowID: "f"}, []store.DailyCount{
			{Day: at(5, 0, 0), State: flow.StateSuccess, Count: 1},
		}},
		{"nothing", store.DailyQuery{From: from, To: to, FlowID: "none"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := xs.Daily(ctx, tc.q)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
