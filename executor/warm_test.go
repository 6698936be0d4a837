package executor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
)

func TestWarm(t *testing.T) {
	t.Parallel()
	now := time.Now()
	running := func(id string) *flow.Execution {
		return &flow.Execution{ID: id, State: flow.NewStateInfo(flow.StateRunning, now)}
	}
	w := warm{max: 2}

	w.put(running("a"), 3, nil, nil, false)
	ex, ver, _, _, ok := w.take(t.Context(), "a")
	require.True(t, ok)
	require.Equal(t, "a", ex.ID)
	require.Equal(t, int64(3), ver)
	_, _, _, _, ok = w.take(t.Context(), "a")
	require.False(t, ok, "a step owns what it took: a failed step leaves nothing stale behind")

	ended := running("b")
	ended.State.Set(flow.StateSuccess, now)
	w.put(ended, 4, nil, nil, false)
	_, _, _, _, ok = w.take(t.Context(), "b")
	require.False(t, ok, "ended executions are not kept")

	for _, id := range []string{"c", "d", "e"} {
		w.put(running(id), 1, nil, nil, false)
	}
	require.Len(t, w.m, 2, "bounded")

	wide := func(open int) *flow.Execution {
		ex := running("f")
		for range open {
			ex.TaskRunList = append(ex.TaskRunList, &flow.TaskRun{State: flow.NewStateInfo(flow.StateRunning, now)})
		}
		done := &flow.TaskRun{State: flow.NewStateInfo(flow.StateSuccess, now)}
		ex.TaskRunList = append(ex.TaskRunList, done)
		return ex
	}
	tests := []struct {
		name string
		open int
		cost time.Duration
		want time.Duration
	}{
		{"a cheap step does not wait", 5000, time.Millisecond, 0},
		{"a costly step of a wide execution lets results gather as long again", 5000, 80 * time.Millisecond, 80 * time.Millisecond},
		{"up to a bound", 5000, 5 * time.Second, maxPause},
		{"a small execution never waits, however slow its step", 3, 5 * time.Second, 0},
	}
	for _, tc := range tests {
		w.put(wide(tc.open), 1, nil, nil, false)
		w.cost("f", tc.cost)
		require.Equal(t, tc.want, w.pause("f"), tc.name)
	}
	w.put(wide(5000), 1, nil, nil, true)
	w.cost("f", 5*time.Second)
	require.Zero(t, w.pause("f"), "a step that left results for the next does not wait for more")
	require.Zero(t, w.pause("unknown"))
}

// TestWarmLend checks that a step starting while the previous step's
// callbacks still read the execution waits for its copy instead of
// missing it (and reading the whole execution again).
func TestWarmLend(t *testing.T) {
	t.Parallel()
	now := time.Now()
	w := warm{max: 4}
	ex := &flow.Execution{ID: "a", State: flow.NewStateInfo(flow.StateRunning, now)}

	w.lend("a")
	got := make(chan int64, 1)
	go func() {
		_, ver, _, _, ok := w.take(t.Context(), "a")
		if !ok {
			ver = -1
		}
		got <- ver
	}()
	select {
	case v := <-got:
		t.Fatalf("take returned %d while the copy was lent", v)
	case <-time.After(20 * time.Millisecond):
	}
	w.put(ex, 5, nil, nil, false)
	require.Equal(t, int64(5), <-got, "the waiting step got the copy once it was put back")

	w.lend("a")
	w.drop("a")
	_, _, _, _, ok := w.take(t.Context(), "a")
	require.False(t, ok, "a dropped lend leaves nothing, and waits for nothing")

	w.lend("a")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, _, _, ok = w.take(ctx, "a")
	require.False(t, ok, "a step that stops does not wait")
	w.drop("a")
}
