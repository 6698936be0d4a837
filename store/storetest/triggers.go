package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

var triggerTests = []test{
	{"GetPutListDelete", testTriggerCRUD},
	{"Fire", testTriggerFire},
	{"ConcurrentFire", testTriggerConcurrentFire},
}

func testTriggerCRUD(t *testing.T, s store.Store) {
	ctx, ts, clock := t.Context(), s.Triggers(), Clock(t)
	_, err := ts.Get(ctx, "acme", "f", "daily")
	require.ErrorIs(t, err, store.ErrNotFound)

	next, last := clock.Now().Add(time.Hour), clock.Now().Add(-time.Hour)
	st := store.TriggerState{Namespace: "acme", FlowID: "f", TriggerID: "daily", Next: &next, Last: &last,
		Data: []byte(`{"window":1}`)}
	require.NoError(t, ts.Put(ctx, st))
	got, err := ts.Get(ctx, "acme", "f", "daily")
	require.NoError(t, err)
	require.True(t, next.Equal(*got.Next))
	require.True(t, last.Equal(*got.Last))
	require.False(t, got.Disabled)
	require.JSONEq(t, `{"window":1}`, string(got.Data))
	require.WithinDuration(t, clock.Now(), got.Updated, time.Millisecond)

	st.Disabled, st.Next = true, nil
	require.NoError(t, ts.Put(ctx, st), "put overwrites")
	require.NoError(t, ts.Put(ctx, store.TriggerState{Namespace: "acme", FlowID: "a", TriggerID: "hourly"}))
	got, err = ts.Get(ctx, "acme", "f", "daily")
	require.NoError(t, err)
	require.True(t, got.Disabled)
	require.Nil(t, got.Next)

	all, err := ts.List(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, "hourly", all[0].TriggerID, "listed by namespace, flow, trigger")
	require.Equal(t, "daily", all[1].TriggerID)

	require.NoError(t, ts.Delete(ctx, "acme", "f", "daily"))
	_, err = ts.Get(ctx, "acme", "f", "daily")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, ts.Delete(ctx, "acme", "f", "daily"), store.ErrNotFound)
}

func testTriggerFire(t *testing.T, s store.Store) {
	ctx, ts, xs, clock := t.Context(), s.Triggers(), s.Executions(), Clock(t)
	t1 := clock.Now().Truncate(time.Minute).Add(time.Minute)
	t2 := t1.Add(time.Minute)
	st := store.TriggerState{Namespace: "acme", FlowID: "f", TriggerID: "cron"}

	st.Next = &t1
	won, err := ts.Fire(ctx, nil, st, nil)
	require.NoError(t, err)
	require.True(t, won, "the first fire creates the state")
	won, err = ts.Fire(ctx, nil, st, []*flow.Execution{newExecution("late", "acme", "f", clock.Now())})
	require.NoError(t, err)
	require.False(t, won, "state exists now: a nil prevNext is stale")
	_, _, err = xs.Get(ctx, "late")
	require.ErrorIs(t, err, store.ErrNotFound, "a lost fire creates nothing")

	stored, err := ts.Get(ctx, "acme", "f", "cron")
	require.NoError(t, err)
	st.Next, st.Last = &t2, &t1
	won, err = ts.Fire(ctx, stored.Next, st, []*flow.Execution{newExecution("tick-1", "acme", "f", clock.Now())})
	require.NoError(t, err)
	require.True(t, won)
	_, _, err = xs.Get(ctx, "tick-1")
	require.NoError(t, err)
	ids, err := s.Queue().ClaimExecutions(ctx, "exec", 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"tick-1"}, ids, "fired executions are claimable")

	got, err := ts.Get(ctx, "acme", "f", "cron")
	require.NoError(t, err)
	require.True(t, t2.Equal(*got.Next))
	require.True(t, t1.Equal(*got.Last))

	won, err = ts.Fire(ctx, &t1, st, nil)
	require.NoError(t, err)
	require.False(t, won, "a stale prevNext loses")
}

func testTriggerConcurrentFire(t *testing.T, s store.Store) {
	ctx, ts, xs, clock := t.Context(), s.Triggers(), s.Executions(), Clock(t)
	t1 := clock.Now().Truncate(time.Minute).Add(time.Minute)
	t2 := t1.Add(time.Minute)
	require.NoError(t, ts.Put(ctx, store.TriggerState{Namespace: "acme", FlowID: "f", TriggerID: "cron", Next: &t1}))

	const n = 6
	var wg sync.WaitGroup
	won := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			st := store.TriggerState{Namespace: "acme", FlowID: "f", TriggerID: "cron", Next: &t2, Last: &t1}
			won[i], errs[i] = ts.Fire(ctx, &t1, st, []*flow.Execution{
				newExecution(fmt.Sprintf("sched-%d", i), "acme", "f", clock.Now())})
		})
	}
	wg.Wait()
	winners := 0
	for i := range n {
		require.NoError(t, errs[i])
		_, _, err := xs.Get(ctx, fmt.Sprintf("sched-%d", i))
		if won[i] {
			winners++
			require.NoError(t, err, "the winner's execution exists")
		} else {
			require.ErrorIs(t, err, store.ErrNotFound, "a loser's execution does not")
		}
	}
	require.Equal(t, 1, winners, "exactly one scheduler fires a tick")
	_, total, err := xs.Search(ctx, store.ExecutionQuery{FlowID: "f"})
	require.NoError(t, err)
	require.Equal(t, 1, total)
}
