package cli

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
)

const pausedFlow = `
id: waits
namespace: acme
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: approved
        type: BOOLEAN
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "approved={{ outputs.wait.onResume.approved ?? 'unset' }}"
`

// waitPaused starts flow ns.id and waits until it is PAUSED.
func (s *confSystem) waitPaused(t *testing.T, ns, id string) *flow.Execution {
	t.Helper()
	ex, err := s.Start(t.Context(), ns, id, nil, true, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ex, err = s.Execution(t.Context(), ex.ID)
		return err == nil && ex.State.Current == flow.StatePaused
	}, 20*time.Second, 20*time.Millisecond, "%s.%s pauses", ns, id)
	return ex
}

// TestResumeTask: core.execution.Resume resumes another paused execution
// named by executionId, with onResume inputs, through a command the
// executor applies (Kestra's ResumeTest#resume: resume-execution resumes
// the paused execution of pause.yaml, which then ends).
func TestResumeTask(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, &conformance.Env{}, pausedFlow, `
id: resume-execution
namespace: acme
inputs:
  - id: executionId
    type: STRING
tasks:
  - id: resume
    type: io.kestra.plugin.core.execution.Resume
    executionId: "{{ inputs.executionId }}"
    inputs:
      approved: "{{ 1 == 1 }}"
`)
	paused := sys.waitPaused(t, "acme", "waits")
	ex, err := sys.Start(t.Context(), "acme", "resume-execution", map[string]any{"executionId": paused.ID}, false, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ex, err = sys.Execution(t.Context(), ex.ID)
		return err == nil && ex.State.Current.IsTerminal()
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
	require.Eventually(t, func() bool {
		paused, err = sys.Execution(t.Context(), paused.ID)
		return err == nil && paused.State.Current.IsTerminal()
	}, 20*time.Second, 20*time.Millisecond, "the resumed execution ends")
	require.Equal(t, flow.StateSuccess, paused.State.Current)
	require.Equal(t, "approved=true", paused.TaskRunList[len(paused.TaskRunList)-1].Outputs["value"])
}

// TestResumeTaskRefuses: the property rules of Kestra's
// PluginUtilsService.executionFromTaskParameters (namespace and flowId go
// together, and only with executionId), an execution of another namespace
// resumed without naming it, one that is not paused, and inputs holding a
// secret (they would reach the other execution's outputs unmasked): each
// fails the task with a message and leaves the target as it was.
func TestResumeTaskRefuses(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, &conformance.Env{Vars: map[string]string{
		"SECRET_TOKEN": base64.StdEncoding.EncodeToString([]byte("s3cr3t-t0ken")),
	}}, `
id: done
namespace: acme
tasks:
  - id: hi
    type: io.kestra.plugin.core.log.Log
    message: hi
`, `
id: waits
namespace: other
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
`, `
id: resumer
namespace: acme
inputs:
  - id: executionId
    type: STRING
  - id: how
    type: STRING
tasks:
  - id: pick
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ inputs.how }}"
    cases:
      bare:
        - id: bare
          type: io.kestra.plugin.core.execution.Resume
          executionId: "{{ inputs.executionId }}"
      half:
        - id: half
          type: io.kestra.plugin.core.execution.Resume
          executionId: "{{ inputs.executionId }}"
          namespace: other
      noid:
        - id: noid
          type: io.kestra.plugin.core.execution.Resume
          namespace: other
          flowId: waits
      secret:
        - id: secret
          type: io.kestra.plugin.core.execution.Resume
          executionId: "{{ inputs.executionId }}"
          namespace: other
          flowId: waits
          inputs:
            token: "{{ secret('TOKEN') }}"
      wrongflow:
        - id: wrongflow
          type: io.kestra.plugin.core.execution.Resume
          executionId: "{{ inputs.executionId }}"
          namespace: other
          flowId: elsewhere
`)
	other := sys.waitPaused(t, "other", "waits")
	ended := sys.runToEnd(t, "acme", "done")
	for _, tc := range []struct {
		how, id, want string
	}{
		{"bare", other.ID, "belongs to other.waits, not to namespace acme"},
		{"half", other.ID, "Both `namespace` and `flowId` must be set when `executionId` is set"},
		{"noid", other.ID, "`namespace` and `flowId` should only be set when `executionId` is set"},
		{"wrongflow", other.ID, "not to flow other.elsewhere"},
		{"bare", ended.ID, "not PAUSED"},
		{"secret", other.ID, "inputs hold a secret"},
	} {
		ex, err := sys.Start(t.Context(), "acme", "resumer", map[string]any{"executionId": tc.id, "how": tc.how}, false, nil)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			ex, err = sys.Execution(t.Context(), ex.ID)
			return err == nil && ex.State.Current.IsTerminal()
		}, 20*time.Second, 20*time.Millisecond)
		require.Equal(t, flow.StateFailed, ex.State.Current, tc.how)
		require.Contains(t, ex.TaskRunList[len(ex.TaskRunList)-1].Error, tc.want, tc.how)
	}
	still, err := sys.Execution(t.Context(), other.ID)
	require.NoError(t, err)
	require.Equal(t, flow.StatePaused, still.State.Current, "a refused resume leaves the execution paused")
}

// TestResumeTaskResumesItsOwnExecution: without executionId the task
// resumes the execution it runs in (Kestra's Resume documentation: "the
// task will use the ID of the current execution"): one branch of a
// Parallel pauses the execution, the other resumes it.
func TestResumeTaskResumesItsOwnExecution(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, &conformance.Env{}, `
id: self
namespace: acme
tasks:
  - id: both
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: wait
        type: io.kestra.plugin.core.flow.Pause
      - id: seq
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: nap
            type: io.kestra.plugin.core.flow.Sleep
            duration: PT0.2S
          - id: resume
            type: io.kestra.plugin.core.execution.Resume
`)
	ex := sys.runToEnd(t, "acme", "self")
	require.Equal(t, flow.StateSuccess, ex.State.Current)
	states := map[string]flow.State{}
	for _, tr := range ex.TaskRunList {
		states[tr.TaskID] = tr.State.Current
	}
	require.Equal(t, map[string]flow.State{"both": flow.StateSuccess, "wait": flow.StateSuccess, "seq": flow.StateSuccess,
		"nap": flow.StateSuccess, "resume": flow.StateSuccess}, states)
	paused := false
	for _, h := range ex.State.Histories {
		paused = paused || h.State == flow.StatePaused
	}
	require.True(t, paused, "the execution was paused before the task resumed it: %+v", ex.State.Histories)
}
