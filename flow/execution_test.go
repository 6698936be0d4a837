package flow_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
)

// TestSettled: an execution is over for its waiters once it has its final
// state and every task run ended, the afterExecution ones included.
func TestSettled(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	exec := func(st flow.State, runs ...flow.State) *flow.Execution {
		e := &flow.Execution{State: flow.NewStateInfo(st, now)}
		for _, r := range runs {
			e.TaskRunList = append(e.TaskRunList, &flow.TaskRun{State: flow.NewStateInfo(r, now)})
		}
		return e
	}
	tests := []struct {
		name string
		ex   *flow.Execution
		want bool
	}{
		{"running", exec(flow.StateRunning, flow.StateSuccess), false},
		{"ended, every task run ended", exec(flow.StateSuccess, flow.StateSuccess, flow.StateSuccess), true},
		{"ended, an afterExecution task still running", exec(flow.StateSuccess, flow.StateSuccess, flow.StateRunning), false},
		{"failed, an afterExecution task not started yet", exec(flow.StateFailed, flow.StateFailed, flow.StateCreated), false},
		{"killed with no task run", exec(flow.StateKilled), true},
		{"paused", exec(flow.StatePaused, flow.StatePaused), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.ex.Settled())
		})
	}
}
