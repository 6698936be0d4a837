package server

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/tasks"
)

// TestInvalidFlowWithRealParser checks what a flow author sees through the
// API with Osprey's own parser and task types: 422 and the line and column
// of every problem.
func TestInvalidFlowWithRealParser(t *testing.T) {
	t.Parallel()
	types := tasks.New()
	parse := func(src []byte) (*flow.Flow, error) { return flow.Parse(src, flow.ParseOptions{Types: types}) }
	tests := []struct {
		name         string
		src          string
		path         string
		line, column int
	}{
		{name: "syntax error", src: "id: a\nnamespace: n\ntasks:\n  - id: t\n   type: x\n", line: 5},
		{name: "unknown task type", src: "id: a\nnamespace: n\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Nope\n", path: "tasks[0].type", line: 5},
		{name: "missing id", src: "namespace: n\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n", path: "id", line: 1},
		{name: "wrong property type", src: "id: a\nnamespace: n\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n    allowFailure: [1]\n", path: "tasks[0].allowFailure", line: 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(o *Options) { o.Parse = parse })
			for _, path := range []string{"/api/v1/main/flows", "/api/v1/flows/validate"} {
				rec := e.do(t, req{method: "POST", path: path, body: tc.src, contentType: "application/x-yaml"})
				var details []detail
				if path == "/api/v1/flows/validate" {
					require.Equal(t, http.StatusOK, rec.Code)
					v := decode[[]struct {
						Flow        string   `json:"flow"`
						Constraints string   `json:"constraints"`
						Details     []detail `json:"details"`
					}](t, rec)
					require.Len(t, v, 1)
					require.NotEmpty(t, v[0].Constraints)
					if tc.name == "unknown task type" || tc.name == "wrong property type" {
						require.Equal(t, "a", v[0].Flow, "a refused flow is still named")
					}
					details = v[0].Details
				} else {
					details = requireError(t, rec, http.StatusUnprocessableEntity, "").Details
				}
				require.NotEmpty(t, details, rec.Body.String())
				require.Equal(t, tc.line, details[0].Line, rec.Body.String())
				require.Positive(t, details[0].Column)
				if tc.path != "" {
					require.Equal(t, tc.path, details[0].Path, rec.Body.String())
				}
			}
		})
	}
}

// TestFlowJSONWithRealParser checks that a flow parsed by Osprey's parser
// comes back with its tasks' own properties, nested tasks and inputs.
func TestFlowJSONWithRealParser(t *testing.T) {
	t.Parallel()
	types := tasks.New()
	e := newEnv(t, func(o *Options) {
		o.Parse = func(src []byte) (*flow.Flow, error) { return flow.Parse(src, flow.ParseOptions{Types: types}) }
	})
	src := `id: tour
namespace: company.team
inputs:
  - id: name
    type: STRING
    defaults: world
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.name }}"
  - id: group
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: ret
        type: io.kestra.plugin.core.debug.Return
        format: "{{ flow.id }}"
`
	e.createFlow(t, src)
	rec := e.do(t, req{method: "GET", path: "/api/v1/main/flows/company.team/tour"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	got := decode[map[string]any](t, rec)
	tasks := got["tasks"].([]any)
	require.Equal(t, "Hello {{ inputs.name }}", tasks[0].(map[string]any)["message"], rec.Body.String())
	nested := tasks[1].(map[string]any)["tasks"].([]any)
	require.Equal(t, "{{ flow.id }}", nested[0].(map[string]any)["format"], rec.Body.String())
	inputs := got["inputs"].([]any)
	require.Equal(t, "world", inputs[0].(map[string]any)["defaults"])
	require.EqualValues(t, 1, got["revision"])
}
