package executor

import (
	"context"
	"sync"
	"time"

	"github.com/ospreyhq/osprey/engine"
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
	// lent are executions whose step is saving them, or still reads them
	// after its save released the claim (its callbacks): a step of the
	// same execution that starts meanwhile waits for the copy (put, or
	// drop) rather than reading and decoding the whole execution again,
	// which for a ForEach of 100,000 values is seconds and a second copy,
	// and finding the copy stale at its own save.
	lent map[string]chan struct{}
}

type warmEntry struct {
	ex   *flow.Execution
	ver  int64
	snap *snapshot // its task runs as stored, to find what a step changes
	// index is the engine's index of its task runs, kept so that the next
	// step does not build it again (engine.Index)
	index *engine.Index
	cost  time.Duration // how long the step that saved it took
	// open counts its task runs not ended yet: results still to come.
	open int
	// more: the step left results for the next one, which should not
	// wait for more to gather.
	more bool
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
	if e := w.m[id]; !e.more && e.cost >= costlyStep && e.open >= wideOpen {
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

// has reports whether an execution is kept for id, or lent and coming
// back (take will wait for it).
func (w *warm) has(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.m[id]
	_, lent := w.lent[id]
	return ok || lent
}

// take removes and returns the execution kept for id: a step owns it until
// it saves it back with put, so a failed step leaves nothing stale behind.
// While the copy is lent (lend), it waits for it, as long as ctx allows.
func (w *warm) take(ctx context.Context, id string) (*flow.Execution, int64, *snapshot, *engine.Index, bool) {
	w.mu.Lock()
	for {
		ch, lent := w.lent[id]
		if !lent {
			break
		}
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, 0, nil, nil, false
		}
		w.mu.Lock()
	}
	defer w.mu.Unlock()
	e, ok := w.m[id]
	if ok {
		delete(w.m, id)
	}
	return e.ex, e.ver, e.snap, e.index, ok
}

// lend says that the step that saved id will put it back once it no
// longer reads it (put), or give up on it (drop).
func (w *warm) lend(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lent == nil {
		w.lent = map[string]chan struct{}{}
	}
	if _, ok := w.lent[id]; !ok {
		w.lent[id] = make(chan struct{})
	}
}

// returned ends a lend of id; the caller holds w.mu.
func (w *warm) returned(id string) {
	if ch, ok := w.lent[id]; ok {
		close(ch)
		delete(w.lent, id)
	}
}

// drop ends a lend of id without a copy to keep.
func (w *warm) drop(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.returned(id)
}

// put keeps ex as saved at version ver, with the snapshot of its task runs
// as saved; more says its step left results for the next. Ended
// executions are not kept: few are stepped again.
func (w *warm) put(ex *flow.Execution, ver int64, snap *snapshot, index *engine.Index, more bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.returned(ex.ID)
	if ex.State.Current.IsTerminal() {
		return
	}
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
	w.m[ex.ID] = warmEntry{ex: ex, ver: ver, snap: snap, index: index, open: open, more: more}
}
