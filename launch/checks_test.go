package launch_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/tasks"
)

// notEqualEvaluator evaluates the one form of condition these tests
// write, {{ inputs.NAME != 'VALUE' }}, against the execution's inputs (the
// expression engine is cli's to wire).
func notEqualEvaluator(_ *flow.Flow, ex *flow.Execution, tmpl string) (string, error) {
	m := regexp.MustCompile(`^\{\{ inputs\.(\w+) != '(\w+)' \}\}$`).FindStringSubmatch(tmpl)
	if m == nil {
		return "", fmt.Errorf("condition %q is not understood here", tmpl)
	}
	return fmt.Sprint(fmt.Sprint(ex.Inputs[m[1]]) != m[2]), nil
}

const checksFlow = `id: checked
namespace: company.team
inputs:
  - id: env
    type: STRING
checks:
  - condition: "{{ inputs.env != 'blocked' }}"
    message: this environment is closed
    style: ERROR
  - when: "{{ inputs.env != 'broken' }}"
    message: this environment fails at once
    behavior: FAIL_EXECUTION
  - condition: "{{ inputs.env != 'noted' }}"
    message: only a note
    behavior: CREATE_EXECUTION
    style: WARNING
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: hi
`

// Kestra's flow checks (Kestra 1.2+, ExecutionController#createExecution,
// FlowServiceTest#shouldReturnCheckWhenConditionEvaluatesFalse,
// CheckTest#shouldReturnBlockExecutionGivenMixedBehaviors): evaluated with
// the inputs before an execution is created through the API; the most
// restrictive failed check decides.
func TestChecks(t *testing.T) {
	t.Parallel()
	l, st := newLauncher(t)
	f, err := flow.Parse([]byte(checksFlow), flow.ParseOptions{Types: tasks.New()})
	require.NoError(t, err)
	f.Revision = 1
	l.Evaluate = notEqualEvaluator
	cases := []struct {
		env     string
		state   flow.State
		refused string
	}{
		{env: "prod", state: flow.StateCreated},
		{env: "blocked", refused: "checks: Flow execution blocked: one or more condition checks evaluated to false. Failed checks: this environment is closed"},
		{env: "broken", state: flow.StateFailed},
		{env: "noted", state: flow.StateCreated},
	}
	for _, tc := range cases {
		t.Run(tc.env, func(t *testing.T) {
			ex, err := l.Start(t.Context(), f, map[string]any{"env": tc.env}, nil)
			if tc.refused != "" {
				require.ErrorContains(t, err, tc.refused)
				var fe flow.Errors
				require.ErrorAs(t, err, &fe, "the API answers 422 with the check's message")
				return
			}
			require.NoError(t, err)
			got, _, err := st.Executions().Get(t.Context(), ex.ID)
			require.NoError(t, err)
			require.Equal(t, tc.state, got.State.Current)
			if tc.state == flow.StateFailed {
				require.Equal(t, "Flow execution failed because one or more condition checks evaluated to false. Failed checks: this environment fails at once", got.Error)
			}
		})
	}
}

// Triggers and subflows build executions without the checks, as Kestra
// checks only what its API creates.
func TestChecksAreTheAPIs(t *testing.T) {
	t.Parallel()
	l, _ := newLauncher(t)
	f, err := flow.Parse([]byte(checksFlow), flow.ParseOptions{Types: tasks.New()})
	require.NoError(t, err)
	l.Evaluate = func(*flow.Flow, *flow.Execution, string) (string, error) { return "false", nil }
	ex, err := l.Build(f, map[string]any{"env": "blocked"}, nil)
	require.NoError(t, err)
	require.Equal(t, flow.StateCreated, ex.State.Current)
	require.Error(t, l.Checks(f, ex))
}
