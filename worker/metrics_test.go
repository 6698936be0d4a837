package worker

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
)

// TestTaskMetricsExported: the metrics a task run reports are on /metrics,
// counters summed and timers observed, by flow, task and metric name.
func TestTaskMetricsExported(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := newMetrics(reg, 1)
	tr := &flow.TaskRun{Namespace: "acme", FlowID: "etl", TaskID: "load"}
	m.observeTask(tr, []flow.Metric{{Name: "rows", Type: "counter", Value: 3}, {Name: "load", Type: "timer", Value: 0.5}})
	m.observeTask(tr, []flow.Metric{{Name: "rows", Type: "counter", Value: 4}})
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP osprey_task_counter_total Counters reported by task runs (a script's Kestra.counter), summed.
# TYPE osprey_task_counter_total counter
osprey_task_counter_total{flow_id="etl",metric="rows",namespace="acme",task_id="load"} 7
`), "osprey_task_counter_total"))
	require.Equal(t, 1, testutil.CollectAndCount(m.taskTimer))
}
