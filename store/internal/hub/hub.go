// Package hub fans wake-ups out to the subscribers of a topic inside one
// process; the store drivers build their Notify/Subscribe on it.
package hub

import (
	"context"
	"sync"
)

// Hub is safe for concurrent use; its zero value is ready. A subscriber's
// channel holds one pending wake-up, so bursts coalesce and a slow
// subscriber never blocks a writer.
type Hub struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

// Subscribe returns a channel woken by Notify(topic) until ctx ends, when
// it is closed.
func (h *Hub) Subscribe(ctx context.Context, topic string) <-chan struct{} {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[string]map[chan struct{}]struct{}{}
	}
	if h.subs[topic] == nil {
		h.subs[topic] = map[chan struct{}]struct{}{}
	}
	h.subs[topic][ch] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		delete(h.subs[topic], ch)
		if len(h.subs[topic]) == 0 {
			// per-execution topics come and go with their waiters
			delete(h.subs, topic)
		}
		h.mu.Unlock()
		close(ch)
	})
	return ch
}

// Notify wakes every subscriber of topic.
func (h *Hub) Notify(topic string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[topic] {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// NotifyAll wakes every subscriber of every topic (after a lost
// connection, when wake-ups may have been missed).
func (h *Hub) NotifyAll() {
	h.mu.Lock()
	topics := make([]string, 0, len(h.subs))
	for t := range h.subs {
		topics = append(topics, t)
	}
	h.mu.Unlock()
	for _, t := range topics {
		h.Notify(t)
	}
}
