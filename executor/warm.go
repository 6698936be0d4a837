package executor

import (
	"sync"
	"time"

	"github.com/ospreyhq/osprey/flow"
)

// warm keeps the executions this executor saved last, as it saved them,
// with their stored version, so that its next step on one (the next worker
// result of a chain, the next batch of a ForEach) skips reading and
// decoding the whole document. It is only a hint, kept safe by the
// version: a save by anyone else (the API, another executor) bumps it, the
// step's own save then fails with a conflict, and the execution is read
// again from the store.
type warm struct {
	mu  sync.Mutex
	max int
	m   map[string]warmEntry
}

type warmEntry struct {
	ex   *flow.Execution
	ver  int64
	snap *snapshot     // its task runs as stored, to find what a step changes
	cost time.Duration // how long the step that saved it took
	// open counts its task runs not ended yet: results still to come.
	open int
}

// A step that took costlyStep or more, of an execution with wideOpen task
// runs or more still running, makes the next step of that execution wait
// as long again, up to maxPause, for more results to gather. Only wide
// executions pause: a small one is never held back, however slow its step
// on a loaded machine.
const (
	costlyStep = 50 * time.Millisecond
	maxPause   = 250 * time.Millisecond
	wideOpen   = 100
)

// pause is how long the next step of id should let results gather.
func (w *warm) pause(id string) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.m[id]; e.cost >= costlyStep && e.open >= wideOpen {
		return min(e.cost, maxPause)
	}
	return 0
}

// cost records how long the step that kept id took.
func (w *warm) cost(id string, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e, ok := w.m[id]; ok {
		e.cost = d
		w.m[id] = e
	}
}

// has reports whether an execution is kept for id.
func (w *warm) has(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.m[id]
	return ok
}

// take removes and returns the execution kept for id: a step owns it until
// it saves it back with put, so a failed step leaves nothing stale behind.
func (w *warm) take(id string) (*flow.Execution, int64, *snapshot, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e, ok := w.m[id]
	if ok {
		delete(w.m, id)
	}
	return e.ex, e.ver, e.snap, ok
}

// put keeps ex as saved at version ver, with the snapshot of its task runs
// as saved. Ended executions are not kept: few are stepped again.
func (w *warm) put(ex *flow.Execution, ver int64, snap *snapshot) {
	if ex.State.Current.IsTerminal() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]warmEntry{}
	}
	if len(w.m) >= w.max {
		for id := range w.m { // drop any one: a miss costs one read
			delete(w.m, id)
			break
		}
	}
	open := 0
	for _, tr := range ex.TaskRunList {
		if !tr.State.Current.IsTerminal() {
			open++
		}
	}
	w.m[ex.ID] = warmEntry{ex: ex, ver: ver, snap: snap, open: open}
}
