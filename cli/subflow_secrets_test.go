package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
)

// TestSubflowInputsHoldingSecretsAreSealed passes a secret to a subflow as
// an input: the child execution is stored with the input sealed, its task
// sees the value, and a secret inside a list input is refused.
func TestSubflowInputsHoldingSecretsAreSealed(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const value = "s3cr3t-for-the-child"
	sys := startSystem(t, &conformance.Env{Vars: map[string]string{
		"SECRET_TOKEN": base64.StdEncoding.EncodeToString([]byte(value)),
	}}, `
id: child
namespace: acme
inputs:
  - {id: token, type: STRING}
tasks:
  - id: use
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.token | length }}"
`, `
id: parent
namespace: acme
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: acme
    flowId: child
    inputs:
      token: "{{ secret('TOKEN') }}"
    labels:
      from: "parent {{ secret('TOKEN') }}"
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["{{ secret('TOKEN') }}", "plain"]
    tasks:
      - {id: inner, type: io.kestra.plugin.core.debug.Return, format: "{{ taskrun.value }}"}
`, `
id: child-json
namespace: acme
inputs:
  - {id: token, type: JSON}
tasks:
  - {id: use, type: io.kestra.plugin.core.debug.Return, format: x}
`, `
id: parent-list
namespace: acme
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: acme
    flowId: child-json
    inputs:
      token: ["{{ secret('TOKEN') }}"]
`)
	parent := sys.runToEnd(t, "acme", "parent")
	require.Equal(t, flow.StateSuccess, parent.State.Current, "%v", parent.TaskRunList)
	child, err := sys.Execution(ctx, parent.TaskRunList[0].Outputs["executionId"].(string))
	require.NoError(t, err)
	require.Equal(t, fmt.Sprint(len(value)), fmt.Sprint(child.TaskRunList[0].Outputs["value"]), "the child's task sees the value")
	raw, err := json.Marshal(child)
	require.NoError(t, err)
	require.NotContains(t, string(raw), value, "the child execution holds no clear secret")
	require.Contains(t, string(raw), "aes_encrypted", "its input is sealed")
	require.Contains(t, child.Labels, flow.Label{Key: "from", Value: "parent ******"}, "its labels are masked")
	raw, err = json.Marshal(parent)
	require.NoError(t, err)
	require.NotContains(t, string(raw), value, "the parent's loop values are masked")

	failed := sys.runToEnd(t, "acme", "parent-list")
	require.Equal(t, flow.StateFailed, failed.State.Current)
	require.True(t, strings.Contains(failed.TaskRunList[0].Error, "only text inputs can carry a secret"), failed.TaskRunList[0].Error)
	require.NotContains(t, failed.TaskRunList[0].Error, value)
}
