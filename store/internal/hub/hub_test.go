package hub

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHubCoalescesAndCloses(t *testing.T) {
	t.Parallel()
	var h Hub
	ctx, cancel := context.WithCancel(context.Background())
	a := h.Subscribe(ctx, "jobs")
	b := h.Subscribe(context.Background(), "executions")
	h.Notify("jobs")
	h.Notify("jobs") // coalesces with the pending one
	_, ok := <-a
	require.True(t, ok)
	select {
	case <-a:
		t.Fatal("two notifies before a read must coalesce into one wake-up")
	default:
	}
	select {
	case <-b:
		t.Fatal("another topic's subscriber was woken")
	default:
	}
	h.NotifyAll()
	<-a
	<-b
	cancel()
	_, ok = <-a
	require.False(t, ok, "the channel closes when its context ends")
}

func TestHubForgetsTopicsWithoutSubscribers(t *testing.T) {
	t.Parallel()
	var h Hub
	ctx, cancel := context.WithCancel(context.Background())
	ch := h.Subscribe(ctx, "execution:1")
	cancel()
	for range ch { // closed once the subscription is gone
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Empty(t, h.subs, "a per-execution topic is dropped with its last subscriber")
}
