package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
)

const slaFlow = `
id: sla
namespace: osprey.tests
inputs:
  - id: mode
    type: STRING
    defaults: PASS
sla:
  - id: budget
    type: MAX_DURATION
    behavior: %s
    duration: PT10S
    labels:
      sla: late
  - id: condition
    type: EXECUTION_ASSERTION
    behavior: CANCEL
    assert: "{{ inputs.mode != 'CANCEL' }}"
  - id: condition
    type: EXECUTION_ASSERTION
    behavior: NONE
    assert: "{{ inputs.mode != 'LABEL' }}"
    labels:
      sla: violated
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: one
  - id: second
    type: io.kestra.plugin.core.debug.Return
    format: two
`

func slaHarness(t *testing.T, behavior, mode string) *harness {
	h := newHarness(t, strings.Replace(slaFlow, "%s", behavior, 1))
	h.exec.Inputs = map[string]any{"mode": mode}
	return h
}

func logsOf(fx engine.Effects, level string) []string {
	var out []string
	for _, l := range fx.Logs {
		if l.Level == level {
			out = append(out, l.Message)
		}
	}
	return out
}

// SLATestCase#maxDurationSLAShouldFail, MaxDurationSLATest: past its
// duration, a running execution fails, and what runs is killed.
func TestSLAMaxDurationFails(t *testing.T) {
	t.Parallel()
	h := slaHarness(t, "FAIL", "PASS")
	fx := h.step()
	require.NotNil(t, fx.WakeAt, "a wake-up at the deadline")
	require.Equal(t, h.now.Add(10*time.Second), *fx.WakeAt)
	running := fx.Dispatch[0].TaskRun.ID

	h.now = h.now.Add(10*time.Second + 3*time.Millisecond)
	fx = h.step()
	require.Equal(t, flow.StateFailed, h.exec.State.Current)
	require.True(t, fx.Ended)
	require.Equal(t, []string{running}, fx.Cancel)
	require.Equal(t, flow.StateFailed, h.runs("first")[0].State.Current, "the last task run going takes the SLA's state")
	require.Equal(t, []string{"SLA 'budget' violated: execution duration of PT10.003S exceed the maximum duration of PT10S."}, logsOf(fx, "WARN"))
	require.Equal(t, []string{"Execution failed due to SLA 'budget' violated: execution duration of PT10.003S exceed the maximum duration of PT10S."}, logsOf(fx, "ERROR"))
	require.Contains(t, h.exec.Labels, flow.Label{Key: "sla", Value: "late"})
	require.Empty(t, h.runs("second"))
}

// SLATestCase#maxDurationSLAShouldPass: an execution that ends in time
// meets its SLA.
func TestSLAMaxDurationMet(t *testing.T) {
	t.Parallel()
	h := slaHarness(t, "FAIL", "PASS")
	h.run()
	require.Equal(t, flow.StateSuccess, h.exec.State.Current)
	require.Empty(t, h.exec.SLAViolated)
	require.Empty(t, h.exec.Labels)
}

// A MAX_DURATION SLA with behavior NONE labels the execution once and
// lets it run on.
func TestSLAMaxDurationNoneLabelsOnce(t *testing.T) {
	t.Parallel()
	h := slaHarness(t, "NONE", "PASS")
	fx := h.step()
	h.now = h.now.Add(time.Minute)
	fx = h.step(engine.Result{TaskRunID: fx.Dispatch[0].TaskRun.ID, Attempt: 1, State: flow.StateSuccess, Started: h.now, Ended: h.now})
	require.Len(t, logsOf(fx, "WARN"), 1)
	require.Equal(t, flow.StateRunning, h.exec.State.Current)
	fx = h.step(engine.Result{TaskRunID: fx.Dispatch[0].TaskRun.ID, Attempt: 1, State: flow.StateSuccess, Started: h.now, Ended: h.now})
	require.Empty(t, logsOf(fx, "WARN"), "an SLA is acted on once")
	require.Equal(t, flow.StateSuccess, h.exec.State.Current)
	require.Equal(t, []flow.Label{{Key: "sla", Value: "late"}}, h.exec.Labels)
}

// SLATestCase#executionConditionSLAShouldPass, #ShouldCancel, #ShouldLabel;
// ExecutionAssertionSLATest.
func TestSLAExecutionAssertion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		mode   string
		state  flow.State
		labels []flow.Label
		warn   string
	}{
		{mode: "PASS", state: flow.StateSuccess},
		{mode: "CANCEL", state: flow.StateCancelled, warn: "SLA 'condition' violated: assertion is false: {{ inputs.mode != 'CANCEL' }}."},
		{mode: "LABEL", state: flow.StateSuccess, labels: []flow.Label{{Key: "sla", Value: "violated"}}, warn: "SLA 'condition' violated: assertion is false: {{ inputs.mode != 'LABEL' }}."},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			h := slaHarness(t, "FAIL", tc.mode)
			fx := h.step()
			if tc.warn != "" {
				require.Equal(t, []string{tc.warn}, logsOf(fx, "WARN"))
			}
			h.run()
			require.Equal(t, tc.state, h.exec.State.Current)
			require.Equal(t, tc.labels, h.exec.Labels)
			if tc.state == flow.StateCancelled {
				require.Empty(t, h.exec.TaskRunList, "cancelled before any task started")
			}
		})
	}
}

// ExecutionAssertionSLATest#shouldFailToEvaluate, SLAService: an assertion
// that cannot be rendered is ignored, with an ERROR line.
func TestSLAAssertionErrorIsIgnored(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
id: sla
namespace: osprey.tests
sla:
  - id: broken
    type: EXECUTION_ASSERTION
    behavior: FAIL
    assert: "{{ nowhere.to.be.found }}"
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: one
`)
	fx := h.step()
	errs := logsOf(fx, "ERROR")
	require.Len(t, errs, 1)
	require.Contains(t, errs[0], "Ignoring SLA 'broken' because of the error:")
	h.run()
	require.Equal(t, flow.StateSuccess, h.exec.State.Current)
}

// Kestra evaluates an EXECUTION_ASSERTION on every change of a running
// execution (ExecutorService#handleExecutionChangedSLA), after the change
// is applied: a task's result that breaks the assertion fails the
// execution in the step that applies it, before it can end in SUCCESS.
func TestSLAAssertionSeesTheLastResult(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `
id: sla
namespace: osprey.tests
sla:
  - id: good-answer
    type: EXECUTION_ASSERTION
    behavior: FAIL
    assert: "{{ outputs.answer is not defined or outputs.answer.value != 'bad' }}"
tasks:
  - id: answer
    type: io.kestra.plugin.core.debug.Return
    format: bad
`)
	d := h.step().Dispatch[0]
	fx := h.step(engine.Result{TaskRunID: d.TaskRun.ID, Attempt: 1, State: flow.StateSuccess, Outputs: map[string]any{"value": "bad"}, Started: h.now, Ended: h.now})
	require.Equal(t, flow.StateFailed, h.exec.State.Current)
	require.True(t, fx.Ended)
	require.Equal(t, flow.StateSuccess, h.runs("answer")[0].State.Current, "the task itself succeeded")
	require.Len(t, logsOf(fx, "ERROR"), 1)
}
