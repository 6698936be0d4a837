package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// listen keeps one connection LISTENing on the channel and fans each
// notification out to this process's subscribers. After a reconnect it
// wakes every subscriber, since notifications sent meanwhile are lost.
// The first outcome of connecting is sent on ready.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig, ready chan<- error) {
	defer close(s.stopped)
	backoff := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			if _, err = conn.Exec(ctx, "LISTEN "+channel); err != nil {
				conn.Close(context.Background())
			}
		}
		if err != nil {
			if first {
				ready <- fmt.Errorf("listen for wake-ups: %w", err)
				return
			}
			s.log.WarnContext(ctx, "wake-up listener cannot connect; retrying", "component", "store",
				"error", err, "backoff", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		if first {
			ready <- nil
			first = false
		} else {
			s.hub.NotifyAll()
		}
		backoff = 100 * time.Millisecond
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.WarnContext(ctx, "wake-up listener lost its connection", "component", "store", "error", err)
				}
				break
			}
			if !s.notifier.ownSender(n.PID) {
				s.hub.Notify(n.Payload)
			}
		}
		conn.Close(context.Background())
	}
}
