package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// checkpointEvery is how often the checkpointer copies the WAL back into
// the database file.
const checkpointEvery = 100 * time.Millisecond

// autoCheckpointPages is the writer's own checkpoint threshold, a backstop
// for when the checkpointer falls behind (readers holding old snapshots):
// 8,000 pages of 4 KiB.
const autoCheckpointPages = 8000

// checkpoints copies committed WAL frames into the database file in the
// background, on a connection of its own, until ctx ends.
//
// SQLite's default is that the commit which grows the WAL past 1,000 pages
// does the checkpoint itself: it copies those pages and waits for fsync
// while holding the only writer connection, so every write queued behind
// it waits too (the latency spikes of a busy server). A PASSIVE checkpoint
// here runs beside the writer and never blocks it; a WAL the checkpointer
// emptied is rewritten from its start by the next commit.
func (s *Store) checkpoints(ctx context.Context, db *sql.DB) {
	defer close(s.ckDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var busy, frames, done int
		// Errors are not fatal: the writer's backstop checkpoints anyway.
		_ = db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done)
	}
}
