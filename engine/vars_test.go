package engine_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
)

// TestOutputsSeenByTasks checks the outputs map that dispatched tasks and
// engine-rendered conditions see, now that a step builds it once and
// rebuilds it only when a task run's outputs change: loop values nest as
// in Kestra (outputs.task.value1.value2.x), and an output recorded in the
// same step as a later condition is visible to it.
func TestOutputsSeenByTasks(t *testing.T) {
	v := func(s string) map[string]any { return map[string]any{"value": s} }
	cases := []struct {
		name string
		src  string
		// seenBy is the task whose dispatched variables are checked.
		seenBy     string
		want       map[string]any
		dispatched []string
	}{
		{
			name: "nested ForEach, Parallel and If",
			src: `id: f
namespace: n
tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.ForEach
        values: ["x", "y"]
        tasks:
          - {id: r, type: io.kestra.plugin.core.debug.Return, format: "{{ taskrun.value }}"}
      - id: par
        type: io.kestra.plugin.core.flow.Parallel
        tasks:
          - {id: p, type: io.kestra.plugin.core.debug.Return, format: p}
  - id: cond
    type: io.kestra.plugin.core.flow.If
    condition: "{{ outputs.r.b.y.value == 'v' and outputs.p.a.a.value == 'p' }}"
    then:
      - {id: yes, type: io.kestra.plugin.core.debug.Return, format: y}
    else:
      - {id: no, type: io.kestra.plugin.core.log.Log, message: n}
  - {id: last, type: io.kestra.plugin.core.log.Log, message: done}`,
			seenBy: "last",
			want: map[string]any{
				"r":   map[string]any{"a": map[string]any{"x": v("v"), "y": v("v")}, "b": map[string]any{"x": v("v"), "y": v("v")}},
				"p":   map[string]any{"a": map[string]any{"a": v("p")}, "b": map[string]any{"b": v("p")}},
				"yes": v("y"),
			},
			dispatched: []string{"r", "r", "p", "r", "r", "p", "yes", "last"},
		},
		{
			name: "top-level outputs merge without loop keys",
			src: `id: f
namespace: n
tasks:
  - {id: r, type: io.kestra.plugin.core.debug.Return, format: v}
  - {id: last, type: io.kestra.plugin.core.log.Log, message: "{{ outputs.r.value }}"}`,
			seenBy:     "last",
			want:       map[string]any{"r": v("v")},
			dispatched: []string{"r", "last"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.src)
			h.answer("r", flow.StateSuccess, v("v"))
			h.answer("p", flow.StateSuccess, v("p"))
			h.answer("yes", flow.StateSuccess, v("y"))
			h.run()
			require.Equal(t, flow.StateSuccess, h.exec.State.Current)
			require.ElementsMatch(t, c.dispatched, h.dispatched)
			got := h.varsSeen[c.seenBy]["outputs"]
			require.Equal(t, c.want, got)
			// the map a task saw is the one built from scratch
			require.Equal(t, engine.Outputs(h.exec), got)
		})
	}
}

// TestOutputsLeaveTaskRunsAlone builds the outputs map of task runs whose
// outputs hold maps that merge (two runs of one task at one place, and a
// loop value that is also an output's key): the merged map has both, and
// no task run's own outputs were written into.
func TestOutputsLeaveTaskRunsAlone(t *testing.T) {
	first := &flow.TaskRun{ID: "1", TaskID: "t", Outputs: map[string]any{"m": map[string]any{"a": int64(1)}}}
	second := &flow.TaskRun{ID: "2", TaskID: "t", Outputs: map[string]any{"m": map[string]any{"b": int64(2)}}}
	loop := &flow.TaskRun{ID: "3", TaskID: "each"}
	top := &flow.TaskRun{ID: "4", TaskID: "u", Outputs: map[string]any{"x": map[string]any{"c": int64(3)}}}
	inLoop := &flow.TaskRun{ID: "5", TaskID: "u", ParentTaskRunID: "3", Value: "x", Outputs: map[string]any{"d": int64(4)}}
	ex := &flow.Execution{TaskRunList: []*flow.TaskRun{first, second, loop, top, inLoop}}

	out := engine.Outputs(ex)
	require.Equal(t, map[string]any{"a": int64(1), "b": int64(2)}, out["t"].(map[string]any)["m"])
	require.Equal(t, map[string]any{"c": int64(3), "d": int64(4)}, out["u"].(map[string]any)["x"])
	require.Equal(t, map[string]any{"m": map[string]any{"a": int64(1)}}, first.Outputs, "first's outputs as they were")
	require.Equal(t, map[string]any{"m": map[string]any{"b": int64(2)}}, second.Outputs)
	require.Equal(t, map[string]any{"x": map[string]any{"c": int64(3)}}, top.Outputs, "top's outputs as they were")
}
