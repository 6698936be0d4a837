package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

var queueTests = []test{
	{"ClaimExecutions", testClaimExecutions},
	{"WakeAt", testWakeAt},
	{"ConcurrentClaimExecutions", testConcurrentClaimExecutions},
	{"ClaimOldestFirst", testClaimOldestFirst},
	{"JobLifecycle", testJobLifecycle},
	{"LostRuns", testLostRuns},
	{"JobOrderAndLimit", testJobOrder},
	{"WideStepTakesTurns", testWideStepTakesTurns},
	{"CancelJobs", testCancelJobs},
	{"AckResults", testAckResults},
	{"ConcurrentClaimJobs", testConcurrentClaimJobs},
	{"CompleteAll", testCompleteAll},
	{"ConcurrentCompleteAll", testConcurrentCompleteAll},
	{"NotifySubscribe", testNotify},
	{"ExecutionTopic", testExecutionTopic},
	{"QueueStats", testQueueStats},
}

// testQueueStats: the depth /metrics reports follows claims, and the oldest
// queued job's time is when it was queued.
func testQueueStats(t *testing.T, s store.Store) {
	qi, ok := s.Queue().(store.QueueInspector)
	if !ok {
		t.Skip("this driver's queue does not report its depth (store.QueueInspector is optional)")
	}
	ctx, clock := t.Context(), Clock(t)
	st, err := qi.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, store.QueueStats{}, st, "an empty queue")

	queued := clock.Now()
	enqueue(t, s, "e1", store.Job{ID: "j1", TaskRunID: "tr1", Attempt: 1}, store.Job{ID: "j2", TaskRunID: "tr2", Attempt: 1})
	st, err = qi.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, st.JobsQueued)
	require.Equal(t, 0, st.JobsRunning)
	require.WithinDuration(t, queued, st.OldestQueued, time.Millisecond)
	require.Equal(t, time.UTC, st.OldestQueued.Location())
	require.Equal(t, 1, st.ExecutionsPending, "the step that queued them marked the execution for the executor")

	drainExecutions(t, s)
	_, err = s.Queue().ClaimJobs(ctx, "w", 1, time.Minute)
	require.NoError(t, err)
	st, err = qi.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, store.QueueStats{JobsQueued: 1, JobsRunning: 1, OldestQueued: st.OldestQueued}, st)
	require.False(t, st.OldestQueued.IsZero())
}

// enqueue saves execution id (created if needed) with jobs, as one
// executor step would.
func enqueue(t *testing.T, s store.Store, id string, jobs ...store.Job) {
	t.Helper()
	ctx, xs := t.Context(), s.Executions()
	e, v, err := xs.Get(ctx, id)
	if err != nil {
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, xs.Create(ctx, newExecution(id, "acme", "f", Clock(t).Now())))
		e, v, err = xs.Get(ctx, id)
		require.NoError(t, err)
	}
	for i := range jobs {
		jobs[i].ExecutionID = id
	}
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, Jobs: jobs})
	require.NoError(t, err)
}

func testClaimExecutions(t *testing.T, s store.Store) {
	ctx, xs, q, clock := t.Context(), s.Executions(), s.Queue(), Clock(t)
	claim := func(owner string) []string {
		t.Helper()
		ids, err := q.ClaimExecutions(ctx, owner, 10, time.Minute)
		require.NoError(t, err)
		slices.Sort(ids)
		return ids
	}
	require.Empty(t, claim("a"))
	require.NoError(t, xs.Create(ctx, newExecution("e1", "acme", "f", clock.Now())))
	require.NoError(t, xs.Create(ctx, newExecution("e2", "acme", "f", clock.Now())))
	require.Equal(t, []string{"e1", "e2"}, claim("a"), "new executions are dirty")
	require.Empty(t, claim("b"), "a live lease holds them")

	// Work arriving during the claim waits for the claim's end.
	require.NoError(t, xs.MarkDirty(ctx, "e1"))
	require.Empty(t, claim("b"))

	// Saving releases the claim: e1 got dirty meanwhile so it comes back,
	// e2 did not.
	for _, id := range []string{"e1", "e2"} {
		e, v, err := xs.Get(ctx, id)
		require.NoError(t, err)
		_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, Owner: "a"})
		require.NoError(t, err)
	}
	require.Equal(t, []string{"e1"}, claim("b"))
	require.Empty(t, claim("c"))

	// A crashed claimer's lease runs out and another executor takes over.
	clock.Advance(time.Minute + time.Second)
	require.Equal(t, []string{"e1"}, claim("c"))

	// A save by someone who does not hold the claim leaves it in place.
	e, v, err := xs.Get(ctx, "e1")
	require.NoError(t, err)
	require.NoError(t, xs.MarkDirty(ctx, "e1"))
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, Owner: "b"})
	require.NoError(t, err)
	require.Empty(t, claim("d"), "c still holds e1")

	ids, err := q.ClaimExecutions(ctx, "e", 1, time.Minute)
	require.NoError(t, err)
	require.Empty(t, ids)
	require.NoError(t, xs.MarkDirty(ctx, "e2"))
	for _, id := range []string{"e3", "e4"} {
		require.NoError(t, xs.Create(ctx, newExecution(id, "acme", "f", clock.Now())))
	}
	ids, err = q.ClaimExecutions(ctx, "e", 2, time.Minute)
	require.NoError(t, err)
	require.Len(t, ids, 2, "limit bounds a claim")
	require.Len(t, claim("f"), 1)
}

func testWakeAt(t *testing.T, s store.Store) {
	ctx, xs, q, clock := t.Context(), s.Executions(), s.Queue(), Clock(t)
	require.NoError(t, xs.Create(ctx, newExecution("sleepy", "acme", "f", clock.Now())))
	ids, err := q.ClaimExecutions(ctx, "a", 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"sleepy"}, ids)
	e, v, err := xs.Get(ctx, "sleepy")
	require.NoError(t, err)
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, Owner: "a", WakeAt: ptr(clock.Now().Add(10 * time.Minute))})
	require.NoError(t, err)

	ids, err = q.ClaimExecutions(ctx, "b", 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, ids, "not before its wake-up time")
	clock.Advance(9 * time.Minute)
	ids, err = q.ClaimExecutions(ctx, "b", 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, ids)
	clock.Advance(time.Minute)
	ids, err = q.ClaimExecutions(ctx, "b", 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"sleepy"}, ids, "claimable once WakeAt has passed")

	e, v, err = xs.Get(ctx, "sleepy")
	require.NoError(t, err)
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, Owner: "b"})
	require.NoError(t, err)
	clock.Advance(time.Hour)
	ids, err = q.ClaimExecutions(ctx, "c", 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, ids, "a wake-up fires once")
}

func testConcurrentClaimExecutions(t *testing.T, s store.Store) {
	ctx, xs, q, clock := t.Context(), s.Executions(), s.Queue(), Clock(t)
	const n = 40
	for i := range n {
		require.NoError(t, xs.Create(ctx, newExecution(fmt.Sprintf("e%02d", i), "acme", "f", clock.Now())))
	}
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			owner := fmt.Sprintf("exec-%d", w)
			for range n { // bounded: at most n rounds
				ids, err := q.ClaimExecutions(ctx, owner, 3, time.Minute)
				if !(assertNoError(t, err)) || len(ids) == 0 {
					return
				}
				mu.Lock()
				for _, id := range ids {
					if prev, dup := seen[id]; dup {
						t.Errorf("%s claimed by %s and %s", id, prev, owner)
					}
					seen[id] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, seen, n, "every execution claimed exactly once")
}

func assertNoError(t *testing.T, err error) bool {
	if err != nil {
		t.Errorf("unexpected error: %v", err)
		return false
	}
	return true
}

func testJobLifecycle(t *testing.T, s store.Store) {
	ctx, q, clock := t.Context(), s.Queue(), Clock(t)
	enqueue(t, s, "e1", store.Job{ID: "j1", TaskRunID: "tr1", Attempt: 1, Payload: []byte(`{"n":1}`)})
	drainExecutions(t, s)

	jobs, err := q.ClaimJobs(ctx, "w1", 5, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	j := jobs[0]
	require.Equal(t, store.JobRunning, j.State)
	require.Equal(t, "w1", j.Owner)
	require.WithinDuration(t, clock.Now().Add(time.Minute), j.LeaseUntil, time.Millisecond)
	require.WithinDuration(t, clock.Now(), j.Created, time.Millisecond)
	require.Equal(t, time.UTC, j.Created.Location())
	require.Equal(t, time.UTC, j.LeaseUntil.Location())
	require.False(t, j.Cancel)
	jobs, err = q.ClaimJobs(ctx, "w2", 5, time.Minute)
	require.NoError(t, err)
	require.Empty(t, jobs, "a running job is not claimed twice")

	// Heartbeats keep the lease alive past its first deadline.
	clock.Advance(50 * time.Second)
	cancel, err := q.Heartbeat(ctx, "w1", []string{"j1"}, time.Minute)
	require.NoError(t, err)
	require.Empty(t, cancel)
	clock.Advance(50 * time.Second)
	n, err := q.RequeueExpired(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "the heartbeat extended the lease")

	// Without heartbeats the lease runs out and the job goes back.
	clock.Advance(11 * time.Second)
	n, err = q.RequeueExpired(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	jobs, err = q.ClaimJobs(ctx, "w2", 5, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.Equal(t, "j1", jobs[0].ID)
	require.Equal(t, "w2", jobs[0].Owner)
	require.JSONEq(t, `{"n":1}`, string(jobs[0].Payload))
	require.Equal(t, 1, jobs[0].Lost, "the expired run is counted")
	require.Equal(t, 1, jobs[0].Expired)

	require.ErrorIs(t, q.Complete(ctx, "w1", "j1", []byte(`{}`)), store.ErrConflict, "the old owner lost it")
	res, err := q.Results(ctx, "e1")
	require.NoError(t, err)
	require.Empty(t, res)

	require.NoError(t, q.Complete(ctx, "w2", "j1", []byte(`{"state":"SUCCESS"}`)))
	require.ErrorIs(t, q.Complete(ctx, "w2", "j1", []byte(`{}`)), store.ErrConflict, "done once")
	ids, err := q.ClaimExecutions(ctx, "exec", 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"e1"}, ids, "a completed job marks its execution dirty")
	res, err = q.Results(ctx, "e1")
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.Equal(t, "j1", res[0].ID)
	require.Equal(t, store.JobDone, res[0].State)
	require.JSONEq(t, `{"state":"SUCCESS"}`, string(res[0].Result))
	n, err = q.RequeueExpired(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "done jobs stay done")
}

// testLostRuns checks the counts a worker reads to record lost attempts
// and to stop a task that keeps crashing its worker: a lease that runs out
// counts as lost and expired, a job handed back as lost only.
func testLostRuns(t *testing.T, s store.Store) {
	ctx, q, clock := t.Context(), s.Queue(), Clock(t)
	enqueue(t, s, "e1", store.Job{ID: "j1", TaskRunID: "tr1", Attempt: 1, Payload: []byte(`{}`)})
	drainExecutions(t, s)
	claim := func(owner string) store.Job {
		t.Helper()
		jobs, err := q.ClaimJobs(ctx, owner, 5, time.Minute)
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		return jobs[0]
	}
	j := claim("w1")
	require.Zero(t, j.Lost)
	require.Zero(t, j.Expired)

	require.ErrorIs(t, q.Release(ctx, "w2", "j1"), store.ErrConflict, "only the owner hands a job back")
	require.NoError(t, q.Release(ctx, "w1", "j1"))
	require.ErrorIs(t, q.Release(ctx, "w1", "j1"), store.ErrConflict, "handed back once")
	j = claim("w2")
	require.Equal(t, "w2", j.Owner)
	require.Equal(t, 1, j.Lost)
	require.Zero(t, j.Expired, "a job handed back did not crash its worker")

	for i := 1; i <= 2; i++ {
		clock.Advance(2 * time.Minute)
		n, err := q.RequeueExpired(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		j = claim(fmt.Sprintf("w%d", i+2))
		require.Equal(t, 1+i, j.Lost)
		require.Equal(t, i, j.Expired)
	}
	require.NoError(t, q.Complete(ctx, j.Owner, "j1", []byte(`{}`)))
	res, err := q.Results(ctx, "e1")
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.Equal(t, 3, res[0].Lost)
	require.Equal(t, 2, res[0].Expired)
}

// drainExecutions claims and releases every claimable execution so that
// later claims see only what the test causes.
func drainExecutions(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	ids, err := s.Queue().ClaimExecutions(ctx, "drain", 1000, time.Minute)
	require.NoError(t, err)
	for _, id := range ids {
		e, v, err := s.Executions().Get(ctx, id)
		require.NoError(t, err)
		_, err = s.Executions().Save(ctx, store.SaveParams{Execution: e, Version: v, Owner: "drain"})
		require.NoError(t, err)
	}
}

func testJobOrder(t *testing.T, s store.Store) {
	ctx, q, clock := t.Context(), s.Queue(), Clock(t)
	enqueue(t, s, "e1", store.Job{ID: "old-1", TaskRunID: "a"}, store.Job{ID: "old-2", TaskRunID: "b"})
	clock.Advance(time.Second)
	enqueue(t, s, "e2", store.Job{ID: "new-1", TaskRunID: "c"})
	clock.Advance(time.Second)
	enqueue(t, s, "e1", store.Job{ID: "newest", TaskRunID: "d"})

	jobs, err := q.ClaimJobs(ctx, "w", 2, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"old-1", "new-1"}, jobIDs(jobs), "each step's first job, oldest first; limit respected")
	jobs, err = q.ClaimJobs(ctx, "w", 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"old-2", "newest"}, jobIDs(jobs), "collected oldest first")
}

// testWideStepTakesTurns checks fairness: a step that queued many jobs
// does not hold back the first job of an execution queued after it.
func testWideStepTakesTurns(t *testing.T, s store.Store) {
	ctx, q, clock := t.Context(), s.Queue(), Clock(t)
	var wide []store.Job
	for i := range 50 {
		wide = append(wide, store.Job{ID: fmt.Sprintf("wide-%02d", i), TaskRunID: fmt.Sprintf("w%d", i)})
	}
	enqueue(t, s, "wide", wide...)
	clock.Advance(time.Second)
	enqueue(t, s, "small", store.Job{ID: "small-1", TaskRunID: "s"})

	var got []string
	for range 3 {
		jobs, err := q.ClaimJobs(ctx, "w", 1, time.Minute)
		require.NoError(t, err)
		got = append(got, jobIDs(jobs)...)
	}
	require.Equal(t, []string{"wide-00", "small-1", "wide-01"}, got)

	// A step stored in slices (SaveParams.FirstTurn) numbers the jobs of
	// each slice after those of the slices before it: its second slice
	// does not come before what other executions queued after it.
	drainJobs(t, s)
	enqueue(t, s, "sliced", store.Job{ID: "a0", TaskRunID: "a0"}, store.Job{ID: "a1", TaskRunID: "a1"}, store.Job{ID: "a2", TaskRunID: "a2"})
	clock.Advance(time.Second)
	e, v, err := s.Executions().Get(ctx, "sliced")
	require.NoError(t, err)
	_, err = s.Executions().Save(ctx, store.SaveParams{Execution: e, Version: v, FirstTurn: 3, Jobs: []store.Job{
		{ID: "a3", ExecutionID: "sliced", TaskRunID: "a3"}, {ID: "a4", ExecutionID: "sliced", TaskRunID: "a4"},
	}})
	require.NoError(t, err)
	clock.Advance(time.Second)
	enqueue(t, s, "other", store.Job{ID: "o0", TaskRunID: "o0"}, store.Job{ID: "o1", TaskRunID: "o1"})
	got = nil
	for range 7 {
		jobs, err := q.ClaimJobs(ctx, "w", 1, time.Minute)
		require.NoError(t, err)
		got = append(got, jobIDs(jobs)...)
	}
	require.Equal(t, []string{"a0", "o0", "a1", "o1", "a2", "a3", "a4"}, got)
}

// drainJobs claims every queued job, so that a test starts from an empty
// queue.
func drainJobs(t *testing.T, s store.Store) {
	t.Helper()
	for {
		jobs, err := s.Queue().ClaimJobs(t.Context(), "drain", 100, time.Hour)
		require.NoError(t, err)
		if len(jobs) == 0 {
			return
		}
	}
}

func jobIDs(js []store.Job) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = j.ID
	}
	return out
}

func testCancelJobs(t *testing.T, s store.Store) {
	ctx, xs, q := t.Context(), s.Executions(), s.Queue()
	enqueue(t, s, "e1", store.Job{ID: "j1", TaskRunID: "a"}, store.Job{ID: "j2", TaskRunID: "b"})
	jobs, err := q.ClaimJobs(ctx, "w", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 2)

	e, v, err := xs.Get(ctx, "e1")
	require.NoError(t, err)
	e.State.Set(flow.StateKilling, Clock(t).Now())
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, CancelJobs: []string{"j2"}})
	require.NoError(t, err)

	cancel, err := q.Heartbeat(ctx, "w", []string{"j1", "j2"}, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"j2"}, cancel, "the heartbeat tells the worker what to stop")
	cancel, err = q.Heartbeat(ctx, "other", []string{"j2"}, time.Minute)
	require.NoError(t, err)
	require.Empty(t, cancel, "only the owner's jobs are reported")
	require.NoError(t, q.Complete(ctx, "w", "j2", []byte(`{"state":"KILLED"}`)))

	// Jobs cancelled before any worker took them are removed with the
	// step, however many: their task runs ended, no worker needs to see
	// them. The others stay as they were.
	var queued []store.Job
	var ids []string
	kept := map[string]bool{}
	for i := range 500 {
		id := fmt.Sprintf("q%03d", i)
		queued = append(queued, store.Job{ID: id, TaskRunID: "t" + id})
		if i%5 != 0 {
			ids = append(ids, id)
		} else {
			kept[id] = true
		}
	}
	enqueue(t, s, "e1", queued...)
	e, v, err = xs.Get(ctx, "e1")
	require.NoError(t, err)
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, CancelJobs: ids})
	require.NoError(t, err)
	jobs, err = q.ClaimJobs(ctx, "w", 1000, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 100, "only the jobs not cancelled are left")
	for _, j := range jobs {
		require.False(t, j.Cancel, j.ID)
		require.True(t, kept[j.ID], j.ID)
	}
}

func testAckResults(t *testing.T, s store.Store) {
	ctx, xs, q := t.Context(), s.Executions(), s.Queue()
	enqueue(t, s, "e1", store.Job{ID: "j1", TaskRunID: "a"}, store.Job{ID: "j2", TaskRunID: "b"})
	enqueue(t, s, "e2", store.Job{ID: "k1", TaskRunID: "c"})
	jobs, err := q.ClaimJobs(ctx, "w", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 3)
	for _, id := range []string{"j1", "j2", "k1"} {
		require.NoError(t, q.Complete(ctx, "w", id, []byte(`"`+id+`"`)))
	}
	res, err := q.Results(ctx, "e1")
	require.NoError(t, err)
	require.Equal(t, []string{"j1", "j2"}, jobIDs(res), "only this execution's results, in order")

	e, v, err := xs.Get(ctx, "e1")
	require.NoError(t, err)
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, AckResults: []string{"j1"}})
	require.NoError(t, err)
	res, err = q.Results(ctx, "e1")
	require.NoError(t, err)
	require.Equal(t, []string{"j2"}, jobIDs(res), "acknowledged results are not returned again")
	require.Equal(t, `"j2"`, string(res[0].Result))
	res, err = q.Results(ctx, "e2")
	require.NoError(t, err)
	require.Equal(t, []string{"k1"}, jobIDs(res))
}

// testCompleteAll: a worker's batch of results and log lines commits
// together; a job the worker lost is reported and left alone.
func testCompleteAll(t *testing.T, s store.Store) {
	ctx, q, clock := t.Context(), s.Queue(), Clock(t)
	enqueue(t, s, "e1", store.Job{ID: "j1", TaskRunID: "a"}, store.Job{ID: "j2", TaskRunID: "b"})
	enqueue(t, s, "e2", store.Job{ID: "k1", TaskRunID: "c"})
	jobs, err := q.ClaimJobs(ctx, "w", 2, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 2)
	other, err := q.ClaimJobs(ctx, "other", 1, time.Minute)
	require.NoError(t, err)
	require.Len(t, other, 1)
	drainExecutions(t, s)
	execCh, err := q.Subscribe(ctx, store.TopicExecutions)
	require.NoError(t, err)

	line := func(exec, tr, msg string) flow.LogEntry {
		return flow.LogEntry{ExecutionID: exec, Namespace: "acme", FlowID: "f", TaskRunID: tr, AttemptNumber: 1,
			Timestamp: clock.Now(), Level: "INFO", Message: msg}
	}
	byID := map[string]store.Job{}
	for _, j := range append(jobs, other...) {
		byID[j.ID] = j
	}
	var done []store.Completion
	for _, id := range []string{"j1", "j2", "k1"} {
		j := byID[id]
		done = append(done, store.Completion{JobID: id, Result: []byte(`"` + id + `"`),
			Logs: []flow.LogEntry{line(j.ExecutionID, j.TaskRunID, id+" one"), line(j.ExecutionID, j.TaskRunID, id+" two")}})
	}
	lost, err := q.CompleteAll(ctx, "w", done)
	require.NoError(t, err)
	lostID := other[0].ID
	require.Equal(t, []string{lostID}, lost, "the job another worker holds is reported, not completed")
	select {
	case <-execCh:
	case <-time.After(10 * time.Second):
		t.Fatal("a batch of results did not wake the executors")
	}

	for _, exec := range []string{"e1", "e2"} {
		res, err := q.Results(ctx, exec)
		require.NoError(t, err)
		for _, r := range res {
			require.NotEqual(t, lostID, r.ID)
			require.Equal(t, `"`+r.ID+`"`, string(r.Result))
		}
		got, err := s.Logs().List(ctx, store.LogQuery{ExecutionID: exec})
		require.NoError(t, err)
		var msgs []string
		for _, l := range got {
			msgs = append(msgs, l.Message)
		}
		want := map[string][]string{}
		for _, c := range done {
			want[byID[c.JobID].ExecutionID] = append(want[byID[c.JobID].ExecutionID], c.Logs[0].Message, c.Logs[1].Message)
		}
		require.Equal(t, want[exec], msgs, "every run's lines, the lost one's too, in order")
	}
	res1, err := q.Results(ctx, "e1")
	require.NoError(t, err)
	res2, err := q.Results(ctx, "e2")
	require.NoError(t, err)
	require.Len(t, append(res1, res2...), 2)
	ids, err := q.ClaimExecutions(ctx, "x", 10, time.Minute)
	require.NoError(t, err)
	slices.Sort(ids)
	require.Equal(t, []string{"e1", "e2"}, ids, "both executions were marked for the executor")

	require.NoError(t, q.Complete(ctx, "other", lostID, nil))
	lost, err = q.CompleteAll(ctx, "w", []store.Completion{{JobID: "j1"}, {JobID: lostID}})
	require.NoError(t, err)
	require.Equal(t, sorted([]string{"j1", lostID}), sorted(lost), "a job done already is lost too")
	lost, err = q.CompleteAll(ctx, "w", nil)
	require.NoError(t, err)
	require.Empty(t, lost)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// testConcurrentCompleteAll: workers completing batches that span the same
// executions, in opposite orders, all succeed (no lock waits in a cycle).
func testConcurrentCompleteAll(t *testing.T, s store.Store) {
	ctx, q := t.Context(), s.Queue()
	const execs, per = 4, 16
	for e := range execs {
		var jobs []store.Job
		for i := range per {
			jobs = append(jobs, store.Job{ID: fmt.Sprintf("e%d-j%02d", e, i), TaskRunID: "tr"})
		}
		enqueue(t, s, fmt.Sprintf("e%d", e), jobs...)
	}
	const workers = 4
	claimed := make([][]store.Job, workers)
	for w := range workers {
		var err error
		claimed[w], err = q.ClaimJobs(ctx, fmt.Sprintf("worker-%d", w), execs*per/workers, time.Minute)
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			owner := fmt.Sprintf("worker-%d", w)
			jobs := claimed[w]
			if w%2 == 1 {
				slices.Reverse(jobs)
			}
			for len(jobs) > 0 {
				n := min(3, len(jobs))
				var done []store.Completion
				for _, j := range jobs[:n] {
					done = append(done, store.Completion{JobID: j.ID, Result: []byte(`{}`), Logs: []flow.LogEntry{{
						ExecutionID: j.ExecutionID, Namespace: "acme", FlowID: "f", TaskRunID: j.TaskRunID,
						Timestamp: time.Now(), Level: "INFO", Message: j.ID}}})
				}
				lost, err := q.CompleteAll(ctx, owner, done)
				if !assertNoError(t, err) {
					return
				}
				if len(lost) > 0 {
					t.Errorf("%s lost %v", owner, lost)
				}
				jobs = jobs[n:]
			}
		})
	}
	wg.Wait()
	total := 0
	for e := range execs {
		res, err := q.Results(ctx, fmt.Sprintf("e%d", e))
		require.NoError(t, err)
		total += len(res)
	}
	require.Equal(t, execs*per, total, "every result stored once")
}

func testConcurrentClaimJobs(t *testing.T, s store.Store) {
	ctx, q := t.Context(), s.Queue()
	const n = 40
	var jobs []store.Job
	for i := range n {
		jobs = append(jobs, store.Job{ID: fmt.Sprintf("j%02d", i), TaskRunID: "tr"})
	}
	enqueue(t, s, "e1", jobs...)
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			owner := fmt.Sprintf("worker-%d", w)
			for range n {
				got, err := q.ClaimJobs(ctx, owner, 3, time.Minute)
				if !assertNoError(t, err) || len(got) == 0 {
					return
				}
				mu.Lock()
				for _, j := range got {
					if prev, dup := seen[j.ID]; dup {
						t.Errorf("%s claimed by %s and %s", j.ID, prev, owner)
					}
					seen[j.ID] = owner
				}
				mu.Unlock()
				for _, j := range got {
					assertNoError(t, q.Complete(ctx, owner, j.ID, nil))
				}
			}
		})
	}
	wg.Wait()
	require.Len(t, seen, n, "every job claimed exactly once")
	res, err := q.Results(ctx, "e1")
	require.NoError(t, err)
	require.Len(t, res, n)
}

func testNotify(t *testing.T, s store.Store) {
	ctx, q := t.Context(), s.Queue()
	jobsCh, err := q.Subscribe(ctx, store.TopicJobs)
	require.NoError(t, err)
	execCh, err := q.Subscribe(ctx, store.TopicExecutions)
	require.NoError(t, err)
	wait := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("no wake-up: %s", what)
		}
	}
	drain := func(ch <-chan struct{}) {
		for {
			select {
			case <-ch:
			default:
				return
			}
		}
	}

	require.NoError(t, q.Notify(ctx, store.TopicJobs))
	wait(jobsCh, "explicit Notify")

	require.NoError(t, s.Executions().Create(ctx, newExecution("e1", "acme", "f", Clock(t).Now())))
	wait(execCh, "a created execution")

	drain(jobsCh)
	enqueue(t, s, "e1", store.Job{ID: "j1", TaskRunID: "a"})
	wait(jobsCh, "a saved job")

	jobs, err := q.ClaimJobs(ctx, "w", 1, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	drain(execCh)
	require.NoError(t, q.Complete(ctx, "w", "j1", nil))
	wait(execCh, "a completed job")

	// Work that arrives while an executor holds its claim wakes the
	// executors again when the claim is released.
	ids, err := q.ClaimExecutions(ctx, "exec", 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"e1"}, ids)
	require.NoError(t, s.Executions().MarkDirty(ctx, "e1"))
	e, v, err := s.Executions().Get(ctx, "e1")
	require.NoError(t, err)
	drain(execCh)
	_, err = s.Executions().Save(ctx, store.SaveParams{Execution: e, Version: v, Owner: "exec"})
	require.NoError(t, err)
	wait(execCh, "a save that leaves the execution dirty")

	// A kill wakes the workers' heartbeats; queuing a job does not.
	killsCh, err := q.Subscribe(ctx, store.TopicKills)
	require.NoError(t, err)
	enqueue(t, s, "e1", store.Job{ID: "j2", TaskRunID: "b"})
	e, v, err = s.Executions().Get(ctx, "e1")
	require.NoError(t, err)
	select {
	case <-killsCh:
		t.Fatal("a queued job woke the kills topic")
	default:
	}
	_, err = s.Executions().Save(ctx, store.SaveParams{Execution: e, Version: v, CancelJobs: []string{"j2"}})
	require.NoError(t, err)
	wait(killsCh, "a save that cancels a job")

	// Many notifications coalesce and never block the notifier.
	for range 100 {
		require.NoError(t, q.Notify(ctx, store.TopicJobs))
	}
	wait(jobsCh, "a burst")

	// The channel closes when the subscription's context ends.
	sub, cancel := context.WithCancel(ctx)
	ch, err := q.Subscribe(sub, store.TopicJobs)
	require.NoError(t, err)
	cancel()
	require.Eventually(t, func() bool {
		select {
		case _, ok := <-ch:
			return !ok
		default:
			return false
		}
	}, 10*time.Second, 5*time.Millisecond)
}

// testExecutionTopic checks that a saved step and appended log lines wake
// the subscribers of that execution's topic, and only theirs: waits and
// follows rely on it to answer as soon as a change is stored.
func testExecutionTopic(t *testing.T, s store.Store) {
	ctx, q, xs := t.Context(), s.Queue(), s.Executions()
	for _, id := range []string{"t1", "t2"} {
		require.NoError(t, xs.Create(ctx, newExecution(id, "acme", "f", Clock(t).Now())))
	}
	ch1, err := q.Subscribe(ctx, store.TopicExecution("t1"))
	require.NoError(t, err)
	ch2, err := q.Subscribe(ctx, store.TopicExecution("t2"))
	require.NoError(t, err)
	end1, err := q.Subscribe(ctx, store.TopicExecutionEnd("t1"))
	require.NoError(t, err)
	wait := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("no wake-up: %s", what)
		}
	}
	quiet := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
			t.Fatalf("woken by %s", what)
		default:
		}
	}

	// (PostgreSQL echoes each wake-up back through LISTEN a little later,
	// so "not woken" is checked only on a topic nothing has notified yet.)
	require.NoError(t, s.Logs().Append(ctx, []flow.LogEntry{{ExecutionID: "t2", Namespace: "acme", FlowID: "f",
		Level: "INFO", Message: "hello", Timestamp: Clock(t).Now()}}))
	wait(ch2, "a log line was appended")
	quiet(ch1, "another execution's log line")

	e, v, err := xs.Get(ctx, "t1")
	require.NoError(t, err)
	e.State.Set(flow.StateRunning, Clock(t).Now())
	v, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v})
	require.NoError(t, err)
	wait(ch1, "a step was saved")
	quiet(end1, "a step that did not end the execution")

	e.State.Set(flow.StateSuccess, Clock(t).Now())
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v})
	require.NoError(t, err)
	wait(ch1, "the execution's end state was saved")
	wait(end1, "the execution's end state was saved")
}

// testClaimOldestFirst checks that claims take the oldest executions first,
// so that under load no execution waits behind newer ones.
func testClaimOldestFirst(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	base := clock.Now()
	// ids sort in the opposite order of their ages
	for i, id := range []string{"zz-oldest", "mm-middle", "aa-newest"} {
		require.NoError(t, xs.Create(ctx, newExecution(id, "acme", "f", base.Add(time.Duration(i)*time.Second))))
	}
	var got []string
	for range 3 {
		ids, err := s.Queue().ClaimExecutions(ctx, "x", 1, time.Minute)
		require.NoError(t, err)
		require.Len(t, ids, 1)
		got = append(got, ids[0])
	}
	require.Equal(t, []string{"zz-oldest", "mm-middle", "aa-newest"}, got)
}
