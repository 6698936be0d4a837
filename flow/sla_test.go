package flow_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
)

// SLATestCase's flows (sla-max-duration-*.yaml, sla-execution-condition.yaml)
// and Kestra's checks, read into the model: behaviors upper-cased, labels as
// a map or a list, Kestra 2.0's `when` read as condition, defaults filled.
func TestParseSLAAndChecks(t *testing.T) {
	t.Parallel()
	f, err := flow.Parse([]byte(`id: f
namespace: company.team
sla:
  - id: budget
    type: MAX_DURATION
    behavior: fail
    duration: PT0.5S
  - id: condition
    type: EXECUTION_ASSERTION
    behavior: NONE
    assert: "{{ inputs.x != 'LABEL' }}"
    labels:
      - key: sla
        value: violated
checks:
  - when: "{{ inputs.x > 0 }}"
    message: positive
  - condition: "{{ true }}"
    message: fine
    behavior: FAIL_EXECUTION
    style: error
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: x
`), flow.ParseOptions{Types: corpusTypes{}})
	require.NoError(t, err)
	require.Equal(t, []*flow.SLA{
		{ID: "budget", Type: flow.SLAMaxDuration, Behavior: flow.SLAFail, Duration: "PT0.5S"},
		{ID: "condition", Type: flow.SLAExecutionAssertion, Behavior: flow.SLANone, Assert: "{{ inputs.x != 'LABEL' }}", Labels: []flow.Label{{Key: "sla", Value: "violated"}}},
	}, f.SLA)
	require.Equal(t, []*flow.Check{
		{Condition: "{{ inputs.x > 0 }}", Message: "positive", Style: "INFO", Behavior: flow.CheckBlock},
		{Condition: "{{ true }}", Message: "fine", Style: "ERROR", Behavior: flow.CheckFail},
	}, f.Checks)
}
