package flow_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/shared"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

func corpusFlows(t *testing.T) map[string]*flow.Flow {
	t.Helper()
	// Kestra's own test flows, kept beside the repository.
	corpusDir := shared.Dir(t, "kestra-corpus/flows")
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.y*ml"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no flow in %s", corpusDir)
	out := map[string]*flow.Flow{}
	for _, file := range files {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		f, err := flow.Parse(src, flow.ParseOptions{Types: corpusTypes{}})
		require.NoError(t, err, file)
		require.Equal(t, string(src), f.Source, file)
		out[filepath.Base(file)] = f
	}
	return out
}

func TestParseCorpus(t *testing.T) {
	t.Parallel()
	flows := corpusFlows(t)
	require.GreaterOrEqual(t, len(flows), 70)

	t.Run("dag", func(t *testing.T) {
		f := flows["dag.yaml"]
		dag := f.Tasks[0]
		require.Len(t, dag.DagTasks, 6)
		require.Equal(t, "task5", dag.DagTasks[4].Task.ID)
		require.Equal(t, []string{"task4", "task3"}, dag.DagTasks[4].DependsOn)
		require.Equal(t, "tasks[0].tasks[4].task", dag.DagTasks[4].Task.Path)
		require.Equal(t, "my task", dag.Description)
		require.NotNil(t, f.FindTask("task6"))
	})
	t.Run("switch", func(t *testing.T) {
		f := flows["switch.yaml"]
		sw := f.Tasks[0]
		require.Equal(t, "{{inputs.string}}", sw.Props["value"])
		require.Len(t, sw.Cases, 3)
		require.Len(t, sw.Cases["SECOND"], 2)
		require.Equal(t, "tasks[0].cases.SECOND[1]", sw.Cases["SECOND"][1].Path)
		third := sw.Cases["THIRD"][0]
		require.Equal(t, "failed", third.Children["tasks"][0].ID)
		require.Equal(t, "error-t1", third.Children["errors"][0].ID)
		require.Equal(t, "default", sw.Children["defaults"][0].ID)
		require.Len(t, f.Inputs, 2)
		require.Equal(t, "amazing", f.Inputs[1].Defaults)
		require.Equal(t, []flow.Label{{Key: "switchFlowLabel", Value: "switchFoo"}}, f.Labels)
		require.Equal(t, "0 * * * *", f.Triggers[0].Props["cron"])
	})
	t.Run("nested children", func(t *testing.T) {
		f := flows["full.yaml"]
		last := f.FindTask("t5-t4-t1-t1-t1-last")
		require.NotNil(t, last)
		require.Equal(t, "tasks[3].tasks[3].tasks[0].tasks[0].tasks[0].tasks[0]", last.Path)
		t3 := f.FindTask("t3")
		require.Equal(t, "PT60M", t3.Timeout)
		require.Equal(t, map[string]any{"maxAttempt": 5, "type": "constant", "interval": "PT15M"}, t3.Retry)
		require.Equal(t, 3, f.Tasks[3].Props["concurrent"])
	})
	t.Run("pause onResume stays a property", func(t *testing.T) {
		pause := flows["pause_on_resume_optional.yaml"].Tasks[0]
		onResume, ok := pause.Props["onResume"].([]any)
		require.True(t, ok)
		require.Equal(t, map[string]any{"id": "asked", "type": "STRING", "required": false}, ordered.Plain(onResume[0]))
	})
	t.Run("trigger conditions stay properties", func(t *testing.T) {
		tr := flows["flow-trigger-preconditions-flow-listen.yaml"].Triggers[0]
		pre, ok := ordered.AsMap(tr.Props["preconditions"])
		require.True(t, ok)
		require.Len(t, pre["flows"], 2)
	})
	t.Run("outputs", func(t *testing.T) {
		f := flows["flow-with-outputs.yml"]
		require.Equal(t, []*flow.Output{{ID: "key", Type: "STRING", Value: "{{ outputs.return }}", Pos: f.Outputs[0].Pos}}, f.Outputs)
	})
	t.Run("every task has a position and a path", func(t *testing.T) {
		for name, f := range flows {
			for _, task := range f.AllTasks() {
				require.Positive(t, task.Pos.Line, "%s %s", name, task.ID)
				require.NotEmpty(t, task.Path, "%s %s", name, task.ID)
				require.Equal(t, task.Pos, task.PosOf("id"), "%s %s: a task's id is its first key", name, task.ID)
			}
		}
	})
}
