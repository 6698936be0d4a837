package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// queueBehind holds the writer in a write of its own until release is
// called, so that the writes started meanwhile queue for one group.
func queueBehind(t *testing.T, s *Store) (release func()) {
	t.Helper()
	started, hold := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.tx(t.Context(), func(ctx context.Context, tx *sql.Tx) error {
			close(started)
			<-hold
			return nil
		})
	}()
	<-started
	return func() {
		close(hold)
		require.NoError(t, <-done)
	}
}

// waitQueued waits until n writes are queued behind the held writer.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(s.wr.reqs) == n }, 10*time.Second, time.Millisecond)
}

func openFile(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "osprey.db"), Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// TestGroupCommit: writes queued while one commits share the next
// transaction; a member that fails after writing leaves nothing, a caller
// that gave up before its turn writes nothing, and the others commit.
func TestGroupCommit(t *testing.T) {
	s := openFile(t)
	ctx := t.Context()
	release := queueBehind(t, s)
	groups := s.wr.groups.Load()

	var wg sync.WaitGroup
	errs := make([]error, 4)
	run := func(i int, fn func() error) {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = fn() }()
	}
	// a multi-statement write that succeeds
	run(0, func() error {
		_, err := s.Flows().Create(ctx, store.PutFlowParams{Namespace: "acme", ID: "kept", Source: "id: kept"})
		return err
	})
	waitQueued(t, s, 1)
	// a write that fails after its first statement
	boom := errors.New("boom")
	run(1, func() error {
		return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := s.stmt(ctx, tx, "nsPut").ExecContext(ctx, "acme.lost", "[]", 0); err != nil {
				return err
			}
			return boom
		})
	})
	waitQueued(t, s, 2)
	// a caller that gives up while queued
	gone, cancel := context.WithCancel(ctx)
	run(2, func() error {
		_, err := s.Flows().Create(gone, store.PutFlowParams{Namespace: "acme", ID: "abandoned", Source: "id: abandoned"})
		return err
	})
	waitQueued(t, s, 3)
	cancel()
	// a single statement
	run(3, func() error {
		return s.Executions().Create(ctx, &flow.Execution{ID: "e1", Namespace: "acme", FlowID: "kept", FlowRevision: 1,
			State: flow.StateInfo{Current: flow.StateCreated}})
	})
	waitQueued(t, s, 4)
	release()
	wg.Wait()

	require.NoError(t, errs[0])
	require.ErrorIs(t, errs[1], boom)
	require.ErrorIs(t, errs[2], context.Canceled)
	require.NoError(t, errs[3])
	require.Equal(t, groups+1, s.wr.groups.Load(), "the four queued writes ran as one group")

	_, err := s.Flows().Get(ctx, "acme", "kept", 0)
	require.NoError(t, err)
	_, err = s.Flows().Get(ctx, "acme", "abandoned", 0)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.Namespaces().Get(ctx, "acme.lost")
	require.ErrorIs(t, err, store.ErrNotFound, "the failed member's first statement was rolled back")
	_, _, err = s.Executions().Get(ctx, "e1")
	require.NoError(t, err)
}

// TestGroupCommitPanic: a write that panics fails its whole group, which
// commits nothing, and the writer keeps serving.
func TestGroupCommitPanic(t *testing.T) {
	s := openFile(t)
	ctx := t.Context()
	release := queueBehind(t, s)
	var wg sync.WaitGroup
	var kept, panicked error
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, kept = s.Flows().Create(ctx, store.PutFlowParams{Namespace: "acme", ID: "f", Source: "id: f"})
	}()
	waitQueued(t, s, 1)
	go func() {
		defer wg.Done()
		panicked = s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error { panic("bad write") })
	}()
	waitQueued(t, s, 2)
	release()
	wg.Wait()
	require.ErrorIs(t, panicked, errPanic)
	require.ErrorIs(t, kept, errGroupLost)
	_, err := s.Flows().Get(ctx, "acme", "f", 0)
	require.ErrorIs(t, err, store.ErrNotFound)

	_, err = s.Flows().Create(ctx, store.PutFlowParams{Namespace: "acme", ID: "f", Source: "id: f"})
	require.NoError(t, err, "the writer serves the next write")
}

// TestWriteAfterClose answers at once.
func TestWriteAfterClose(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "osprey.db"), Options{NoSync: true})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = s.Flows().Create(t.Context(), store.PutFlowParams{Namespace: "acme", ID: "f", Source: "id: f"})
	require.ErrorIs(t, err, errClosed)
}
