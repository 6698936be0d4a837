package cli

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
)

// TestChecksThroughTheAPI: a flow's checks are evaluated with the inputs
// the API receives (Kestra 1.2+, ExecutionController#createExecution): a
// failed BLOCK_EXECUTION check answers 422 and creates nothing, a failed
// FAIL_EXECUTION check creates the execution FAILED.
func TestChecksThroughTheAPI(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: guarded
namespace: acme.team
inputs:
  - id: name
    type: STRING
checks:
  - condition: "{{ inputs.name != 'nobody' }}"
    message: Sorry, this flow needs a name
    style: ERROR
  - condition: "{{ inputs.name != 'failing' }}"
    message: this name fails at once
    behavior: FAIL_EXECUTION
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "hello {{ inputs.name }}"
`)
	post := func(name string) (int, []byte) {
		code, body, err := sys.HTTP(ctx, http.MethodPost, "/api/v1/main/executions/acme.team/guarded", "application/json", []byte(`{"name":"`+name+`"}`))
		require.NoError(t, err)
		return code, body
	}
	code, body := post("nobody")
	require.Equal(t, http.StatusUnprocessableEntity, code, string(body))
	require.Contains(t, string(body), "Flow execution blocked: one or more condition checks evaluated to false. Failed checks: Sorry, this flow needs a name")
	exs, err := sys.Executions(ctx, "acme.team", "guarded")
	require.NoError(t, err)
	require.Empty(t, exs, "a blocked execution is not created")

	code, body = post("failing")
	require.Equal(t, http.StatusOK, code, string(body))
	var ex flow.Execution
	require.NoError(t, json.Unmarshal(body, &ex))
	require.Equal(t, flow.StateFailed, ex.State.Current)

	code, body = post("Kestra")
	require.Equal(t, http.StatusOK, code, string(body))
	require.NoError(t, json.Unmarshal(body, &ex))
	var got *flow.Execution
	require.Eventually(t, func() bool {
		got, err = sys.Execution(ctx, ex.ID)
		return err == nil && got.State.Current.IsTerminal()
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, flow.StateSuccess, got.State.Current)
}
