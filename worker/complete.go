package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ospreyhq/osprey/store"
)

// completions is a worker's group commit of finished jobs: the threads
// that finish while a batch is being stored queue their results, and the
// next batch stores them all in one transaction (store.QueueStore's
// CompleteAll) with their log lines. There is no timer: a lone job is
// stored at once, and under load the batches grow by themselves with the
// time one commit takes.
type completions struct {
	mu      sync.Mutex
	queue   []*completion
	leading bool
}

type completion struct {
	store.Completion
	done chan error
}

// maxBatch bounds one transaction.
const maxBatch = 64

// complete hands a finished job's result and its remaining log lines to
// the store and returns once they are stored (or ErrConflict when the job
// was lost meanwhile). The first caller to find no batch in progress
// stores batches until the queue is empty; the others wait for theirs.
func (w *Worker) complete(ctx context.Context, c store.Completion) error {
	ctx = context.WithoutCancel(ctx)
	me := &completion{Completion: c, done: make(chan error, 1)}
	q := &w.completions
	q.mu.Lock()
	q.queue = append(q.queue, me)
	if q.leading {
		q.mu.Unlock()
		return <-me.done
	}
	q.leading = true
	for len(q.queue) > 0 {
		batch := q.queue[:min(len(q.queue), maxBatch)]
		q.queue = q.queue[len(batch):]
		q.mu.Unlock()
		w.storeBatch(ctx, batch)
		q.mu.Lock()
	}
	q.leading = false
	q.mu.Unlock()
	return <-me.done
}

// storeBatch stores one batch and answers each of its callers. A failure that
// is not a lost claim (the database restarting, a dropped connection) is
// retried with backoff: the tasks have run, and giving up would leave the
// jobs RUNNING until their leases ran out and they ran a second time.
// Meanwhile the jobs stay in the heartbeat's set, so their leases are
// renewed as soon as the store answers again. Retries stop at
// completeRetryFor. (A commit that succeeded but whose answer was lost is
// retried too: its jobs then come back lost, and their log lines are
// stored twice, which beats losing them.)
func (w *Worker) storeBatch(ctx context.Context, batch []*completion) {
	done := make([]store.Completion, len(batch))
	for i, c := range batch {
		done[i] = c.Completion
	}
	deadline := time.Now().Add(w.completeRetryFor())
	backoff := 50 * time.Millisecond
	for {
		lost, err := w.opts.Store.Queue().CompleteAll(ctx, w.opts.ID, done)
		if err == nil {
			gone := map[string]bool{}
			for _, id := range lost {
				gone[id] = true
			}
			for _, c := range batch {
				if gone[c.JobID] {
					c.done <- fmt.Errorf("%s does not hold it: %w", w.opts.ID, store.ErrConflict)
				} else {
					c.done <- nil
				}
			}
			return
		}
		if time.Now().After(deadline) || errors.Is(err, store.ErrConflict) {
			for _, c := range batch {
				c.done <- err
			}
			return
		}
		w.log.WarnContext(ctx, "complete jobs; retrying", "jobs", len(batch), "err", err, "backoff", backoff)
		time.Sleep(backoff)
		backoff = min(2*backoff, 2*time.Second)
	}
}

// completeRetryFor is how long a result is offered to an unreachable store:
// twice the lease, past which the job was handed to another worker anyway.
func (w *Worker) completeRetryFor() time.Duration { return 2 * w.opts.Lease }
