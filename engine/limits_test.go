package engine_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
)

// A loop wider than MaxLoopItems fails its task with a message that names
// the limit and the way to fan out wider; no child is created.
func TestLoopWidthIsBounded(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"ForEach", "EachParallel", "EachSequential"} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			prop := "values"
			if typ != "ForEach" {
				prop = "value"
			}
			h := newHarness(t, `id: f
namespace: n
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.`+typ+`
    `+prop+`: "{{ range(1, 20) }}"
    tasks:
      - {id: r, type: io.kestra.plugin.core.log.Log, message: x}`)
			h.eng.MaxLoopItems = 10
			h.run()
			require.Equal(t, flow.StateFailed, h.exec.State.Current)
			require.Empty(t, h.runs("r"))
			each := h.runs("each")[0]
			require.Contains(t, h.exec.Error+each.Error, "20 loop values exceed osprey.limits.loop-items (10)")
			require.Contains(t, h.exec.Error+each.Error, "Subflow")
		})
	}
}
