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
