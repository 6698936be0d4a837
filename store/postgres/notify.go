package postgres

import (
	"context"
	"sync"
	"time"
)

// notifier sends the wake-ups of committed writes to the other processes
// sharing the database, after those writes committed and outside their
// transactions.
//
// A NOTIFY inside a write's transaction would be simpler, but PostgreSQL
// serializes every transaction that sends one behind a database-wide lock
// held until its commit record is flushed: with fsync on, the writes of all
// executors, workers and webservers then committed one disk flush at a time
// (about 40 executions/s of a two-task flow), and none shared a flush with
// another. Out of them, concurrent commits share flushes again.
//
// Topics sent while a batch is on its way gather and go together in the
// next one, each topic once: one statement in its own transaction, which
// does not wait for its commit to reach the disk (synchronous_commit off
// for that transaction only). A wake-up is a hint: every loop also polls,
// and a listener that reconnects wakes everyone, so a wake-up lost to a
// crash between a commit and its notification costs latency, never
// correctness. Subscribers in this process are woken at once, before the
// notification leaves.
type notifier struct {
	mu      sync.Mutex
	pending []string
	seen    map[string]struct{}
	kick    chan struct{}
	stopped chan struct{}
	// senders are the backend pids of the pool's open connections: the
	// listener drops the notifications they sent, whose subscribers here
	// were woken already (an echo would wake the executor and the
	// workers a second time, each for a claim that finds nothing).
	senders sync.Map // uint32 → struct{}
}

// ownSender reports whether pid is one of this process's connections.
func (n *notifier) ownSender(pid uint32) bool {
	_, ok := n.senders.Load(pid)
	return ok
}

// notify wakes topics' subscribers here at once and queues them for the
// other processes. Call it once the write that warrants them committed.
func (s *Store) notify(topics ...string) {
	for _, t := range topics {
		s.hub.Notify(t)
	}
	n := &s.notifier
	n.mu.Lock()
	if n.seen == nil {
		n.seen = map[string]struct{}{}
	}
	for _, t := range topics {
		if _, ok := n.seen[t]; !ok {
			n.seen[t] = struct{}{}
			n.pending = append(n.pending, t)
		}
	}
	n.mu.Unlock()
	select {
	case n.kick <- struct{}{}:
	default: // a send is already due
	}
}

// take returns the topics queued so far and empties the queue.
func (n *notifier) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.pending
	n.pending = nil
	clear(n.seen)
	return out
}

// notifyLoop sends queued topics until ctx ends, then sends what is left.
func (s *Store) notifyLoop(ctx context.Context) {
	n := &s.notifier
	defer close(n.stopped)
	for {
		select {
		case <-ctx.Done():
			// Close: what committed before it still tells the others.
			fctx, cancel := context.WithTimeout(context.Background(), time.Second)
			s.sendNotifications(fctx, n.take())
			cancel()
			return
		case <-n.kick:
			s.sendNotifications(ctx, n.take())
		}
	}
}

// sendNotifications sends topics in one statement; on failure it tries
// once more, then gives up: wake-ups are hints.
func (s *Store) sendNotifications(ctx context.Context, topics []string) {
	if len(topics) == 0 {
		return
	}
	var err error
	for range 2 {
		if _, err = s.pool.Exec(ctx, s.sql("notifyAsync"), topics); err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "send wake-ups to other processes; they will find the work at their next poll",
			"component", "store", "topics", len(topics), "error", err)
	}
}
