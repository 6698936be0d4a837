package cluster

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// execution ran from start to end (seconds after t0), with one task run
// "tr-ID" of attempts attempts; end < 0 leaves it RUNNING.
func execution(id string, start, end, attempts int) *flow.Execution {
	ex := &flow.Execution{ID: id, FlowID: "f", State: flow.NewStateInfo(flow.StateCreated, at(start))}
	ex.State.Set(flow.StateRunning, at(start))
	tr := &flow.TaskRun{ID: "tr-" + id, TaskID: "t"}
	for range attempts {
		tr.Attempts = append(tr.Attempts, flow.TaskRunAttempt{})
	}
	ex.TaskRunList = []*flow.TaskRun{tr}
	if end >= 0 {
		ex.State.Set(flow.StateSuccess, at(end))
	}
	return ex
}

func started(ex string, n int) []Mark {
	var out []Mark
	for range n {
		out = append(out, Mark{Event: "start", Execution: ex, TaskRun: "tr-" + ex})
	}
	return out
}

func TestCheck(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		exs        []*flow.Execution
		marks      []Mark
		ended      int
		duplicates int
		problems   int
	}{
		{"all ended, each run an attempt", []*flow.Execution{execution("a", 0, 1, 1), execution("b", 0, 2, 2)},
			append(started("a", 1), started("b", 2)...), 2, 0, 0},
		{"a run beyond its attempts", []*flow.Execution{execution("a", 0, 1, 1)}, started("a", 2), 1, 1, 1},
		{"an execution that did not end", []*flow.Execution{execution("a", 0, -1, 0)}, started("a", 0), 0, 0, 1},
		{"a run for an execution the API does not list", []*flow.Execution{execution("a", 0, 1, 1)},
			append(started("a", 1), started("ghost", 1)...), 1, 0, 1},
		{"other events do not count as runs", []*flow.Execution{execution("a", 0, 1, 1)},
			append(started("a", 1), Mark{Event: "end", Execution: "a", TaskRun: "tr-a"}), 1, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := Check(tc.exs, tc.marks)
			require.Equal(t, tc.ended, r.Ended)
			require.Equal(t, tc.duplicates, r.Duplicates)
			require.Len(t, r.Problems, tc.problems, "%v", r.Problems)
		})
	}
}

func TestMaxConcurrent(t *testing.T) {
	t.Parallel()
	mark := func(event, flowID, taskRun string, s int) Mark {
		return Mark{Event: event, Flow: flowID, TaskRun: taskRun, At: at(s)}
	}
	cases := []struct {
		name  string
		marks []Mark
		want  int
	}{
		{"none", nil, 0},
		{"one after the other, touching", []Mark{mark("start", "f", "a", 0), mark("end", "f", "a", 2), mark("start", "f", "b", 2), mark("end", "f", "b", 4)}, 1},
		{"two overlapping", []Mark{mark("start", "f", "a", 0), mark("start", "f", "b", 2), mark("end", "f", "a", 3), mark("end", "f", "b", 4)}, 2},
		{"three at one moment", []Mark{mark("start", "f", "a", 0), mark("start", "f", "b", 1), mark("start", "f", "c", 4), mark("end", "f", "b", 5), mark("end", "f", "c", 6), mark("end", "f", "a", 10)}, 3},
		{"other flows do not count", []Mark{mark("start", "f", "a", 0), mark("start", "g", "b", 1), mark("end", "g", "b", 2), mark("end", "f", "a", 3)}, 1},
		{"a lost run lasts until its task run starts again", []Mark{mark("start", "f", "a", 0), mark("start", "f", "b", 1), mark("end", "f", "b", 2), mark("start", "f", "a", 5), mark("start", "f", "c", 4), mark("end", "f", "c", 6), mark("end", "f", "a", 7)}, 2},
		{"a run without an end counts until now", []Mark{mark("start", "f", "a", 0), mark("start", "f", "b", 100), mark("end", "f", "b", 101)}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, MaxConcurrent(tc.marks, "f"))
		})
	}
}

func TestTicks(t *testing.T) {
	t.Parallel()
	tick := func(id string, s int) *flow.Execution {
		return &flow.Execution{ID: id, Trigger: &flow.ExecutionTrigger{Variables: map[string]any{"date": at(s).Format(time.RFC3339)}}}
	}
	cases := []struct {
		name     string
		exs      []*flow.Execution
		dates    int
		problems int
	}{
		{"every second", []*flow.Execution{tick("a", 0), tick("b", 1), tick("c", 2)}, 3, 0},
		{"out of order is fine", []*flow.Execution{tick("c", 2), tick("a", 0), tick("b", 1)}, 3, 0},
		{"a tick fired twice", []*flow.Execution{tick("a", 0), tick("b", 1), tick("c", 1)}, 2, 1},
		{"a tick lost", []*flow.Execution{tick("a", 0), tick("b", 1), tick("c", 3)}, 3, 1},
		{"not from a trigger", []*flow.Execution{tick("a", 0), {ID: "manual"}}, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dates, problems := Ticks(tc.exs, time.Second)
			require.Len(t, dates, tc.dates)
			require.Len(t, problems, tc.problems, "%v", problems)
		})
	}
}
