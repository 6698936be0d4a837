package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/tasks"
)

// renderer adapts the expression engine without run-time providers.
type renderer struct{ e *expr.Engine }

func (r renderer) Render(ctx context.Context, tmpl string, vars map[string]any) (string, error) {
	return r.e.Render(ctx, tmpl, &expr.Scope{Vars: vars, Strict: true})
}

func (r renderer) RenderTyped(ctx context.Context, tmpl string, vars map[string]any) (any, error) {
	return r.e.RenderTyped(ctx, tmpl, &expr.Scope{Vars: vars, Strict: true})
}

// outcome is what the fake worker answers for a task id.
type outcome struct {
	state   flow.State
	outputs map[string]any
}

// harness drives one execution through the engine with a fake worker and
// a fake clock, recording the order in which task runs were dispatched.
type harness struct {
	t          *testing.T
	eng        *engine.Engine
	flow       *flow.Flow
	exec       *flow.Execution
	now        time.Time
	answers    map[string]func(attempt int) outcome
	dispatched []string
	steps      int
	pending    []engine.Dispatch
	varsSeen   map[string]map[string]any
	// index, when set, is kept from step to step, as the executor does
	index *engine.Index
}

func newHarness(t *testing.T, src string) *harness {
	t.Helper()
	reg := tasks.New()
	f, err := flow.Parse([]byte(src), flow.ParseOptions{Types: reg})
	require.NoError(t, err)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	h := &harness{
		t:       t,
		flow:    f,
		now:     now,
		answers: map[string]func(int) outcome{},
		eng: &engine.Engine{Types: reg, Renderer: renderer{expr.New(expr.Options{})}, NewID: func() string {
			n++
			return fmt.Sprintf("tr%02d", n)
		}},
		exec: &flow.Execution{ID: "ex1", Namespace: f.Namespace, FlowID: f.ID, FlowRevision: 1, State: flow.NewStateInfo(flow.StateCreated, now)},
	}
	return h
}

func (h *harness) answer(taskID string, st flow.State, outs map[string]any) {
	h.answers[taskID] = func(int) outcome { return outcome{st, outs} }
}

// step advances once with the given results and queues the dispatches.
func (h *harness) step(results ...engine.Result) engine.Effects {
	h.t.Helper()
	fx, err := h.eng.Advance(context.Background(), engine.Step{Flow: h.flow, Exec: h.exec, Results: results, Now: h.now, Index: h.index})
	require.NoError(h.t, err)
	for _, d := range fx.Dispatch {
		h.dispatched = append(h.dispatched, d.Task.ID)
		if h.varsSeen == nil {
			h.varsSeen = map[string]map[string]any{}
		}
		h.varsSeen[d.Task.ID] = d.Variables()
	}
	h.pending = append(h.pending, fx.Dispatch...)
	h.steps++
	return fx
}

// run drives the execution to the end: every pending dispatch is answered
// (one at a time, in order), and due timers are jumped to.
func (h *harness) run() {
	h.t.Helper()
	fx := h.step()
	for i := 0; i < 500 && (!h.exec.State.Current.IsTerminal() || len(h.pending) > 0); i++ {
		if len(h.pending) > 0 {
			d := h.pending[0]
			h.pending = h.pending[1:]
			st, outs := flow.StateSuccess, map[string]any(nil)
			if f, ok := h.answers[d.Task.ID]; ok {
				o := f(d.Attempt)
				st, outs = o.state, o.outputs
			}
			fx = h.step(engine.Result{TaskRunID: d.TaskRun.ID, Attempt: d.Attempt, State: st, Outputs: outs, Started: h.now, Ended: h.now})
			continue
		}
		if fx.WakeAt != nil {
			h.now = *fx.WakeAt
			fx = h.step()
			continue
		}
		if h.exec.State.Current == flow.StatePaused {
			return
		}
		h.t.Fatalf("execution stuck in %s with nothing pending", h.exec.State.Current)
	}
}

func (h *harness) runs(taskID string) []*flow.TaskRun { return h.exec.TaskRunsByTaskID(taskID) }

func TestAdvance(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		src        string
		setup      func(h *harness)
		want       flow.State
		dispatched []string
		check      func(t *testing.T, h *harness)
	}{
		{
			name: "sequential tasks run in order",
			src: `id: f
namespace: n
tasks:
  - {id: a, type: io.kestra.plugin.core.log.Log, message: a}
  - {id: b, type: io.kestra.plugin.core.debug.Return, format: b}`,
			want:       flow.StateSuccess,
			dispatched: []string{"a", "b"},
		},
		{
			name: "a failure runs the errors branch and the execution fails",
			src: `id: f
namespace: n
tasks:
  - {id: a, type: io.kestra.plugin.core.execution.Fail}
  - {id: never, type: io.kestra.plugin.core.log.Log, message: x}
errors:
  - {id: e, type: io.kestra.plugin.core.log.Log, message: handled}`,
			setup:      func(h *harness) { h.answer("a", flow.StateFailed, nil) },
			want:       flow.StateFailed,
			dispatched: []string{"a", "e"},
		},
		{
			name: "finally runs after a failure",
			src: `id: f
namespace: n
tasks:
  - {id: a, type: io.kestra.plugin.core.execution.Fail}
finally:
  - {id: z, type: io.kestra.plugin.core.log.Log, message: bye}`,
			setup:      func(h *harness) { h.answer("a", flow.StateFailed, nil) },
			want:       flow.StateFailed,
			dispatched: []string{"a", "z"},
		},
		{
			name: "allowFailure turns a failure into a warning and goes on",
			src: `id: f
namespace: n
tasks:
  - {id: a, type: io.kestra.plugin.core.execution.Fail, allowFailure: true}
  - {id: b, type: io.kestra.plugin.core.log.Log, message: b}`,
			setup:      func(h *harness) { h.answer("a", flow.StateFailed, nil) },
			want:       flow.StateWarning,
			dispatched: []string{"a", "b"},
		},
		{
			name: "constant retry adds attempts until maxAttempt",
			src: `id: f
namespace: n
tasks:
  - id: a
    type: io.kestra.plugin.core.execution.Fail
    retry: {type: constant, interval: PT0.25S, maxAttempt: 3}`,
			setup: func(h *harness) { h.answer("a", flow.StateFailed, nil) },
			want:  flow.StateFailed,
			check: func(t *testing.T, h *harness) {
				require.Len(t, h.runs("a"), 1)
				require.Len(t, h.runs("a")[0].Attempts, 3)
				require.True(t, h.runs("a")[0].State.Has(flow.StateRetrying))
			},
		},
		{
			name: "retry succeeds on the second attempt",
			src: `id: f
namespace: n
tasks:
  - id: a
    type: io.kestra.plugin.core.debug.Return
    format: x
    retry: {type: constant, interval: PT1S, maxAttempt: 5}`,
			setup: func(h *harness) {
				h.answers["a"] = func(attempt int) outcome {
					if attempt == 1 {
						return outcome{state: flow.StateFailed}
					}
					return outcome{state: flow.StateSuccess}
				}
			},
			want: flow.StateSuccess,
			check: func(t *testing.T, h *harness) {
				require.Len(t, h.runs("a")[0].Attempts, 2)
			},
		},
		{
			name: "parallel dispatches every child in one step",
			src: `id: f
namespace: n
tasks:
  - id: p
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - {id: a, type: io.kestra.plugin.core.log.Log, message: a}
      - {id: b, type: io.kestra.plugin.core.log.Log, message: b}
      - {id: c, type: io.kestra.plugin.core.log.Log, message: c}`,
			want: flow.StateSuccess,
			check: func(t *testing.T, h *harness) {
				require.Equal(t, []string{"a", "b", "c"}, h.dispatched)
				// the first step dispatched all three at once
				require.Equal(t, flow.StateSuccess, h.runs("p")[0].State.Current)
			},
		},
		{
			name: "if takes the else branch on a false condition",
			src: `id: f
namespace: n
inputs:
  - {id: go, type: BOOLEAN, defaults: false}
tasks:
  - id: i
    type: io.kestra.plugin.core.flow.If
    condition: "{{ inputs.go }}"
    then:
      - {id: yes, type: io.kestra.plugin.core.log.Log, message: y}
    else:
      - {id: no, type: io.kestra.plugin.core.log.Log, message: n}`,
			setup:      func(h *harness) { h.exec.Inputs = map[string]any{"go": false} },
			want:       flow.StateSuccess,
			dispatched: []string{"no"},
		},
		{
			name: "switch picks the case and records its value",
			src: `id: f
namespace: n
tasks:
  - id: s
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ 1 + 1 }}"
    cases:
      "2":
        - {id: two, type: io.kestra.plugin.core.log.Log, message: two}
    defaults:
      - {id: other, type: io.kestra.plugin.core.log.Log, message: other}`,
			want:       flow.StateSuccess,
			dispatched: []string{"two"},
			check: func(t *testing.T, h *harness) {
				require.Equal(t, map[string]any{"value": "2", "defaults": false}, h.runs("s")[0].Outputs)
			},
		},
		{
			name: "forEach runs children per value with nested outputs",
			src: `id: f
namespace: n
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b", "c"]
    tasks:
      - {id: r, type: io.kestra.plugin.core.debug.Return, format: "{{ taskrun.value }}"}`,
			setup: func(h *harness) {
				h.answers["r"] = func(int) outcome { return outcome{flow.StateSuccess, map[string]any{"value": "v"}} }
			},
			want:       flow.StateSuccess,
			dispatched: []string{"r", "r", "r"},
			check: func(t *testing.T, h *harness) {
				runs := h.runs("r")
				require.Len(t, runs, 3)
				require.Equal(t, []string{"a", "b", "c"}, []string{runs[0].Value, runs[1].Value, runs[2].Value})
				outs := engine.Outputs(h.exec)
				require.Equal(t, map[string]any{"a": map[string]any{"value": "v"}, "b": map[string]any{"value": "v"}, "c": map[string]any{"value": "v"}}, outs["r"])
			},
		},
		{
			name: "runIf false skips the task",
			src: `id: f
namespace: n
tasks:
  - {id: a, type: io.kestra.plugin.core.log.Log, message: a, runIf: "{{ false }}"}
  - {id: b, type: io.kestra.plugin.core.log.Log, message: b}`,
			want:       flow.StateSuccess,
			dispatched: []string{"b"},
			check: func(t *testing.T, h *harness) {
				require.Equal(t, flow.StateSkipped, h.runs("a")[0].State.Current)
			},
		},
		{
			name: "a disabled task is never created",
			src: `id: f
namespace: n
tasks:
  - {id: a, type: io.kestra.plugin.core.log.Log, message: a, disabled: true}
  - {id: b, type: io.kestra.plugin.core.log.Log, message: b}`,
			want:       flow.StateSuccess,
			dispatched: []string{"b"},
			check: func(t *testing.T, h *harness) {
				require.Empty(t, h.runs("a"))
			},
		},
		{
			name: "dag respects dependsOn",
			src: `id: f
namespace: n
tasks:
  - id: d
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task: {id: c, type: io.kestra.plugin.core.log.Log, message: c}
        dependsOn: [a, b]
      - task: {id: a, type: io.kestra.plugin.core.log.Log, message: a}
      - task: {id: b, type: io.kestra.plugin.core.log.Log, message: b}
        dependsOn: [a]`,
			want:       flow.StateSuccess,
			dispatched: []string{"a", "b", "c"},
		},
		{
			name: "pause with a delay resumes by itself",
			src: `id: f
namespace: n
tasks:
  - {id: p, type: io.kestra.plugin.core.flow.Pause, delay: PT5S}
  - {id: after, type: io.kestra.plugin.core.log.Log, message: a}`,
			want:       flow.StateSuccess,
			dispatched: []string{"after"},
			check: func(t *testing.T, h *harness) {
				require.True(t, h.exec.State.Has(flow.StatePaused))
				p := h.runs("p")[0]
				require.True(t, p.State.Has(flow.StatePaused))
			},
		},
		{
			name: "flow outputs are rendered at the end",
			src: `id: f
namespace: n
tasks:
  - {id: r, type: io.kestra.plugin.core.debug.Return, format: x}
outputs:
  - {id: out, type: STRING, value: "{{ outputs.r.value }}!"}`,
			setup: func(h *harness) { h.answer("r", flow.StateSuccess, map[string]any{"value": "hi"}) },
			want:  flow.StateSuccess,
			check: func(t *testing.T, h *harness) {
				require.Equal(t, map[string]any{"out": "hi!"}, h.exec.Outputs)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.src)
			if tc.setup != nil {
				tc.setup(h)
			}
			h.run()
			require.Equal(t, tc.want, h.exec.State.Current, "error: %s", h.exec.Error)
			if tc.dispatched != nil {
				require.Equal(t, tc.dispatched, h.dispatched)
			}
			if tc.check != nil {
				tc.check(t, h)
			}
		})
	}
}

func TestKillCancelsRunningTaskRuns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `id: f
namespace: n
tasks:
  - {id: a, type: io.kestra.plugin.core.flow.Sleep, duration: PT1H}
  - {id: b, type: io.kestra.plugin.core.log.Log, message: b}`)
	h.step()
	require.Equal(t, []string{"a"}, h.dispatched)
	h.exec.State.Set(flow.StateKilling, h.now)
	fx := h.step()
	require.Equal(t, flow.StateKilled, h.exec.State.Current)
	require.True(t, fx.Ended)
	require.Equal(t, []string{h.runs("a")[0].ID}, fx.Cancel)
	require.Equal(t, flow.StateKilled, h.runs("a")[0].State.Current)
	// a late result of the killed attempt changes nothing
	h.step(engine.Result{TaskRunID: h.runs("a")[0].ID, Attempt: 1, State: flow.StateSuccess})
	require.Equal(t, flow.StateKilled, h.runs("a")[0].State.Current)
	require.Empty(t, h.runs("b"))
}

func TestDuplicateResultIsIgnored(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `id: f
namespace: n
tasks:
  - {id: a, type: io.kestra.plugin.core.log.Log, message: a}
  - {id: b, type: io.kestra.plugin.core.log.Log, message: b}`)
	h.step()
	a := h.runs("a")[0]
	res := engine.Result{TaskRunID: a.ID, Attempt: 1, State: flow.StateSuccess, Started: h.now, Ended: h.now}
	h.step(res)
	h.step(res)
	require.Len(t, a.Attempts, 1)
	require.Equal(t, []string{"a", "b"}, h.dispatched)
}

// TestLostRunsBecomeAttempts checks that runs a dead worker never
// reported show on the task run as RESUBMITTED attempts before the one
// that ended, and count for the next retry's attempt number.
func TestLostRunsBecomeAttempts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `id: f
namespace: n
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: a
    retry: {type: constant, interval: PT1S, maxAttempt: 5}`)
	h.step()
	a := h.runs("a")[0]
	h.step(engine.Result{TaskRunID: a.ID, Attempt: 1, State: flow.StateFailed, Lost: 1, Started: h.now, Ended: h.now, WorkerID: "w2"})
	require.Len(t, a.Attempts, 2)
	require.Equal(t, flow.StateResubmitted, a.Attempts[0].State.Current)
	require.Equal(t, flow.StateFailed, a.Attempts[1].State.Current)
	require.Equal(t, "w2", a.Attempts[1].WorkerID)
	require.Equal(t, flow.StateRetrying, a.State.Current)
	h.now = h.now.Add(2 * time.Second)
	fx := h.step()
	require.Len(t, fx.Dispatch, 1)
	require.Equal(t, 3, fx.Dispatch[0].Attempt, "the retry is the third attempt")
}

func TestPauseWaitsForResume(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `id: f
namespace: n
tasks:
  - {id: p, type: io.kestra.plugin.core.flow.Pause}
  - {id: after, type: io.kestra.plugin.core.log.Log, message: a}`)
	fx := h.step()
	require.Equal(t, flow.StatePaused, h.exec.State.Current)
	require.Nil(t, fx.WakeAt)
	require.Empty(t, h.dispatched)
	_, err := engine.Apply(h.eng.Types, h.flow, h.exec, engine.Command{Kind: engine.CommandResume}, h.now)
	require.NoError(t, err)
	h.step()
	require.Equal(t, []string{"after"}, h.dispatched)
	require.Equal(t, flow.StateRunning, h.exec.State.Current)
}

func TestAfterExecutionRunsLastAndKeepsTheOutcome(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `id: f
namespace: n
tasks:
  - {id: a, type: io.kestra.plugin.core.execution.Fail}
afterExecution:
  - {id: notify, type: io.kestra.plugin.core.log.Log, message: "ended {{ execution.state }}"}
  - {id: broken, type: io.kestra.plugin.core.execution.Fail}`)
	h.answer("a", flow.StateFailed, nil)
	h.answer("broken", flow.StateFailed, nil)
	h.run()
	require.Equal(t, flow.StateFailed, h.exec.State.Current)
	// the tasks ran after the end and saw the final state
	require.True(t, h.exec.State.Has(flow.StateFailed))
	require.Equal(t, "FAILED", h.varsSeen["notify"]["execution"].(map[string]any)["state"])
	require.Equal(t, []string{"a", "notify"}, h.dispatched[:2])
	notify := h.runs("notify")[0]
	require.Equal(t, flow.StateSuccess, notify.State.Current)
	require.Len(t, h.runs("notify"), 1)
}

func TestFlowRetryIsEveryTasksDefault(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `id: f
namespace: n
retry:
  type: constant
  interval: PT1S
  maxAttempt: 3
tasks:
  - {id: a, type: io.kestra.plugin.core.execution.Fail}`)
	h.answer("a", flow.StateFailed, nil)
	h.run()
	require.Equal(t, flow.StateFailed, h.exec.State.Current)
	require.Len(t, h.runs("a")[0].Attempts, 3)
}

func TestRandomRetryWaitsWithinItsBounds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `id: f
namespace: n
tasks:
  - id: a
    type: io.kestra.plugin.core.execution.Fail
    retry: {type: random, minInterval: PT1S, maxInterval: PT3S, maxAttempt: 4}`)
	h.answer("a", flow.StateFailed, nil)
	start := h.now
	h.run()
	require.Len(t, h.runs("a")[0].Attempts, 4)
	waited := h.now.Sub(start)
	require.GreaterOrEqual(t, waited, 3*time.Second)
	require.LessOrEqual(t, waited, 9*time.Second)
}

func TestFlowableTimeoutKillsWhatRunsBelow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `id: f
namespace: n
tasks:
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    timeout: PT5S
    tasks:
      - {id: slow, type: io.kestra.plugin.core.flow.Sleep, duration: PT1H}
      - {id: never, type: io.kestra.plugin.core.log.Log, message: x}`)
	fx := h.step()
	require.Equal(t, []string{"slow"}, h.dispatched)
	require.NotNil(t, fx.WakeAt, "the step asks to be woken at the deadline")
	h.now = *fx.WakeAt
	fx = h.step()
	seq, slow := h.runs("seq")[0], h.runs("slow")[0]
	require.Equal(t, flow.StateFailed, seq.State.Current)
	require.Contains(t, seq.Error, "timed out after PT5S")
	require.Equal(t, flow.StateKilled, slow.State.Current)
	require.Equal(t, []string{slow.ID}, fx.Cancel)
	require.Equal(t, flow.StateFailed, h.exec.State.Current)
	require.Empty(t, h.runs("never"))
}

// TestRetryAsNewExecution follows Kestra's retry behavior
// CREATE_NEW_EXECUTION: a failed task ends its execution as RETRIED and
// the step creates the next execution of the chain, scheduled after the
// interval, until maxAttempt executions have run.
func TestRetryAsNewExecution(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		retry string // where the policy is written
		runs  int    // executions in the chain
	}{
		{"the task's retry", `
        retry: {type: constant, interval: PT1M, maxAttempt: 3, behavior: CREATE_NEW_EXECUTION}`, 3},
		{"a parent task's retry", `
    retry: {type: constant, interval: PT1M, maxAttempt: 2, behavior: CREATE_NEW_EXECUTION}`, 2},
		{"the flow's retry", "", 3},
		{"maxDuration from the first execution", `
        retry: {type: constant, interval: PT1M, maxDuration: PT2M30S, behavior: CREATE_NEW_EXECUTION}`, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := `id: f
namespace: n
inputs:
  - {id: who, type: STRING, defaults: x}
tasks:
  - id: both
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - {id: slow, type: io.kestra.plugin.core.log.Log, message: s}
      - id: flaky
        type: io.kestra.plugin.core.log.Log
        message: f` + tc.retry + `
  - {id: after, type: io.kestra.plugin.core.log.Log, message: a}
`
			if tc.retry == "" {
				src += "retry: {type: constant, interval: PT1M, maxAttempt: 3, behavior: CREATE_NEW_EXECUTION}\n"
			}
			h := newHarness(t, src)
			h.exec.Inputs = map[string]any{"who": "ada"}
			h.exec.Labels = []flow.Label{{Key: "team", Value: "data"}}
			created := h.now
			var chain []*flow.Execution
			for attempt := 1; ; attempt++ {
				require.LessOrEqual(t, attempt, tc.runs, "the chain ends after %d executions", tc.runs)
				chain = append(chain, h.exec)
				h.pending = nil
				h.step()
				results := map[string]engine.Result{}
				for _, d := range h.pending {
					results[d.Task.ID] = engine.Result{TaskRunID: d.TaskRun.ID, Attempt: 1, State: flow.StateSuccess, Started: h.now, Ended: h.now}
				}
				require.Contains(t, results, "flaky", "flaky is dispatched")
				failed := results["flaky"]
				failed.State, failed.Error = flow.StateFailed, "boom"
				fx := h.step(failed)
				if attempt == tc.runs {
					require.Equal(t, flow.StateRunning, h.exec.State.Current, "the last execution waits for slow")
					require.Equal(t, flow.StateFailed, h.runs("flaky")[0].State.Current)
					fx = h.step(results["slow"])
					require.Equal(t, flow.StateFailed, h.exec.State.Current, "and fails")
					require.Empty(t, fx.NewExecutions)
					break
				}
				require.Equal(t, flow.StateRetried, h.exec.State.Current)
				require.True(t, fx.Ended)
				require.Equal(t, flow.StateRetried, h.runs("flaky")[0].State.Current)
				require.Equal(t, flow.StateKilled, h.runs("slow")[0].State.Current, "what still ran is killed")
				require.Len(t, fx.Cancel, 1, "and its worker told to stop")
				require.Empty(t, h.runs("after"), "nothing after the failure starts")
				require.Len(t, fx.NewExecutions, 1)
				next := fx.NewExecutions[0]
				require.Equal(t, flow.StateCreated, next.State.Current)
				require.Equal(t, h.now.Add(time.Minute), *next.ScheduleDate, "after the interval")
				require.Equal(t, attempt+1, next.Metadata.AttemptNumber)
				require.Equal(t, created, *next.Metadata.OriginalCreatedDate)
				require.Equal(t, h.exec.ID, next.OriginalID)
				require.Equal(t, map[string]any{"who": "ada"}, next.Inputs)
				require.Equal(t, h.exec.Labels, next.Labels)
				require.Empty(t, next.TaskRunList, "it starts from the beginning")
				require.NotEqual(t, h.exec.ID, next.ID)
				h.now = *next.ScheduleDate
				h.exec = next
			}
			require.Len(t, chain, tc.runs)
		})
	}
}
