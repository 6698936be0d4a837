package cli

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
)

// TestMapOrderEndToEnd runs a flow through every component (API, SQLite
// store and queue, executor, worker) and checks that each surface shows a
// map's keys in the order the user wrote them. Kestra reads flow YAML, JSON
// inputs, script output lines and fromJson into Jackson's LinkedHashMap and
// writes them back with that order: OutputValuesTest reads outputs.values
// back as written, and the API returns them so.
func TestMapOrderEndToEnd(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, &conformance.Env{}, `
id: map-order
namespace: company.team
variables:
  zeta: 1
  alpha: {y: 2, x: 3}
inputs:
  - id: payload
    type: JSON
    defaults: '{"b":1,"a":{"d":2,"c":3}}'
tasks:
  - id: values
    type: io.kestra.plugin.core.output.OutputValues
    values:
      zeta: last
      alpha: {y: 2, x: 3}
      mid: "{{ vars.alpha | keys | join(',') }}"
  - id: vars
    type: io.kestra.plugin.core.debug.Return
    format: "{{ vars | toJson }}"
  - id: loop
    type: io.kestra.plugin.core.debug.Return
    format: "{% for e in outputs.values.values %}{{ e.key }};{% endfor %}"
  - id: reread
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.values.values | toJson }}"
  - id: input
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.payload | toJson }}"
  - id: script
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - echo '::{"outputs":{"z":1,"a":{"y":true,"b":null}}}::'
  - id: scriptjson
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.script.vars | toJson }}"
  - id: literal
    type: io.kestra.plugin.core.debug.Return
    format: "{{ {'b': 1, 'a': 2} | merge({'c': 3}) | toJson }}"
  - id: fromjson
    type: io.kestra.plugin.core.debug.Return
    format: "{{ fromJson('{\"q\":1,\"p\":2}') | keys }}"
outputs:
  - id: final
    type: JSON
    value: "{{ outputs.values.values }}"
`)
	ex := sys.runToEnd(t, "company.team", "map-order")
	require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
	value := func(task string) any {
		return ex.TaskRunsByTaskID(task)[0].Outputs["value"]
	}
	for task, want := range map[string]string{
		"vars":       `{"zeta":1,"alpha":{"y":2,"x":3}}`,
		"loop":       `zeta;alpha;mid;`,
		"reread":     `{"zeta":"last","alpha":{"y":2,"x":3},"mid":"y,x"}`,
		"input":      `{"b":1,"a":{"d":2,"c":3}}`,
		"scriptjson": `{"z":1,"a":{"y":true,"b":null}}`,
		"literal":    `{"b":1,"a":2,"c":3}`,
		"fromjson":   `["q","p"]`,
	} {
		require.Equal(t, want, value(task), "task %s", task)
	}

	// The API's JSON holds the outputs as the store kept them, in order.
	code, body, err := sys.HTTP(t.Context(), http.MethodGet, "/api/v1/main/executions/"+ex.ID, "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, string(body))
	require.Contains(t, string(body), `"values":{"zeta":"last","alpha":{"y":2,"x":3},"mid":"y,x"}`)
	require.Contains(t, string(body), `"final":{"zeta":"last","alpha":{"y":2,"x":3},"mid":"y,x"}`)
	require.Contains(t, string(body), `"payload":{"b":1,"a":{"d":2,"c":3}}`)
}
