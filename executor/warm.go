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
	cost time.Duration // how long the step that saved it took
}

// costlyStep is the step duration from which the next step of the same
// execution waits as long again for results to gather, up to maxPause.
const (
	costlyStep = 50 * time.Millisecond
	maxPause   = 250 * time.Millisecond
)

// pause is how long the next step of id should let results gather.
func (w *warm) pause(id string) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.m[id].cost; c >= costlyStep {
		return min(c, maxPause)
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

// take removes and returns the execution kept for id: a step owns it until
// it saves it back with put, so a failed step leaves nothing stale behind.
func (w *warm) take(id string) (*flow.Execution, int64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e, ok := w.m[id]
	if ok {
		delete(w.m, id)
	}
	return e.ex, e.ver, ok
}

// put keeps ex as saved at version ver. Ended executions are not kept: few
// are stepped again.
func (w *warm) put(ex *flow.Execution, ver int64) {
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
	w.m[ex.ID] = warmEntry{ex: ex, ver: ver}
}
