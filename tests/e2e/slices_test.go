package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/pgtest"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/tests/e2e/cluster"
)

// wideValues is the width of the fan-out: its first step is stored in
// eight slices of 1,000 task runs.
const wideValues = 8000

const wideFlowSrc = `id: wide
namespace: faults
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: "{{ range(1, 8000) }}"
    concurrencyLimit: 0
    tasks:
      - id: item
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}"
`

// TestFaultExecutorKilledBetweenSlices kills the executor (SIGKILL) while
// it stores the first step of a ForEach over 8,000 values, slice after
// slice, and starts another: once the dead one's claim runs out, the new
// executor continues the step from what was stored, and every value runs
// exactly once.
func TestFaultExecutorKilledBetweenSlices(t *testing.T) {
	t.Parallel()
	fc := newFaultCluster(t, pgtest.Start(t), cluster.Webserver, cluster.Executor, cluster.Worker)
	require.NoError(t, fc.api.PutFlow(t.Context(), faultNS, "wide", wideFlowSrc))

	// Catch the step between two slices: some of its task runs stored,
	// not all. A try that finds the step already stored whole runs to its
	// end undisturbed, and the next try starts another execution.
	var id string
	stored := 0
	for try := 0; try < 5 && id == ""; try++ {
		eid, err := fc.api.Submit(t.Context(), faultNS, "wide")
		require.NoError(t, err)
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			ex, err := fc.api.Execution(t.Context(), eid)
			require.NoError(t, err)
			n := len(ex.TaskRunList)
			if n == wideValues+1 {
				break // stored whole before we looked: try again
			}
			if n > 1 {
				require.NoError(t, fc.Role(cluster.Executor)[0].Kill())
				ex, err = fc.api.Execution(t.Context(), eid)
				require.NoError(t, err)
				if len(ex.TaskRunList) < wideValues+1 {
					id, stored = eid, len(ex.TaskRunList)
				} else {
					// the last slice committed before the kill: start again
					_, err = fc.Start(cluster.Executor)
					require.NoError(t, err)
				}
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	require.NotEmpty(t, id, "the executor was never caught between two slices in five tries")
	t.Logf("killed with %d of %d task runs stored", stored, wideValues+1)
	require.Zero(t, stored%1000, "slices are stored whole: %d task runs", stored)

	_, err := fc.Start(cluster.Executor)
	require.NoError(t, err)
	var ex *flow.Execution
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(250 * time.Millisecond) {
		ex, err = fc.api.Execution(t.Context(), id)
		require.NoError(t, err)
		if cluster.Terminal(ex) {
			break
		}
		require.True(t, time.Now().Before(deadline), "execution %s still %s with %d task runs", id, ex.State.Current, len(ex.TaskRunList))
	}
	require.Equal(t, flow.StateSuccess, ex.State.Current)
	items := ex.TaskRunsByTaskID("item")
	require.Len(t, items, wideValues)
	seen := make(map[string]bool, len(items))
	for _, tr := range items {
		require.False(t, seen[tr.Value], "value %s ran twice", tr.Value)
		seen[tr.Value] = true
		require.Len(t, tr.Attempts, 1, "task run %s (%s) ran once", tr.ID, tr.Value)
		require.Equal(t, tr.Value, tr.Outputs["value"])
	}
}
