package executor

import (
	"sync"

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
	ex  *flow.Execution
	ver int64
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
