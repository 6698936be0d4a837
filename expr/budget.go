package expr

import (
	"context"
	"fmt"
	"runtime/metrics"
	"time"
)

// Every render runs under a time budget (Options.MaxDuration), checked as
// loops turn; jq, whose programs can build any value in one step
// ([range(1e9)]), also runs under an allocation budget (Options.MaxAlloc).
// Go cannot count one goroutine's allocations, so the budget watches the
// process's heap while the jq program runs, every few milliseconds, and
// stops the program when the heap has grown by more than the budget: a
// ceiling on what one expression can cost the process. Under heavy
// concurrent load the growth of the whole heap is counted, which errs on
// the side of stopping the program.

// heapSample is the metric read; it moves as objects are allocated and
// freed, without stopping the world.
const heapSample = "/memory/classes/heap/objects:bytes"

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: heapSample}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// overTime reports the time budget spent.
func (st *state) overTime() error {
	if d := time.Since(st.start); d > st.eng.maxDuration {
		return fmt.Errorf("%w: the expression ran longer than %s (the expression time budget)", ErrLimit, st.eng.maxDuration)
	}
	return nil
}

// budget returns a context that ends when the render's time budget is
// spent or the heap grows by more than the allocation budget while what
// runs; the returned function releases it. what names the work in the
// error, and is called only when the budget is spent.
func (st *state) budget(what func() string) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(st.ctx)
	left := st.eng.maxDuration - time.Since(st.start)
	timer := time.AfterFunc(max(left, 0), func() {
		cancel(fmt.Errorf("%w: %s ran longer than %s (the expression time budget)", ErrLimit, what(), st.eng.maxDuration))
	})
	done := make(chan struct{})
	go func() {
		base := heapBytes()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if h := heapBytes(); h > base && h-base > uint64(st.eng.maxAlloc) {
					cancel(fmt.Errorf("%w: %s allocated more than %d MiB (the expression memory budget)", ErrLimit, what(), st.eng.maxAlloc>>20))
					return
				}
			}
		}
	}()
	return ctx, func() {
		timer.Stop()
		close(done)
		cancel(nil)
	}
}
