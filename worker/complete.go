package worker

import (
	"context"
	"errors"
	"time"

	"github.com/ospreyhq/osprey/store"
)

// complete hands a finished job's result to the store. A failure that is
// not a lost claim (the database restarting, a dropped connection) is
// retried with backoff: the task has run, and giving up would leave the job
// RUNNING until its lease ran out and it ran a second time. Meanwhile the
// job stays in the heartbeat's set, so its lease is renewed as soon as the
// store answers again. Retries stop at completeRetryFor, or when the store
// says another worker holds the job now.
func (w *Worker) complete(ctx context.Context, jobID string, result []byte) error {
	ctx = context.WithoutCancel(ctx)
	deadline := time.Now().Add(w.completeRetryFor())
	backoff := 50 * time.Millisecond
	for {
		err := w.opts.Store.Queue().Complete(ctx, w.opts.ID, jobID, result)
		if err == nil || errors.Is(err, store.ErrConflict) || time.Now().After(deadline) {
			return err
		}
		w.log.WarnContext(ctx, "complete job; retrying", "job", jobID, "err", err, "backoff", backoff)
		time.Sleep(backoff)
		backoff = min(2*backoff, 2*time.Second)
	}
}

// completeRetryFor is how long a result is offered to an unreachable store:
// twice the lease, past which the job was handed to another worker anyway.
func (w *Worker) completeRetryFor() time.Duration { return 2 * w.opts.Lease }
