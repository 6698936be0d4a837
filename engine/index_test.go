package engine_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
)

// TestIndexKeptBetweenSteps runs flows to their end once with an index
// kept from step to step, as the executor keeps it, and once with a fresh
// one each step: the same task runs, in the same states.
func TestIndexKeptBetweenSteps(t *testing.T) {
	t.Parallel()
	flows := map[string]string{
		"nested loops": `id: f
namespace: t
tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.ForEach
    concurrencyLimit: 2
    values: ["a", "b", "c"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.ForEach
        concurrencyLimit: 0
        values: ["1", "2", "3", "4"]
        tasks:
          - {id: r, type: io.kestra.plugin.core.debug.Return, format: "{{ taskrun.value }}"}
          - {id: s, type: io.kestra.plugin.core.debug.Return, format: "{{ outputs.r[parent.taskrun.value][taskrun.value].value }}"}
  - {id: after, type: io.kestra.plugin.core.debug.Return, format: "{{ outputs.s.b['3'].value }}"}`,
		"a failure, errors and finally": `id: f
namespace: t
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["x", "y"]
    tasks:
      - {id: bad, type: io.kestra.plugin.core.debug.Return, format: "{{ taskrun.value }}"}
errors:
  - {id: e, type: io.kestra.plugin.core.debug.Return, format: "e"}
finally:
  - {id: fin, type: io.kestra.plugin.core.debug.Return, format: "f"}`,
	}
	for name, src := range flows {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			shape := func(kept bool) (flow.State, []string) {
				h := newHarness(t, src)
				if kept {
					h.index = engine.NewIndex()
				}
				h.answer("bad", flow.StateFailed, nil)
				h.answer("r", flow.StateSuccess, map[string]any{"value": "r"})
				h.answer("s", flow.StateSuccess, map[string]any{"value": "s"})
				h.run()
				var runs []string
				for _, tr := range h.exec.TaskRunList {
					runs = append(runs, tr.ID+" "+tr.TaskID+"/"+tr.Value+"/"+string(tr.State.Current))
				}
				return h.exec.State.Current, runs
			}
			wantState, want := shape(false)
			gotState, got := shape(true)
			require.Equal(t, wantState, gotState)
			require.Equal(t, want, got)
		})
	}

	t.Run("a restart's shorter list is indexed again", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, flows["a failure, errors and finally"])
		h.index = engine.NewIndex()
		h.answer("bad", flow.StateFailed, nil)
		h.run()
		require.Equal(t, flow.StateFailed, h.exec.State.Current)
		require.Len(t, h.runs("e"), 1)

		_, logs := engine.ApplyAll(h.eng.Types, h.flow, h.exec, []engine.Command{{Kind: engine.CommandRestart}}, h.now)
		require.Empty(t, logs, "the restart was applied")
		require.Empty(t, h.runs("e"), "the restart dropped the errors branch")
		h.answer("bad", flow.StateSuccess, nil)
		h.run()
		require.Equal(t, flow.StateSuccess, h.exec.State.Current)
		require.Len(t, h.runs("fin"), 1, "finally ran again, once: the dropped task run was not found in a stale index")
		ids := make([]string, 0, len(h.exec.TaskRunList))
		for _, tr := range h.exec.TaskRunList {
			ids = append(ids, tr.ID)
		}
		require.Len(t, slices.Compact(slices.Sorted(slices.Values(ids))), len(ids))
	})
}
