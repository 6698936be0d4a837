// Package triggertest holds the fakes the trigger and scheduler tests
// share: a flow source over parsed YAML and a clock they set.
package triggertest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/tasks"
)

// Flows is a trigger.FlowSource over parsed flows, each at revision 1.
type Flows struct{ List []*flow.Flow }

// Get returns the flow with that namespace and id, whatever the revision.
func (f *Flows) Get(_ context.Context, ns, id string, _ int) (*flow.Flow, error) {
	for _, x := range f.List {
		if x.Namespace == ns && x.ID == id {
			return x, nil
		}
	}
	return nil, store.ErrNotFound
}

// All returns every flow.
func (f *Flows) All(context.Context) ([]*flow.Flow, error) { return f.List, nil }

// Parse parses flow sources with Osprey's task registry, failing t on any
// error.
func Parse(t testing.TB, srcs ...string) *Flows {
	t.Helper()
	reg := tasks.New()
	out := &Flows{}
	for _, s := range srcs {
		f, err := flow.Parse([]byte(s), flow.ParseOptions{Types: reg})
		require.NoError(t, err)
		f.Revision = 1
		out.List = append(out.List, f)
	}
	return out
}

// Clock is the injected time; safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock showing now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
