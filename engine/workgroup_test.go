package engine_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
)

const workDirFlow = `
id: wd
namespace: osprey.tests
tasks:
  - id: group
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: first
        type: io.kestra.plugin.core.debug.Return
        format: one
      - id: off
        type: io.kestra.plugin.core.debug.Return
        format: never
        disabled: true
      - id: second
        type: io.kestra.plugin.core.debug.Return
        format: two
        allowFailure: true
    errors:
      - id: recover
        type: io.kestra.plugin.core.debug.Return
        format: handled
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.first.value }}"
`

// groupResult answers a group job as a worker does: one result for the
// group, one per child that ran.
func groupResult(d engine.Dispatch, at time.Time, st flow.State, children ...engine.Result) engine.Result {
	return engine.Result{TaskRunID: d.TaskRun.ID, Attempt: d.Attempt, State: st, Started: at, Ended: at, WorkerID: "w1", Children: children}
}

// WorkingDirectoryTest#success: the group is one job naming its enabled
// children; their results become task runs under the group's, and the
// task after it reads their outputs.
func TestWorkingDirectoryIsOneJob(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workDirFlow)
	fx := h.step()
	require.Len(t, fx.Dispatch, 1, "one job for the whole group")
	d := fx.Dispatch[0]
	require.Equal(t, "group", d.Task.ID)
	require.Len(t, d.Children, 2, "the disabled child is not run")
	require.Equal(t, []string{"first", "second"}, []string{d.Children[0].TaskID, d.Children[1].TaskID})
	require.Equal(t, d.TaskRun.ID, d.Children[0].TaskRun.ParentTaskRunID)
	require.Empty(t, h.runs("first"), "children are recorded when the group's job reports")

	fx = h.step(groupResult(d, h.now, flow.StateSuccess,
		engine.Result{TaskRunID: d.Children[0].TaskRun.ID, TaskID: "first", Attempt: 1, State: flow.StateSuccess, Outputs: map[string]any{"value": "one"}, Started: h.now, Ended: h.now},
		engine.Result{TaskRunID: d.Children[1].TaskRun.ID, TaskID: "second", Attempt: 1, State: flow.StateFailed, Error: "boom", Started: h.now, Ended: h.now},
	))
	first := h.runs("first")
	require.Len(t, first, 1)
	require.Equal(t, d.Children[0].TaskRun.ID, first[0].ID)
	require.Equal(t, flow.StateSuccess, first[0].State.Current)
	require.Len(t, first[0].Attempts, 1)
	require.Equal(t, flow.StateWarning, h.runs("second")[0].State.Current, "allowFailure applies to a child")
	require.Equal(t, flow.StateWarning, h.runs("group")[0].State.Current)
	require.Empty(t, h.runs("recover"), "errors run only when the group failed")
	require.Len(t, fx.Dispatch, 1)
	require.Equal(t, "after", fx.Dispatch[0].Task.ID)
	require.Equal(t, "one", fx.Dispatch[0].Variables()["outputs"].(map[string]any)["first"].(map[string]any)["value"])
}

// WorkingDirectoryTest#failed: a failed child fails the group after its
// errors ran, and the execution fails.
func TestWorkingDirectoryFailedChildRunsErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workDirFlow)
	d := h.step().Dispatch[0]
	fx := h.step(groupResult(d, h.now, flow.StateFailed,
		engine.Result{TaskRunID: d.Children[0].TaskRun.ID, TaskID: "first", Attempt: 1, State: flow.StateFailed, Started: h.now, Ended: h.now},
	))
	require.Equal(t, flow.StateRunning, h.runs("group")[0].State.Current, "the group waits for its errors")
	require.Len(t, fx.Dispatch, 1)
	require.Equal(t, "recover", fx.Dispatch[0].Task.ID)
	h.step(engine.Result{TaskRunID: fx.Dispatch[0].TaskRun.ID, Attempt: 1, State: flow.StateSuccess, Started: h.now, Ended: h.now})
	require.Equal(t, flow.StateFailed, h.runs("group")[0].State.Current)
	require.Equal(t, flow.StateFailed, h.exec.State.Current)
	require.Empty(t, h.runs("after"))
}

// A group job whose own work failed (inputFiles, outputFiles) with every
// child successful fails the group.
func TestWorkingDirectoryOwnFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workDirFlow)
	d := h.step().Dispatch[0]
	r := groupResult(d, h.now, flow.StateFailed)
	r.Error = "inputFiles: expected a map"
	fx := h.step(r)
	require.Equal(t, "recover", fx.Dispatch[0].Task.ID)
	require.Equal(t, "inputFiles: expected a map", h.runs("group")[0].Error)
}

// A kill while the group runs cancels the group's job, as a runnable's.
func TestWorkingDirectoryKillCancelsTheJob(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workDirFlow)
	d := h.step().Dispatch[0]
	h.exec.State.Set(flow.StateKilling, h.now)
	fx := h.step()
	require.Equal(t, []string{d.TaskRun.ID}, fx.Cancel)
	require.Equal(t, flow.StateKilled, h.exec.State.Current)
	// The job's late result still records the children that ran.
	h.step(groupResult(d, h.now, flow.StateKilled,
		engine.Result{TaskRunID: d.Children[0].TaskRun.ID, TaskID: "first", Attempt: 1, State: flow.StateSuccess, Started: h.now, Ended: h.now}))
	require.Len(t, h.runs("first"), 1)
	require.Equal(t, flow.StateKilled, h.runs("group")[0].State.Current)
}

// RunContextInitializer#forWorkingDirectory: a child sees its own task
// and task run, the group's value and task run (workerTaskrun), and the
// outputs of the children before it, nested under the loop values.
func TestChildVars(t *testing.T) {
	t.Parallel()
	group := &flow.TaskRun{ID: "g1", TaskID: "group", Value: "red"}
	groupVars := map[string]any{
		"taskrun": map[string]any{"id": "g1", "value": "red"},
		"parent":  map[string]any{"taskrun": map[string]any{"value": "red"}},
		"outputs": map[string]any{},
	}
	c := engine.GroupChild{TaskID: "first", TaskRun: &flow.TaskRun{ID: "c1", TaskID: "first", ParentTaskRunID: "g1"}, OutputKeys: []string{"red"}}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v := engine.ChildVars(groupVars, group, c, &flow.Task{ID: "first", Type: "io.kestra.plugin.core.debug.Return"}, at)
	require.Equal(t, map[string]any{"id": "first", "type": "io.kestra.plugin.core.debug.Return"}, v["task"])
	tr := v["taskrun"].(map[string]any)
	require.Equal(t, "c1", tr["id"])
	require.Equal(t, "red", tr["value"])
	require.Equal(t, "g1", tr["parentId"])
	require.Equal(t, "2026-01-02T03:04:05.000Z", tr["startDate"])
	require.Equal(t, groupVars["taskrun"], v["workerTaskrun"])
	require.Equal(t, groupVars["parent"], v["parent"])

	engine.AddChildOutputs(groupVars, c, map[string]any{"value": "one"})
	require.Equal(t, map[string]any{"first": map[string]any{"red": map[string]any{"value": "one"}}}, groupVars["outputs"])
	next := engine.ChildVars(groupVars, group, c, &flow.Task{ID: "second"}, at)
	require.Equal(t, groupVars["outputs"], next["outputs"], "the next child reads the outputs so far")
}

// A restart runs a failed group again as a whole, as one new job, in a
// fresh directory: the failed run's children go, and the new run's
// children are recorded when it reports.
func TestWorkingDirectoryRestartsAsAWhole(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workDirFlow)
	d := h.step().Dispatch[0]
	fx := h.step(groupResult(d, h.now, flow.StateFailed,
		engine.Result{TaskRunID: d.Children[0].TaskRun.ID, TaskID: "first", Attempt: 1, State: flow.StateFailed, Started: h.now, Ended: h.now}))
	h.step(engine.Result{TaskRunID: fx.Dispatch[0].TaskRun.ID, Attempt: 1, State: flow.StateSuccess, Started: h.now, Ended: h.now})
	require.Equal(t, flow.StateFailed, h.exec.State.Current)

	_, err := engine.Apply(h.eng.Types, h.flow, h.exec, engine.Command{Kind: engine.CommandRestart}, h.now)
	require.NoError(t, err)
	require.Empty(t, h.runs("first"), "the failed run's children go")
	require.Empty(t, h.runs("recover"))
	fx = h.step()
	require.Len(t, fx.Dispatch, 1)
	again := fx.Dispatch[0]
	require.Equal(t, "group", again.Task.ID)
	require.Equal(t, 2, again.Attempt, "a new job, not the failed one's")
	require.Len(t, again.Children, 2)
	require.Equal(t, flow.StateRunning, h.runs("group")[0].State.Current)

	fx = h.step(groupResult(again, h.now, flow.StateSuccess,
		engine.Result{TaskRunID: again.Children[0].TaskRun.ID, TaskID: "first", Attempt: 1, State: flow.StateSuccess, Outputs: map[string]any{"value": "one"}, Started: h.now, Ended: h.now},
		engine.Result{TaskRunID: again.Children[1].TaskRun.ID, TaskID: "second", Attempt: 1, State: flow.StateSuccess, Started: h.now, Ended: h.now}))
	require.Equal(t, flow.StateSuccess, h.runs("group")[0].State.Current)
	require.Len(t, h.runs("group")[0].Attempts, 2)
	require.Equal(t, "after", fx.Dispatch[0].Task.ID)
}

// A child's retry policy (its own, else the group's, else the flow's)
// travels with the job; the attempts its worker made are recorded, and
// warningOnRetry applies.
func TestWorkingDirectoryChildRetries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
id: wd
namespace: osprey.tests
tasks:
  - id: group
    type: io.kestra.plugin.core.flow.WorkingDirectory
    retry:
      type: constant
      interval: PT1S
      maxAttempt: 3
      warningOnRetry: true
    tasks:
      - id: flaky
        type: io.kestra.plugin.core.debug.Return
        format: one
      - id: own
        type: io.kestra.plugin.core.debug.Return
        format: two
        retry:
          type: constant
          interval: PT2S
          maxAttempt: 2
`)
	d := h.step().Dispatch[0]
	require.Equal(t, "PT1S", d.Children[0].Retry["interval"], "the group's policy")
	require.Equal(t, "PT2S", d.Children[1].Retry["interval"], "the child's own")
	failed := engine.Result{TaskRunID: d.Children[0].TaskRun.ID, TaskID: "flaky", Attempt: 1, State: flow.StateFailed, Error: "boom", Started: h.now, Ended: h.now}
	h.step(groupResult(d, h.now, flow.StateSuccess,
		engine.Result{TaskRunID: d.Children[0].TaskRun.ID, TaskID: "flaky", Attempt: 1, State: flow.StateSuccess, Started: h.now, Ended: h.now, Retried: []engine.Result{failed, failed}},
		engine.Result{TaskRunID: d.Children[1].TaskRun.ID, TaskID: "own", Attempt: 1, State: flow.StateSuccess, Started: h.now, Ended: h.now}))
	flaky := h.runs("flaky")[0]
	require.Len(t, flaky.Attempts, 3)
	require.Equal(t, flow.StateWarning, flaky.State.Current, "warningOnRetry")
	require.Equal(t, flow.StateSuccess, h.runs("own")[0].State.Current)
	require.Equal(t, flow.StateWarning, h.exec.State.Current)
}

// Replaying a WorkingDirectory's child replays its group as a whole: a
// new job runs every child again in a fresh directory.
func TestWorkingDirectoryReplayedAsAWhole(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workDirFlow)
	d := h.step().Dispatch[0]
	fx := h.step(groupResult(d, h.now, flow.StateSuccess,
		engine.Result{TaskRunID: d.Children[0].TaskRun.ID, TaskID: "first", Attempt: 1, State: flow.StateSuccess, Outputs: map[string]any{"value": "one"}, Started: h.now, Ended: h.now},
		engine.Result{TaskRunID: d.Children[1].TaskRun.ID, TaskID: "second", Attempt: 1, State: flow.StateSuccess, Started: h.now, Ended: h.now}))
	h.step(engine.Result{TaskRunID: fx.Dispatch[0].TaskRun.ID, Attempt: 1, State: flow.StateSuccess, Started: h.now, Ended: h.now})
	require.Equal(t, flow.StateSuccess, h.exec.State.Current)

	second := h.runs("second")[0]
	ex, err := engine.Replay(h.eng.Types, h.flow, h.exec, second.ID, nil, h.now)
	require.NoError(t, err)
	require.Empty(t, ex.TaskRunsByTaskID("first"), "the group's children go")
	require.Empty(t, ex.TaskRunsByTaskID("second"))
	require.Empty(t, ex.TaskRunsByTaskID("after"), "what came after the group runs again")
	group := ex.TaskRunsByTaskID("group")
	require.Len(t, group, 1)
	require.Equal(t, flow.StateRestarted, group[0].State.Current)

	h.exec = ex
	fx = h.step()
	require.Len(t, fx.Dispatch, 1)
	require.Equal(t, "group", fx.Dispatch[0].Task.ID)
	require.Equal(t, 2, fx.Dispatch[0].Attempt)
	require.Len(t, fx.Dispatch[0].Children, 2)
}
