package tasks_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/ospreyhq/osprey/devkit/shared"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/tasks"
)

// compileFlowSchema compiles the registry's flow schema the way an editor
// or a client would read it: as JSON.
func compileFlowSchema(t *testing.T, reg *tasks.Registry) *jsonschema.Schema {
	t.Helper()
	raw, err := json.Marshal(reg.FlowSchema())
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("flow.json", doc))
	sch, err := c.Compile("flow.json")
	require.NoError(t, err)
	return sch
}

// yamlDoc reads a flow's YAML as the JSON value a schema validates.
func yamlDoc(t *testing.T, src []byte) (any, bool) {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		return nil, false
	}
	raw, err := json.Marshal(stringKeys(v))
	if err != nil {
		return nil, false
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	return doc, true
}

// stringKeys spells mapping keys as strings (a Switch case "1:"), as a
// YAML-aware editor does before validating.
func stringKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = stringKeys(e)
		}
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = stringKeys(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = stringKeys(e)
		}
	}
	return v
}

// TestFlowSchemaAgreesWithParser holds the schema to the parser: every
// flow the parser accepts (Kestra's corpus and our test flows) validates
// against the schema served at /plugins/schemas/flow.
func TestFlowSchemaAgreesWithParser(t *testing.T) {
	t.Parallel()
	reg := tasks.New()
	sch := compileFlowSchema(t, reg)
	for _, tc := range []struct {
		name string
		dirs func(t *testing.T) []string
		// min is how many accepted flows it takes to say anything.
		min int
	}{
		{"testdata", func(*testing.T) []string { return []string{"../flow/testdata/valid", "../flow/testdata/invalid"} }, 5},
		{"kestra-corpus", func(t *testing.T) []string { return []string{shared.Dir(t, "kestra-corpus/flows")} }, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var files []string
			for _, dir := range tc.dirs(t) {
				m, err := filepath.Glob(filepath.Join(dir, "*.y*ml"))
				require.NoError(t, err)
				files = append(files, m...)
			}
			require.NotEmpty(t, files)
			schemaAgrees(t, reg, sch, files, tc.min)
		})
	}
}

func schemaAgrees(t *testing.T, reg *tasks.Registry, sch *jsonschema.Schema, files []string, min int) {
	accepted := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		if _, err := flow.Parse(src, flow.ParseOptions{Types: reg}); err != nil {
			continue
		}
		accepted++
		doc, ok := yamlDoc(t, src)
		require.True(t, ok, "%s: the parser accepts it but it is not a JSON document", file)
		require.NoError(t, sch.Validate(doc), file)
	}
	require.GreaterOrEqual(t, accepted, min, "too few accepted flows to say anything")
	t.Logf("%d flows accepted, each valid against the schema", accepted)
}

// TestFlowSchemaRefusesInvalidFlows checks the schema refuses what the
// parser refuses, for the mistakes an editor should flag.
func TestFlowSchemaRefusesInvalidFlows(t *testing.T) {
	t.Parallel()
	reg := tasks.New()
	sch := compileFlowSchema(t, reg)
	const head = "id: f\nnamespace: company.team\n"
	tests := []struct{ name, src string }{
		{"unknown task type", head + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Nope\n    message: x\n"},
		{"unknown property", head + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n    mesage: y\n"},
		{"unknown SLA behavior", head + "sla:\n  - id: s\n    type: MAX_DURATION\n    behavior: RETRY\n    duration: PT1H\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n"},
		{"check without a message", head + "checks:\n  - condition: \"{{ true }}\"\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n"},
		{"unknown property on a legacy alias", head + "tasks:\n  - id: a\n    type: io.kestra.core.tasks.log.Log\n    message: x\n    colour: red\n"},
		{"task without id", head + "tasks:\n  - type: io.kestra.plugin.core.log.Log\n    message: x\n"},
		{"task id with a dot", head + "tasks:\n  - id: a.b\n    type: io.kestra.plugin.core.log.Log\n    message: x\n"},
		{"no tasks", head},
		{"empty tasks", head + "tasks: []\n"},
		{"no namespace", "id: f\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n"},
		{"unknown top-level key", head + "taks: []\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n"},
		{"string property given a list", head + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: [PT1S]\n"},
		{"boolean property given a word", head + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n    disabled: maybe\n"},
		{"bad log level", head + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n    logLevel: LOUD\n"},
		{"child tasks of an unknown type", head + "tasks:\n  - id: p\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n      - id: a\n        type: nope\n"},
		{"trigger of a task type", head + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\ntriggers:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"},
		{"unknown concurrency behavior", head + "concurrency:\n  limit: 1\n  behavior: DROP\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, perr := flow.Parse([]byte(tt.src), flow.ParseOptions{Types: reg})
			require.Error(t, perr, "the parser must refuse it too")
			doc, ok := yamlDoc(t, []byte(tt.src))
			require.True(t, ok)
			require.Error(t, sch.Validate(doc))
		})
	}
}

func TestTypeSchemaListsProperties(t *testing.T) {
	t.Parallel()
	reg := tasks.New()
	tests := []struct {
		typ   string
		props []string
	}{
		{"io.kestra.plugin.core.log.Log", []string{"message", "level"}},
		{"io.kestra.core.tasks.log.Log", []string{"message", "level"}},
		{"io.kestra.plugin.core.flow.Subflow", []string{"namespace", "flowId", "inputs", "wait", "transmitFailed"}},
		{"io.kestra.plugin.core.flow.Pause", []string{"delay", "timeout", "onResume"}},
	}
	for _, tt := range tests {
		s := reg.TypeSchema(tt.typ)
		require.NotNil(t, s, tt.typ)
		props := s["properties"].(map[string]any)
		for _, p := range tt.props {
			require.Contains(t, props, p, tt.typ)
		}
	}
	require.Nil(t, reg.TypeSchema("io.kestra.plugin.core.trigger.Schedule"), "a trigger is not a task")
	require.Contains(t, reg.Aliases("io.kestra.plugin.core.log.Log"), "io.kestra.core.tasks.log.Log")
	require.True(t, strings.HasPrefix(reg.FlowSchema()["$schema"].(string), "http://json-schema.org/draft-07"))
}
