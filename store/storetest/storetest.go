// Package storetest is the conformance suite every store driver passes:
// Exercise runs each method of store.Store against its documented contract.
//
// Drivers take their clock from Clock(t) so the suite can move time past
// leases and wake-ups without sleeping:
//
//	storetest.Exercise(t, func(t *testing.T) store.Store {
//		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"),
//			sqlite.Options{Now: storetest.Clock(t).Now})
//		require.NoError(t, err)
//		t.Cleanup(func() { s.Close() })
//		return s
//	})
package storetest

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// FakeClock is a clock that moves only when told to.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// clocks holds each running test's clock: Exercise's signature passes only
// t to open, so t is the key both sides share. Entries go at cleanup.
var clocks sync.Map // testing.TB → *FakeClock

// Clock returns the clock of test t, starting at a fixed instant the first
// time it is asked for. The open function given to Exercise passes its Now
// to the driver; the suite advances it.
func Clock(t testing.TB) *FakeClock {
	c, loaded := clocks.LoadOrStore(t, &FakeClock{now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)})
	if !loaded {
		t.Cleanup(func() { clocks.Delete(t) })
	}
	return c.(*FakeClock)
}

// Exercise runs the conformance suite. open returns a fresh, empty store
// whose clock is Clock(t); it is called once per subtest and should close
// the store at the test's cleanup.
func Exercise(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	groups := []struct {
		name  string
		tests []test
	}{
		{"Flows", flowTests},
		{"Executions", executionTests},
		{"TaskRuns", taskRunTests},
		{"Commands", commandTests},
		{"Logs", logTests},
		{"Triggers", triggerTests},
		{"Queue", queueTests},
		{"Secrets", secretTests},
		{"KV", kvTests},
		{"Files", fileTests},
		{"Namespaces", namespaceTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					s := open(t)
					require.NoError(t, s.Ping(t.Context()))
					tc.fn(t, s)
				})
			}
		})
	}
}

// test is one conformance check, run on a fresh store.
type test struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// newExecution returns a CREATED execution of ns/flowID started at now.
func newExecution(id, ns, flowID string, now time.Time) *flow.Execution {
	return &flow.Execution{
		ID: id, Namespace: ns, FlowID: flowID, FlowRevision: 1,
		Inputs: map[string]any{"name": "world", "n": 2.5},
		State:  flow.NewStateInfo(flow.StateCreated, now),
	}
}

// requireSameExecution compares executions by their JSON form, which is
// what the store keeps and what the API returns.
func requireSameExecution(t *testing.T, want, got *flow.Execution) {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, string(w), string(g))
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
