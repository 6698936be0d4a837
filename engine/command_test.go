package engine_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/tasks"
)

const commandFlow = `id: f
namespace: n
tasks:
  - {id: a, type: io.kestra.plugin.core.log.Log, message: a}
  - id: approve
    type: io.kestra.plugin.core.flow.Pause
  - {id: b, type: io.kestra.plugin.core.log.Log, message: b}
errors:
  - {id: alert, type: io.kestra.plugin.core.log.Log, message: alert}
`

// execIn builds an execution of commandFlow in state st with task runs
// given as taskID=STATE, top level, in order.
func execIn(st flow.State, runs ...string) *flow.Execution {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ex := &flow.Execution{ID: "ex1", Namespace: "n", FlowID: "f", FlowRevision: 1,
		State: flow.NewStateInfo(flow.StateCreated, now), Metadata: &flow.ExecutionMetadata{AttemptNumber: 1}}
	if st != flow.StateCreated {
		ex.State.Set(st, now)
	}
	for i, r := range runs {
		id, s, _ := strings.Cut(r, "=")
		tr := &flow.TaskRun{ID: fmt.Sprintf("tr-%d", i), ExecutionID: ex.ID, TaskID: id, State: flow.NewStateInfo(flow.StateCreated, now)}
		tr.State.Set(flow.State(s), now)
		if s == string(flow.StateFailed) {
			tr.Error = "boom"
		}
		ex.TaskRunList = append(ex.TaskRunList, tr)
	}
	return ex
}

// withLabels gives ex labels written key=value.
func withLabels(ex *flow.Execution, labels ...string) *flow.Execution {
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		ex.Labels = append(ex.Labels, flow.Label{Key: k, Value: v})
	}
	return ex
}

func stateOf(ex *flow.Execution, taskID string) flow.State {
	for _, tr := range ex.TaskRunList {
		if tr.TaskID == taskID {
			return tr.State.Current
		}
	}
	return ""
}

// TestApply covers every command on the states it accepts and refuses:
// a refusal wraps ErrInvalidTransition and changes nothing.
func TestApply(t *testing.T) {
	t.Parallel()
	reg := tasks.New()
	f, err := flow.Parse([]byte(commandFlow), flow.ParseOptions{Types: reg})
	require.NoError(t, err)
	now := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		ex      *flow.Execution
		cmd     engine.Command
		refused bool
		applied engine.Applied
		check   func(t *testing.T, ex *flow.Execution)
	}{
		{name: "kill a running execution", ex: execIn(flow.StateRunning, "a=RUNNING"), cmd: engine.Command{Kind: engine.CommandKill},
			applied: engine.Applied{KillSubflows: true},
			check:   func(t *testing.T, ex *flow.Execution) { require.Equal(t, flow.StateKilling, ex.State.Current) }},
		{name: "kill a paused execution", ex: execIn(flow.StatePaused, "a=SUCCESS", "approve=PAUSED"), cmd: engine.Command{Kind: engine.CommandKill},
			applied: engine.Applied{KillSubflows: true},
			check:   func(t *testing.T, ex *flow.Execution) { require.Equal(t, flow.StateKilling, ex.State.Current) }},
		{name: "kill without cascade", ex: execIn(flow.StateRunning, "a=RUNNING"), cmd: engine.Command{Kind: engine.CommandKill, NoCascade: true},
			check: func(t *testing.T, ex *flow.Execution) { require.Equal(t, flow.StateKilling, ex.State.Current) }},
		{name: "kill an ended execution only reaches its subflows", ex: execIn(flow.StateSuccess, "a=SUCCESS"), cmd: engine.Command{Kind: engine.CommandKill},
			applied: engine.Applied{KillSubflows: true},
			check:   func(t *testing.T, ex *flow.Execution) { require.Equal(t, flow.StateSuccess, ex.State.Current) }},
		{name: "resume a paused execution with its inputs", ex: execIn(flow.StatePaused, "a=SUCCESS", "approve=PAUSED"),
			cmd: engine.Command{Kind: engine.CommandResume, OnResume: map[string]map[string]any{"approve": {"ok": true}}},
			check: func(t *testing.T, ex *flow.Execution) {
				require.Equal(t, flow.StateRunning, ex.State.Current)
				require.Equal(t, flow.StateRunning, stateOf(ex, "approve"))
				require.Equal(t, map[string]any{"onResume": map[string]any{"ok": true}}, ex.TaskRunList[1].Outputs)
			}},
		{name: "resume a running execution", ex: execIn(flow.StateRunning, "a=RUNNING"), cmd: engine.Command{Kind: engine.CommandResume}, refused: true},
		{name: "restart a failed execution", ex: execIn(flow.StateFailed, "a=SUCCESS", "approve=FAILED", "alert=SUCCESS"), cmd: engine.Command{Kind: engine.CommandRestart},
			check: func(t *testing.T, ex *flow.Execution) {
				require.Equal(t, flow.StateRestarted, ex.State.Current)
				require.Equal(t, 2, ex.Metadata.AttemptNumber)
				require.Equal(t, flow.StateSuccess, stateOf(ex, "a"))
				require.Equal(t, flow.StateRunning, stateOf(ex, "approve"), "a flowable runs again")
				require.Empty(t, ex.TaskRunList[1].Error)
				require.Empty(t, stateOf(ex, "alert"), "the errors branch is dropped")
				// ExecutionServiceTest#restartSimple
				require.Contains(t, ex.Labels, flow.Label{Key: "system.restarted", Value: "true"})
			}},
		{name: "restart an execution labelled restarted already", ex: withLabels(execIn(flow.StateFailed, "a=FAILED"), "system.restarted=true"),
			cmd: engine.Command{Kind: engine.CommandRestart},
			check: func(t *testing.T, ex *flow.Execution) {
				require.Equal(t, []flow.Label{{Key: "system.restarted", Value: "true"}}, ex.Labels, "the label once")
			}},
		// a ForEachItem restarts its failed batch's execution (EndedBefore:
		// when the parent restarted); the execution ended before then
		{name: "restart a batch's execution that failed before", ex: execIn(flow.StateFailed, "a=FAILED"),
			cmd: engine.Command{Kind: engine.CommandRestart, EndedBefore: ptr(time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC))},
			check: func(t *testing.T, ex *flow.Execution) {
				require.Equal(t, flow.StateRestarted, ex.State.Current)
				require.Equal(t, flow.StateRestarted, stateOf(ex, "a"))
			}},
		// the parent sends it again before the restart shows: the
		// execution restarted and failed anew since, so it stays as it is
		{name: "restart a batch's execution that failed since", ex: execIn(flow.StateFailed, "a=FAILED"),
			cmd: engine.Command{Kind: engine.CommandRestart, EndedBefore: ptr(time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC))},
			check: func(t *testing.T, ex *flow.Execution) {
				require.Equal(t, flow.StateFailed, ex.State.Current)
				require.Equal(t, 1, ex.Metadata.AttemptNumber)
			}},
		{name: "restart a batch's execution running again", ex: execIn(flow.StateRunning, "a=RUNNING"),
			cmd:   engine.Command{Kind: engine.CommandRestart, EndedBefore: ptr(time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC))},
			check: func(t *testing.T, ex *flow.Execution) { require.Equal(t, flow.StateRunning, ex.State.Current) }},
		{name: "restart reruns a failed runnable task", ex: execIn(flow.StateKilled, "a=KILLED"), cmd: engine.Command{Kind: engine.CommandRestart},
			check: func(t *testing.T, ex *flow.Execution) { require.Equal(t, flow.StateRestarted, stateOf(ex, "a")) }},
		{name: "restart a successful execution", ex: execIn(flow.StateSuccess, "a=SUCCESS"), cmd: engine.Command{Kind: engine.CommandRestart}, refused: true},
		{name: "change the status of an ended execution", ex: execIn(flow.StateFailed, "a=FAILED"),
			cmd:   engine.Command{Kind: engine.CommandChangeStatus, State: flow.StateSuccess},
			check: func(t *testing.T, ex *flow.Execution) { require.Equal(t, flow.StateSuccess, ex.State.Current) }},
		{name: "change the status of a running execution", ex: execIn(flow.StateRunning, "a=RUNNING"),
			cmd: engine.Command{Kind: engine.CommandChangeStatus, State: flow.StateSuccess}, refused: true},
		{name: "change the status to a state that is not an end", ex: execIn(flow.StateFailed, "a=FAILED"),
			cmd: engine.Command{Kind: engine.CommandChangeStatus, State: flow.StateRunning}, refused: true},
		{name: "change a task run's state", ex: execIn(flow.StateFailed, "a=FAILED"),
			cmd: engine.Command{Kind: engine.CommandChangeStatus, State: flow.StateSuccess, TaskRunID: "tr-0"},
			check: func(t *testing.T, ex *flow.Execution) {
				require.Equal(t, flow.StateSuccess, stateOf(ex, "a"))
				require.Equal(t, flow.StateRestarted, ex.State.Current, "the executor carries on from there")
			}},
		{name: "change an unknown task run's state", ex: execIn(flow.StateFailed, "a=FAILED"),
			cmd: engine.Command{Kind: engine.CommandChangeStatus, State: flow.StateSuccess, TaskRunID: "nope"}, refused: true},
		{name: "pause a running execution", ex: execIn(flow.StateRunning, "a=RUNNING"), cmd: engine.Command{Kind: engine.CommandPause},
			check: func(t *testing.T, ex *flow.Execution) { require.Equal(t, flow.StatePaused, ex.State.Current) }},
		{name: "pause an ended execution", ex: execIn(flow.StateSuccess), cmd: engine.Command{Kind: engine.CommandPause}, refused: true},
		{name: "force a queued execution to run", ex: execIn(flow.StateQueued), cmd: engine.Command{Kind: engine.CommandForceRun},
			applied: engine.Applied{ForceRun: true},
			check: func(t *testing.T, ex *flow.Execution) {
				require.Equal(t, flow.StateQueued, ex.State.Current, "the step starts it")
			}},
		{name: "force a running execution", ex: execIn(flow.StateRunning), cmd: engine.Command{Kind: engine.CommandForceRun}, refused: true},
		// ExecutionControllerTest#setLabels: new keys are added, a key the
		// execution has takes the new value, system labels stay Osprey's.
		{name: "set labels on an ended execution", ex: withLabels(execIn(flow.StateSuccess), "system.correlationId=ex1", "team=data"),
			cmd: engine.Command{Kind: engine.CommandSetLabels, Labels: []flow.Label{{Key: "team", Value: "ops"}, {Key: "env", Value: "prod"},
				{Key: "system.correlationId", Value: "ex1"}}},
			check: func(t *testing.T, ex *flow.Execution) {
				require.Equal(t, []flow.Label{{Key: "system.correlationId", Value: "ex1"}, {Key: "team", Value: "ops"}, {Key: "env", Value: "prod"}}, ex.Labels)
			}},
		{name: "set labels on a running execution", ex: execIn(flow.StateRunning),
			cmd: engine.Command{Kind: engine.CommandSetLabels, Labels: []flow.Label{{Key: "a", Value: "b"}}}, refused: true},
		{name: "set a system label", ex: withLabels(execIn(flow.StateSuccess), "system.correlationId=ex1"),
			cmd: engine.Command{Kind: engine.CommandSetLabels, Labels: []flow.Label{{Key: "system.correlationId", Value: "other"}}}, refused: true},
		{name: "unqueue to run now", ex: execIn(flow.StateQueued), cmd: engine.Command{Kind: engine.CommandUnqueue, State: flow.StateRunning},
			applied: engine.Applied{ForceRun: true},
			check: func(t *testing.T, ex *flow.Execution) {
				require.Equal(t, flow.StateQueued, ex.State.Current, "the step starts it")
			}},
		{name: "unqueue to cancel", ex: execIn(flow.StateQueued), cmd: engine.Command{Kind: engine.CommandUnqueue, State: flow.StateCancelled},
			check: func(t *testing.T, ex *flow.Execution) { require.Equal(t, flow.StateCancelled, ex.State.Current) }},
		{name: "unqueue to success", ex: execIn(flow.StateQueued), cmd: engine.Command{Kind: engine.CommandUnqueue, State: flow.StateSuccess}, refused: true},
		{name: "unqueue a running execution", ex: execIn(flow.StateRunning), cmd: engine.Command{Kind: engine.CommandUnqueue, State: flow.StateRunning}, refused: true},
		{name: "an unknown command", ex: execIn(flow.StateRunning), cmd: engine.Command{Kind: "REWIND"}, refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := execJSON(t, tt.ex)
			applied, err := engine.Apply(reg, f, tt.ex, tt.cmd, now)
			if tt.refused {
				require.ErrorIs(t, err, engine.ErrInvalidTransition)
				require.JSONEq(t, before, execJSON(t, tt.ex), "a refused command changes nothing")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.applied, applied)
			tt.check(t, tt.ex)
		})
	}
}

// TestCommandsThroughSteps drives executions with commands the way the
// executor does: ApplyAll, then Advance.
func TestCommandsThroughSteps(t *testing.T) {
	t.Parallel()
	step := func(h *harness, cmds ...engine.Command) (engine.Applied, []flow.LogEntry, engine.Effects) {
		applied, logs := engine.ApplyAll(h.eng.Types, h.flow, h.exec, cmds, h.now)
		return applied, logs, h.step()
	}

	t.Run("kill stops the running task and ends KILLED", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, commandFlow)
		h.step()
		require.Equal(t, []string{"a"}, h.dispatched)
		_, logs, fx := step(h, engine.Command{Kind: engine.CommandKill})
		require.Empty(t, logs)
		require.Equal(t, flow.StateKilled, h.exec.State.Current)
		require.True(t, h.exec.State.Has(flow.StateKilling), "the history shows the kill was asked")
		require.Equal(t, []string{h.runs("a")[0].ID}, fx.Cancel, "the worker is told to stop")
	})

	t.Run("resume carries the inputs to the next task", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, commandFlow)
		h.run()
		require.Equal(t, flow.StatePaused, h.exec.State.Current)
		_, logs, _ := step(h, engine.Command{Kind: engine.CommandResume, OnResume: map[string]map[string]any{"approve": {"ok": true}}})
		require.Empty(t, logs)
		h.run()
		require.Equal(t, flow.StateSuccess, h.exec.State.Current)
		require.Equal(t, []string{"a", "b"}, h.dispatched)
		require.Equal(t, map[string]any{"ok": true}, h.runs("approve")[0].Outputs["onResume"])
	})

	t.Run("a manual pause holds what comes next until resumed", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, `id: f
namespace: n
tasks:
  - {id: a, type: io.kestra.plugin.core.log.Log, message: a}
  - {id: b, type: io.kestra.plugin.core.log.Log, message: b}`)
		h.step()
		step(h, engine.Command{Kind: engine.CommandPause})
		require.Equal(t, flow.StatePaused, h.exec.State.Current)
		d := h.pending[0]
		h.pending = nil
		h.step(engine.Result{TaskRunID: d.TaskRun.ID, Attempt: d.Attempt, State: flow.StateSuccess, Started: h.now, Ended: h.now})
		require.Equal(t, []string{"a"}, h.dispatched, "b waits for the resume")
		require.Equal(t, flow.StatePaused, h.exec.State.Current)
		step(h, engine.Command{Kind: engine.CommandResume})
		h.run()
		require.Equal(t, flow.StateSuccess, h.exec.State.Current)
		require.Equal(t, []string{"a", "b"}, h.dispatched)
	})

	t.Run("restart runs the failed task again with a new attempt", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, commandFlow)
		fails := true
		h.answers["a"] = func(int) outcome {
			if fails {
				return outcome{state: flow.StateFailed}
			}
			return outcome{state: flow.StateSuccess}
		}
		h.run()
		require.Equal(t, flow.StateFailed, h.exec.State.Current)
		require.Equal(t, []string{"a", "alert"}, h.dispatched)
		fails = false
		_, logs, _ := step(h, engine.Command{Kind: engine.CommandRestart})
		require.Empty(t, logs)
		h.run()
		require.Equal(t, flow.StatePaused, h.exec.State.Current, "past a, now at the pause")
		require.Equal(t, []string{"a", "alert", "a"}, h.dispatched)
		require.Len(t, h.runs("a")[0].Attempts, 2)
		require.Empty(t, h.runs("alert"))
	})

	t.Run("a command the execution moved past is logged, not applied", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, commandFlow)
		h.step()
		_, logs, _ := step(h, engine.Command{Kind: engine.CommandResume})
		require.Len(t, logs, 1)
		require.Equal(t, "WARN", logs[0].Level)
		require.Contains(t, logs[0].Message, "RESUME refused")
		require.Equal(t, flow.StateRunning, h.exec.State.Current)
	})
}

func execJSON(t *testing.T, ex *flow.Execution) string {
	t.Helper()
	b, err := json.Marshal(ex)
	require.NoError(t, err)
	return string(b)
}

// TestRestartStartsAFailedSubflowAgain checks that a restarted Subflow
// task run forgets the failed execution it started, so the step starts a
// new one instead of reading the failure again.
func TestRestartStartsAFailedSubflowAgain(t *testing.T) {
	t.Parallel()
	reg := tasks.New()
	f, err := flow.Parse([]byte(`id: f
namespace: n
tasks:
  - {id: call, type: io.kestra.plugin.core.flow.Subflow, namespace: n, flowId: child}`), flow.ParseOptions{Types: reg})
	require.NoError(t, err)
	ex := execIn(flow.StateFailed, "call=FAILED")
	ex.TaskRunList[0].Outputs = map[string]any{"executionId": "child-1"}
	_, err = engine.Apply(reg, f, ex, engine.Command{Kind: engine.CommandRestart}, time.Now())
	require.NoError(t, err)
	require.Equal(t, flow.StateRunning, ex.TaskRunList[0].State.Current)
	require.Nil(t, ex.TaskRunList[0].Outputs)
}

func ptr[T any](v T) *T { return &v }

// TestBatchRestartWithoutItsFlow: a ForEachItem's restart of a batch
// whose flow revision is gone is refused, but the execution ends again
// (after the parent's restart) and wakes the parent, which would
// otherwise wait for it for ever.
func TestBatchRestartWithoutItsFlow(t *testing.T) {
	t.Parallel()
	ex := execIn(flow.StateFailed, "a=FAILED")
	parentRestart := time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC)
	now := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	applied, logs := engine.ApplyAll(tasks.New(), nil, ex, []engine.Command{{Kind: engine.CommandRestart, EndedBefore: &parentRestart}}, now)
	require.True(t, applied.WakeParent)
	require.Len(t, logs, 1)
	require.Contains(t, logs[0].Message, "cannot be loaded")
	require.Equal(t, flow.StateFailed, ex.State.Current)
	require.Equal(t, now, ex.State.Histories[len(ex.State.Histories)-1].Date, "it ended after the parent's restart")
	require.Equal(t, flow.StateFailed, stateOf(ex, "a"))

	// a plain restart of it is refused and changes nothing
	before := execJSON(t, ex)
	applied, logs = engine.ApplyAll(tasks.New(), nil, ex, []engine.Command{{Kind: engine.CommandRestart}}, now.Add(time.Minute))
	require.False(t, applied.WakeParent)
	require.Len(t, logs, 1)
	require.JSONEq(t, before, execJSON(t, ex))
}
