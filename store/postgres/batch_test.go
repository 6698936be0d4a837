package postgres_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/pgtest"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/storetest"
)

// TestStepInputsReadWhatEachReadReads proves the executor's one-round-trip
// read of several steps' inputs (and of one step's) returns, for each execution, what Get,
// Results and Commands return one by one: with and without the execution,
// for executions with results, commands, both or neither, and one that
// does not exist.
func TestStepInputsReadWhatEachReadReads(t *testing.T) {
	s := openDSN(t, pgtest.Start(t))
	ctx, xs, q, clock := t.Context(), s.Executions(), s.Queue(), storetest.Clock(t)
	for _, id := range []string{"a", "b", "c"} {
		e := &flow.Execution{ID: id, Namespace: "acme", FlowID: "f", State: flow.NewStateInfo(flow.StateCreated, clock.Now()),
			TaskRunList: []*flow.TaskRun{{ID: id + "-tr", TaskID: "t", State: flow.NewStateInfo(flow.StateRunning, clock.Now())}}}
		require.NoError(t, xs.Create(ctx, e))
		got, v, err := xs.Get(ctx, id)
		require.NoError(t, err)
		var jobs []store.Job
		if id != "c" {
			jobs = []store.Job{{ID: id + "-j1", ExecutionID: id, TaskRunID: id + "-tr", Attempt: 1, Payload: []byte(`{"p":1}`)},
				{ID: id + "-j2", ExecutionID: id, TaskRunID: id + "-tr", Attempt: 2, Payload: []byte(`{"p":2}`)}}
		}
		_, err = xs.Save(ctx, store.SaveParams{Execution: got, Version: v, Jobs: jobs})
		require.NoError(t, err)
	}
	claimed, err := q.ClaimJobs(ctx, "w", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, claimed, 4)
	var done []store.Completion
	for _, j := range claimed {
		done = append(done, store.Completion{JobID: j.ID, Result: []byte(`"` + j.ID + `"`)})
	}
	lost, err := q.CompleteAll(ctx, "w", done)
	require.NoError(t, err)
	require.Empty(t, lost)
	for _, id := range []string{"b", "c", "b"} {
		_, err := xs.Send(ctx, store.Command{ExecutionID: id, Payload: []byte(`{"kind":"` + id + `"}`)})
		require.NoError(t, err)
	}

	reader, ok := q.(store.StepBatchReader)
	require.True(t, ok, "the PostgreSQL queue reads a claim's step inputs in one round trip")
	reads := []store.StepRead{{ExecutionID: "a", WithExecution: true}, {ExecutionID: "b"},
		{ExecutionID: "c", WithExecution: true}, {ExecutionID: "gone", WithExecution: true}}
	in, err := reader.ReadSteps(ctx, reads)
	require.NoError(t, err)
	require.Len(t, in, len(reads))
	for i, r := range reads {
		if r.ExecutionID == "gone" {
			require.Nil(t, in[i].Execution, "an execution that does not exist is left out")
			require.Empty(t, in[i].Results)
			require.Empty(t, in[i].Commands)
			continue
		}
		if r.WithExecution {
			e, v, err := xs.Get(ctx, r.ExecutionID)
			require.NoError(t, err)
			require.Equal(t, e, in[i].Execution)
			require.Equal(t, v, in[i].Version)
		} else {
			require.Nil(t, in[i].Execution)
		}
		results, err := q.Results(ctx, r.ExecutionID)
		require.NoError(t, err)
		if len(results) > 0 || len(in[i].Results) > 0 {
			require.Equal(t, results, in[i].Results, r.ExecutionID)
		}
		cmds, err := xs.Commands(ctx, r.ExecutionID)
		require.NoError(t, err)
		require.Equal(t, cmds, in[i].Commands, r.ExecutionID)
	}
	require.Len(t, in[0].Results, 2)
	require.Len(t, in[1].Commands, 2)
	require.Len(t, in[2].Commands, 1)

	// One execution's read, as the executor reads a step not read ahead.
	one, ok := xs.(store.StepReader)
	require.True(t, ok)
	a, err := one.ReadStep(ctx, "a", true)
	require.NoError(t, err)
	require.Equal(t, in[0], a)
	_, err = one.ReadStep(ctx, "gone", true)
	require.ErrorIs(t, err, store.ErrNotFound)
}

// TestSaveCheckRollsBackTheBatch proves a Save whose check fails inside
// its one-round-trip batch leaves nothing of the statements queued before
// and after the check: a stale version, and a flow with no free slot.
func TestSaveCheckRollsBackTheBatch(t *testing.T) {
	s := openDSN(t, pgtest.Start(t))
	ctx, xs, q, clock := t.Context(), s.Executions(), s.Queue(), storetest.Clock(t)
	newExec := func(id string, st flow.State) *flow.Execution {
		return &flow.Execution{ID: id, Namespace: "acme", FlowID: "f", State: flow.NewStateInfo(st, clock.Now())}
	}
	require.NoError(t, xs.Create(ctx, newExec("running", flow.StateRunning)))
	e, v, err := xs.Get(ctx, "running")
	require.NoError(t, err)
	_, err = xs.Save(ctx, store.SaveParams{Execution: e, Version: v}) // RUNNING, counted as active
	require.NoError(t, err)
	require.NoError(t, xs.Create(ctx, newExec("x", flow.StateCreated)))
	x, xv, err := xs.Get(ctx, "x")
	require.NoError(t, err)

	try := func(p store.SaveParams) error {
		p.Execution.State.Set(flow.StateRunning, clock.Now())
		p.Execution.TaskRunList = []*flow.TaskRun{{ID: "tr", TaskID: "t", State: flow.NewStateInfo(flow.StateRunning, clock.Now())}}
		p.Jobs = []store.Job{{ID: "job", ExecutionID: p.Execution.ID, TaskRunID: "tr", Attempt: 1}}
		p.NewExecutions = []*flow.Execution{newExec("child", flow.StateCreated)}
		p.Wake = []string{"running"}
		_, err := xs.Save(ctx, p)
		return err
	}
	drained, err := q.ClaimExecutions(ctx, "drain", 10, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, drained)

	require.ErrorIs(t, try(store.SaveParams{Execution: x, Version: xv + 1}), store.ErrConflict)
	require.ErrorIs(t, try(store.SaveParams{Execution: x, Version: xv, Slot: &store.Slot{Limit: 1}}), store.ErrNoSlot)

	got, gv, err := xs.Get(ctx, "x")
	require.NoError(t, err)
	require.Equal(t, xv, gv, "the execution's row is as it was")
	require.Equal(t, flow.StateCreated, got.State.Current)
	require.Empty(t, got.TaskRunList, "no task run written")
	jobs, err := q.ClaimJobs(ctx, "w", 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, jobs, "no job queued")
	_, _, err = xs.Get(ctx, "child")
	require.ErrorIs(t, err, store.ErrNotFound, "no subflow created")
	woken, err := q.ClaimExecutions(ctx, "other", 10, 2*time.Minute)
	require.NoError(t, err)
	require.Empty(t, woken, "no execution marked dirty")

	// The same save with a free slot and the right version writes it all.
	_, err = xs.Save(ctx, store.SaveParams{Execution: x, Version: xv, Slot: &store.Slot{Limit: 2},
		Jobs: []store.Job{{ID: "job", ExecutionID: "x", TaskRunID: "tr", Attempt: 1}}})
	require.NoError(t, err)
	jobs, err = q.ClaimJobs(ctx, "w", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
}
