package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

var commandTests = []test{
	{"SendAndAcknowledge", testCommandSendAck},
	{"SaveWakesAndSendsInItsTransaction", testCommandSaveWakes},
	{"SlotIsOneTransaction", testCommandSlot},
	{"ConcurrentStartsKeepTheLimit", testCommandConcurrentSlots},
}

// claimAll claims every claimable execution for owner and returns the
// ids, sorted.
func claimAll(t *testing.T, s store.Store, owner string) []string {
	t.Helper()
	ids, err := s.Queue().ClaimExecutions(t.Context(), owner, 100, time.Minute)
	require.NoError(t, err)
	slices.Sort(ids)
	return ids
}

// testCommandSendAck checks that a command wakes its execution, waits
// until a Save acknowledges it, and goes with its execution.
func testCommandSendAck(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	require.NoError(t, xs.Create(ctx, newExecution("e1", "acme", "f", clock.Now())))
	require.Equal(t, []string{"e1"}, claimAll(t, s, "x"))
	e, v, err := xs.Get(ctx, "e1")
	require.NoError(t, err)
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, Owner: "x"})
	require.NoError(t, err)
	require.Empty(t, claimAll(t, s, "x"))

	_, err = xs.Send(ctx, store.Command{ExecutionID: "ghost", Payload: []byte(`{"kind":"KILL"}`)})
	require.ErrorIs(t, err, store.ErrNotFound)

	c1, err := xs.Send(ctx, store.Command{ExecutionID: "e1", Payload: []byte(`{"kind":"KILL"}`)})
	require.NoError(t, err)
	require.NotZero(t, c1.ID)
	require.Equal(t, clock.Now(), c1.Created)
	c2, err := xs.Send(ctx, store.Command{ExecutionID: "e1", Payload: []byte(`{"kind":"RESUME"}`)})
	require.NoError(t, err)
	require.Equal(t, []string{"e1"}, claimAll(t, s, "x"), "a command makes its execution claimable")

	got, err := xs.Commands(ctx, "e1")
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, c1, got[0], "oldest first")
	require.JSONEq(t, `{"kind":"RESUME"}`, string(got[1].Payload))

	// A stale save acknowledges nothing.
	e, v, err = xs.Get(ctx, "e1")
	require.NoError(t, err)
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v - 1, Owner: "x", AckCommands: []int64{c1.ID, c2.ID}})
	require.ErrorIs(t, err, store.ErrConflict)
	got, err = xs.Commands(ctx, "e1")
	require.NoError(t, err)
	require.Len(t, got, 2)

	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, Owner: "x", AckCommands: []int64{c1.ID}})
	require.NoError(t, err)
	got, err = xs.Commands(ctx, "e1")
	require.NoError(t, err)
	require.Equal(t, []int64{c2.ID}, []int64{got[0].ID}, "only the acknowledged command goes")

	require.NoError(t, xs.Delete(ctx, "e1"))
	got, err = xs.Commands(ctx, "e1")
	require.NoError(t, err)
	require.Empty(t, got, "commands go with their execution")
}

// testCommandSaveWakes checks that what a step asks of other executions
// (wake the parent, send a kill to a subflow) commits with the step or not
// at all: no crash between the child's save and the parent's wake-up can
// leave the parent waiting.
func testCommandSaveWakes(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	for _, id := range []string{"parent", "child", "sub"} {
		require.NoError(t, xs.Create(ctx, newExecution(id, "acme", "f", clock.Now())))
	}
	require.Equal(t, []string{"child", "parent", "sub"}, claimAll(t, s, "x"))
	for _, id := range []string{"parent", "sub"} {
		e, v, err := xs.Get(ctx, id)
		require.NoError(t, err)
		_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, Owner: "x"})
		require.NoError(t, err)
	}
	child, v, err := xs.Get(ctx, "child")
	require.NoError(t, err)
	child.State.Set(flow.StateSuccess, clock.Now())
	kill := store.Command{ExecutionID: "sub", Payload: []byte(`{"kind":"KILL"}`)}
	ghost := store.Command{ExecutionID: "ghost", Payload: []byte(`{"kind":"KILL"}`)}

	// A save that loses its race writes none of it.
	_, err = xs.Save(ctx, store.SaveParams{Execution: child, Version: v + 1, Owner: "x",
		Wake: []string{"parent"}, Send: []store.Command{kill}})
	require.ErrorIs(t, err, store.ErrConflict)
	require.Empty(t, claimAll(t, s, "y"), "the parent is not woken by a save that did not happen")
	cmds, err := xs.Commands(ctx, "sub")
	require.NoError(t, err)
	require.Empty(t, cmds)

	// The one that lands wakes the parent and delivers the command, and
	// skips targets that are gone.
	_, err = xs.Save(ctx, store.SaveParams{Execution: child, Version: v, Owner: "x",
		Wake: []string{"parent", "ghost"}, Send: []store.Command{kill, ghost}})
	require.NoError(t, err)
	require.Equal(t, []string{"parent", "sub"}, claimAll(t, s, "y"))
	cmds, err = xs.Commands(ctx, "sub")
	require.NoError(t, err)
	require.Len(t, cmds, 1)
	require.JSONEq(t, `{"kind":"KILL"}`, string(cmds[0].Payload))
	cmds, err = xs.Commands(ctx, "ghost")
	require.NoError(t, err)
	require.Empty(t, cmds)
}

// testCommandSlot checks Save's concurrency slot: it counts the flow's
// other active executions and refuses, writing nothing, at the limit.
func testCommandSlot(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	start := func(id string) error {
		e, v, err := xs.Get(ctx, id)
		require.NoError(t, err)
		e.State.Set(flow.StateRunning, clock.Now())
		_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, Slot: &store.Slot{Limit: 2}, Wake: []string{"other"}})
		return err
	}
	for _, id := range []string{"a", "b", "c"} {
		require.NoError(t, xs.Create(ctx, newExecution(id, "acme", "limited", clock.Now())))
	}
	other := newExecution("other", "acme", "unlimited", clock.Now())
	other.State.Set(flow.StateRunning, clock.Now())
	require.NoError(t, xs.Create(ctx, other))
	claimAll(t, s, "x")

	require.NoError(t, start("a"))
	require.NoError(t, start("a"), "an execution does not count against itself")
	claimAll(t, s, "x")
	require.NoError(t, start("b"))
	claimAll(t, s, "x")
	err := start("c")
	require.ErrorIs(t, err, store.ErrNoSlot)
	c, v, err := xs.Get(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, flow.StateCreated, c.State.Current, "a refused start writes nothing")
	require.Equal(t, int64(1), v)
	require.Empty(t, claimAll(t, s, "x"), "nor wakes anyone")

	a, v, err := xs.Get(ctx, "a")
	require.NoError(t, err)
	a.State.Set(flow.StateSuccess, clock.Now())
	_, err = xs.Save(ctx, store.SaveParams{Execution: a, Version: v})
	require.NoError(t, err)
	require.NoError(t, start("c"), "an ended execution frees its slot")
}

// testCommandConcurrentSlots starts many executions of one flow from
// several goroutines at once (as several executors would) and checks
// that no more than the limit ever got a slot.
func testCommandConcurrentSlots(t *testing.T, s store.Store) {
	ctx, xs, clock := t.Context(), s.Executions(), Clock(t)
	const n, limit = 12, 3
	for i := range n {
		require.NoError(t, xs.Create(ctx, newExecution(fmt.Sprintf("e%02d", i), "acme", "limited", clock.Now())))
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, v, err := xs.Get(ctx, fmt.Sprintf("e%02d", i))
			if err != nil {
				errs[i] = err
				return
			}
			e.State.Set(flow.StateRunning, clock.Now())
			_, errs[i] = xs.Save(ctx, store.SaveParams{Execution: e, Version: v, Slot: &store.Slot{Limit: limit}})
		}()
	}
	wg.Wait()
	started := 0
	for _, err := range errs {
		if err == nil {
			started++
			continue
		}
		require.ErrorIs(t, err, store.ErrNoSlot)
	}
	require.Equal(t, limit, started, "exactly the limit got a slot")
	active, err := xs.CountActive(ctx, "acme", "limited")
	require.NoError(t, err)
	require.Equal(t, limit, active)
}
