package worker

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/store"
)

// batchQueue records each CompleteAll; the first one waits for release,
// as a commit in progress does.
type batchQueue struct {
	store.QueueStore
	release chan struct{}
	mu      sync.Mutex
	batches [][]string
	lose    string
}

func (q *batchQueue) CompleteAll(_ context.Context, _ string, done []store.Completion) ([]string, error) {
	q.mu.Lock()
	first := len(q.batches) == 0
	var ids []string
	var lost []string
	for _, c := range done {
		ids = append(ids, c.JobID)
		if c.JobID == q.lose {
			lost = append(lost, c.JobID)
		}
	}
	q.batches = append(q.batches, ids)
	q.mu.Unlock()
	if first {
		<-q.release
	}
	return lost, nil
}

type batchStore struct {
	store.Store
	q *batchQueue
}

func (s batchStore) Queue() store.QueueStore { return s.q }

// TestFinishedJobsShareACommit: results that arrive while one is being
// stored are stored together in the next transaction, and each thread
// learns its own job's fate.
func TestFinishedJobsShareACommit(t *testing.T) {
	t.Parallel()
	q := &batchQueue{release: make(chan struct{}), lose: "j3"}
	w := New(Options{Store: batchStore{q: q}, ID: "w"})
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = w.complete(t.Context(), store.Completion{JobID: "j0"}) })
	require.Eventually(t, func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return len(q.batches) == 1
	}, 10*time.Second, time.Millisecond, "the first result is stored at once, alone")
	for i := 1; i < n; i++ {
		wg.Go(func() { errs[i] = w.complete(t.Context(), store.Completion{JobID: fmt.Sprintf("j%d", i)}) })
	}
	require.Eventually(t, func() bool {
		w.completions.mu.Lock()
		defer w.completions.mu.Unlock()
		return len(w.completions.queue) == n-1
	}, 10*time.Second, time.Millisecond, "the others queue behind the commit in progress")
	close(q.release)
	wg.Wait()
	require.Len(t, q.batches, 2)
	require.Equal(t, []string{"j0"}, q.batches[0])
	require.ElementsMatch(t, []string{"j1", "j2", "j3", "j4", "j5"}, q.batches[1], "one transaction for all of them")
	for i, err := range errs {
		if i == 3 {
			require.ErrorIs(t, err, store.ErrConflict, "the lost job's thread is told")
			continue
		}
		require.NoError(t, err, "job %d", i)
	}
	q.mu.Lock()
	q.batches = nil
	q.mu.Unlock()
	require.NoError(t, w.complete(t.Context(), store.Completion{JobID: "j9"}), "a later result leads its own batch")
}
