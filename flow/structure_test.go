package flow_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

func parseFile(t *testing.T, file string, opts flow.ParseOptions) *flow.Flow {
	t.Helper()
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	f, err := flow.Parse(src, opts)
	require.NoError(t, err)
	return f
}

func TestParseEveryProperty(t *testing.T) {
	t.Parallel()
	f := parseFile(t, "testdata/valid/every-property.yaml", flow.ParseOptions{Types: corpusTypes{}})

	require.Equal(t, "every-property", f.ID)
	require.Equal(t, "company.team.sub_ns", f.Namespace)
	require.Zero(t, f.Revision, "a revision in the source is ignored, as Kestra ignores it")
	require.Equal(t, "main", f.TenantID)
	require.Equal(t, "Uses every top-level property Kestra accepts.\n", f.Description)
	require.Equal(t, []flow.Label{{Key: "team", Value: "data"}, {Key: "priority", Value: "2"}, {Key: "critical", Value: "true"}}, f.Labels)

	require.Len(t, f.Inputs, 6)
	count := f.Inputs[0]
	require.Equal(t, "count", count.ID)
	require.Equal(t, "INT", count.Type)
	require.Equal(t, 3, count.Defaults)
	require.Equal(t, map[string]any{"min": 1, "max": 10}, count.Props)
	require.True(t, count.IsRequired())
	require.False(t, f.Inputs[1].IsRequired())
	require.Equal(t, true, f.Inputs[2].Defaults)
	require.Equal(t, "Payload", f.Inputs[3].DisplayName)
	require.Equal(t, []any{"red", "green"}, f.Inputs[4].Props["values"])
	require.Equal(t, flow.Position{Line: 14, Column: 5}, count.Pos)

	require.Equal(t, map[string]any{
		"greeting": "hello",
		"nested":   map[string]any{"list": []any{1, 2.5, "three", nil, true}},
	}, ordered.Plain(f.Variables), "integers stay int, decimals float64")
	require.Equal(t, []string{"greeting", "nested"}, f.Variables.Keys(), "variables keep the order written")
	require.Equal(t, &flow.Concurrency{Limit: 2, Behavior: "CANCEL"}, f.Concurrency)
	require.Equal(t, map[string]any{"type": "constant", "maxAttempt": 2, "interval": "PT1S"}, f.Retry)
	require.Equal(t, []*flow.PluginDefault{{Type: "io.kestra.plugin.core.log.Log", Forced: true, Values: map[string]any{"level": "DEBUG"}}}, f.PluginDefaults)

	hello := f.Tasks[0]
	require.Equal(t, []any{"one", "two"}, hello.Props["message"])
	require.Equal(t, "PT5M", hello.Timeout)
	require.Equal(t, "true", hello.RunIf, "runIf takes a boolean as its text")
	require.Equal(t, "WARN", hello.LogLevel)
	require.True(t, hello.AllowFailure)
	require.False(t, hello.Disabled)
	require.Equal(t, map[string]any{"key": "gpu"}, hello.WorkerGroup)
	require.Equal(t, flow.Position{Line: 67, Column: 9}, hello.PosOf("message[1]"))
	require.Equal(t, flow.Position{Line: 75, Column: 7}, hello.PosOf("workerGroup.key"))
	require.Equal(t, flow.Position{Line: 65, Column: 5}, hello.PosOf("tasks[0].message"), "absolute paths work too")
	require.Equal(t, flow.Position{Line: 65, Column: 5}, hello.PosOf("message.missing"), "falls back to the closest property")
	require.Equal(t, hello.Pos, hello.PosOf("nothing"))

	branch := f.Tasks[1]
	require.Equal(t, "tasks[1].then[0]", branch.Children["then"][0].Path)
	require.Equal(t, "no-branch", branch.Children["else"][0].ID)
	require.Equal(t, "yes", branch.Children["then"][0].Props["format"])

	each := f.Tasks[2]
	require.Equal(t, []any{1, 2, 3}, each.Props["values"])
	require.Equal(t, 0, each.Props["concurrencyLimit"])
	require.Equal(t, "inner", each.Children["tasks"][0].ID)

	child := f.Tasks[3]
	require.Equal(t, map[string]any{"count": 4}, ordered.Plain(child.Props["inputs"]), "a Subflow's inputs stay a property")
	require.Nil(t, child.Children)

	require.Equal(t, "errors[0]", f.Errors[0].Path)
	require.Equal(t, "finally[0]", f.Finally[0].Path)
	require.Equal(t, "afterExecution[0]", f.AfterExecution[0].Path)
	require.Len(t, f.AllTasks(), 10)

	require.Equal(t, "result", f.Outputs[0].ID)
	require.False(t, *f.Outputs[0].Required)

	require.Len(t, f.Triggers, 2)
	require.True(t, f.Triggers[0].Disabled)
	require.Equal(t, map[string]any{"cron": "0 * * * *", "inputs": map[string]any{"count": 5}}, ordered.Plain(f.Triggers[0].Props))
	conds, ok := f.Triggers[1].Props["conditions"].([]any)
	require.True(t, ok)
	require.Len(t, conds, 1)
}

func TestParseLegacyShapes(t *testing.T) {
	t.Parallel()
	f := parseFile(t, "testdata/valid/legacy.yaml", flow.ParseOptions{Types: corpusTypes{}})
	require.Equal(t, "who", f.Inputs[0].ID, "inputs[].name is Kestra's legacy id")
	require.Equal(t, "world", f.Inputs[0].Defaults)
	require.Equal(t, "io.kestra.core.tasks.log.Log", f.PluginDefaults[0].Type, "taskDefaults is pluginDefaults")
	require.Len(t, f.AllTasks(), 2, "listeners are ignored")

	f = parseFile(t, "testdata/valid/labels-list.yaml", flow.ParseOptions{})
	require.Equal(t, []flow.Label{{Key: "team", Value: "data"}, {Key: "tier", Value: "1"}}, f.Labels)
}

func TestParseAnchorsAndMergeKeys(t *testing.T) {
	t.Parallel()
	f := parseFile(t, "testdata/valid/anchors.yaml", flow.ParseOptions{Types: corpusTypes{}})
	require.Equal(t, "io.kestra.plugin.core.log.Log", f.Tasks[0].Type)
	require.Equal(t, "shared", f.Tasks[0].Props["message"])
	require.Equal(t, "overridden", f.Tasks[1].Props["message"], "explicit keys win over merged ones")
}

func TestParseSwitchAndDag(t *testing.T) {
	t.Parallel()
	f := parseFile(t, "testdata/valid/switch-dag.yaml", flow.ParseOptions{Types: corpusTypes{}})
	sw := f.Tasks[0]
	require.Equal(t, "a", sw.Cases["A"][0].ID)
	require.Equal(t, "two", sw.Cases["2"][0].ID)
	require.Equal(t, `tasks[0].cases["2"][0]`, sw.Cases["2"][0].Path)
	require.Equal(t, "other", sw.Children["defaults"][0].ID)
	require.NotContains(t, sw.Props, "cases")
	require.NotContains(t, sw.Props, "defaults")

	dag := f.Tasks[1]
	require.Equal(t, 2, dag.Props["concurrent"])
	require.Len(t, dag.DagTasks, 2)
	require.Equal(t, []string{"d1"}, dag.DagTasks[1].DependsOn)
	require.Equal(t, "d2-inner", dag.DagTasks[1].Task.Children["tasks"][0].ID)
	require.Equal(t, "tasks[1].tasks[1].task.tasks[0]", dag.DagTasks[1].Task.Children["tasks"][0].Path)
	require.NotNil(t, f.FindTask("d2-inner"))
}

// absoluteChecker reports as the tasks package does: absolute paths with
// positions it took from PropPos.
type absoluteChecker struct{ corpusTypes }

func (absoluteChecker) CheckTask(t *flow.Task) []*flow.Error {
	if t.ID != "hello" {
		return nil
	}
	p := t.PropPos["message"]
	return []*flow.Error{{Path: t.Path + ".message", Line: p.Line, Column: p.Column, Message: "bad message"}}
}

func (absoluteChecker) CheckTrigger(t *flow.Trigger) []*flow.Error {
	return []*flow.Error{{Path: "triggers", Line: t.Pos.Line, Column: t.Pos.Column, Message: "bad trigger"}}
}

func TestParseTypeCheckerPaths(t *testing.T) {
	t.Parallel()
	src := []byte(`id: paths
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: k
`)
	_, err := flow.Parse(src, flow.ParseOptions{Types: absoluteChecker{}})
	var errs flow.Errors
	require.True(t, errors.As(err, &errs))
	require.Equal(t, flow.Errors{
		{Path: "tasks[0].message", Line: 6, Column: 5, Message: "bad message"},
		{Path: "triggers", Line: 8, Column: 5, Message: "bad trigger"},
	}, errs)
}

func TestParseWithoutTypeChecker(t *testing.T) {
	t.Parallel()
	src := []byte("id: free\nnamespace: company.team\ntasks:\n  - id: x\n    type: com.example.Anything\n    whatever: [1]\n")
	f, err := flow.Parse(src, flow.ParseOptions{})
	require.NoError(t, err)
	require.Equal(t, []any{1}, f.Tasks[0].Props["whatever"])
}

func TestParseBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  []byte
		want string
	}{
		{name: "too large", src: make([]byte, flow.MaxSourceSize+1), want: "the limit is 1048576 bytes"},
		{name: "deep tasks", src: deepTasks(100), want: "tasks nest deeper than 64 levels"},
		{name: "deep values", src: []byte("id: a\nnamespace: b\ntasks: [{id: x, type: y, v: " + repeat("[", 300) + repeat("]", 300) + "}]\n"), want: "nesting deeper than 256 levels"},
		{name: "many errors", src: manyErrors(500), want: "more problems not shown"},
		{name: "unclosed brackets", src: []byte(strings.Repeat("[", 200_000)), want: "1:256: nesting deeper than 256 levels, found before parsing"},
		{name: "unclosed braces", src: []byte("id: a\nv: " + strings.Repeat("{a: ", 50_000)), want: "nesting deeper than 256 levels"},
		{name: "dash sequences", src: []byte("id: a\nv:\n  " + strings.Repeat("- ", 1000) + "x\n"), want: "nesting deeper than 256 levels"},
		{name: "deep block mappings", src: deepMappings(400), want: "nesting deeper than 256 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := flow.Parse(tt.src, flow.ParseOptions{})
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// A block scalar is text: brackets in a script are not nesting.
func TestParseBoundsSkipBlockScalars(t *testing.T) {
	t.Parallel()
	src := "id: a\nnamespace: b\ntasks:\n  - id: x\n    type: y\n    script: |\n      " + repeat("[", 400) + "\n      echo '{'\n    other: >-\n      " + repeat("{", 300) + "\n"
	_, err := flow.Parse([]byte(src), flow.ParseOptions{})
	require.NoError(t, err)
}

func deepMappings(n int) []byte {
	src := "id: a\n"
	for i := range n {
		src += repeat(" ", i) + "k:\n"
	}
	return []byte(src)
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func deepTasks(depth int) []byte {
	src := "id: deep\nnamespace: company.team\ntasks:\n"
	indent := ""
	for i := range depth {
		src += indent + "  - id: t" + string(rune('a'+i%26)) + repeat("x", i/26) + "\n"
		src += indent + "    type: io.kestra.plugin.core.flow.Sequential\n"
		src += indent + "    tasks:\n"
		indent += "    "
	}
	return []byte(src + indent + "  - id: last\n" + indent + "    type: io.kestra.plugin.core.log.Log\n")
}

func manyErrors(n int) []byte {
	src := "id: many\nnamespace: company.team\ntasks:\n"
	for range n {
		src += "  - 1\n"
	}
	return []byte(src)
}
