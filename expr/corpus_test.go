package expr

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// readArchive reads a txtar-style file: a comment, then "-- name --" sections.
func readArchive(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	out := map[string]string{}
	name := ""
	var body strings.Builder
	flush := func() {
		if name != "" {
			out[name] = strings.TrimSuffix(body.String(), "\n")
		}
		body.Reset()
	}
	for _, line := range strings.SplitAfter(string(b), "\n") {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") {
			flush()
			name = strings.TrimSuffix(strings.TrimPrefix(trimmed, "-- "), " --")
			continue
		}
		body.WriteString(line)
	}
	flush()
	return out
}

// TestKestraCorpusCompiles checks that every templated string of Kestra's own
// test flows compiles.
func TestKestraCorpusCompiles(t *testing.T) {
	t.Parallel()
	templates := readArchive(t, "testdata/kestra-corpus.txtar")
	require.Len(t, templates, 94)
	e := New(Options{})
	for name, tmpl := range templates {
		require.NoError(t, e.Validate(tmpl), "%s: %q", name, tmpl)
	}
}

// TestKestraCorpusRenders renders the corpus expressions whose result the
// Kestra tests assert, with the context those flows see.
func TestKestraCorpusRenders(t *testing.T) {
	t.Parallel()
	e := testEngine()
	s := &Scope{Strict: true, Vars: map[string]any{
		"task":    map[string]any{"id": "t1", "type": "io.kestra.plugin.core.debug.Return"},
		"taskrun": map[string]any{"id": "tr", "value": "value 2", "attemptsCount": int64(3)},
		"parent":  map[string]any{"taskrun": map[string]any{"value": `{"key":"k","value":"value 1"}`}},
		"outputs": map[string]any{
			"1-2-1_return":  map[string]any{"s1": map[string]any{"a a": map[string]any{"value": "x"}}},
			"output_values": map[string]any{"values": map[string]any{"count": "6"}},
			"pause":         map[string]any{"onResume": map[string]any{}},
			"error-t1":      map[string]any{"value": "from error"},
		},
		"trigger": map[string]any{"body": map[string]any{"hello": "world"}},
		"labels":  map[string]any{"some": "label", "system": map[string]any{"correlationId": "c1"}},
		"globals": map[string]any{"string": "string", "int": 1, "bool": true, "nested": map[string]any{"int": 2}},
		"vars":    map[string]any{"first": "1", "second": "{{vars.first}} > 2", "third": "{{vars.second}} > 3"},
	}}
	cases := map[string]string{
		"{{ taskrun.value equals 'value 2' }}":                                       "true",
		"{{ parent.taskrun.value | jq('.value') }}":                                  `["value 1"]`,
		"{{ taskrun.attemptsCount == 3 ? 'ok' : ko}}":                                "ok",
		"{{outputs['1-2-1_return'].s1['a a'].value}}":                                "x",
		"{{ outputs.output_values.values.count == '6'}}":                             "true",
		"{{ outputs.output_values.values.count != '4'}}":                             "true",
		"{{outputs.pause.onResume.asked ?? 'MISSING'}}":                              "MISSING",
		"{{ outputs.default.value ?? outputs['error-t1'].value }}":                   "from error",
		"{{trigger.body.hello == 'world'}}":                                          "true",
		"{{ trigger | json }}":                                                       `{"body":{"hello":"world"}}`,
		"{{labels.some == 'label'}}":                                                 "true",
		"{{labels.system.correlationId}}":                                            "c1",
		"{{globals.string}} {{globals.int}} {{globals.bool}} {{globals.nested.int}}": "string 1 true 2",
		"{{render(vars.third)}}":                                                     "1 > 2 > 3",
	}
	for tmpl, want := range cases {
		got, err := e.Render(t.Context(), tmpl, s)
		require.NoError(t, err, tmpl)
		require.Equal(t, want, got, tmpl)
	}
}
