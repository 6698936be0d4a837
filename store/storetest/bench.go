package storetest

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// Bench measures the store's hot paths (an executor's save, a worker's
// claim and complete) on a driver; open returns a fresh store.
func Bench(b *testing.B, open func(b *testing.B) store.Store) {
	for _, bm := range []struct {
		name string
		fn   func(*testing.B, store.Store)
	}{
		{"Save", benchSave},
		{"ClaimComplete", benchClaimComplete},
		{"ClaimCompleteParallel", benchClaimCompleteParallel},
	} {
		b.Run(bm.name, func(b *testing.B) { bm.fn(b, open(b)) })
	}
}

// benchExecution is an execution of a realistic size: a few task runs with
// histories and outputs.
func benchExecution(id string) *flow.Execution {
	now := time.Now()
	e := &flow.Execution{ID: id, Namespace: "acme.bench", FlowID: "two-tasks", FlowRevision: 1,
		Inputs: map[string]any{"name": "world"}, Labels: []flow.Label{{Key: "team", Value: "data"}},
		State: flow.NewStateInfo(flow.StateCreated, now)}
	e.State.Set(flow.StateRunning, now)
	for i := range 3 {
		tr := &flow.TaskRun{ID: fmt.Sprintf("%s-tr%d", id, i), ExecutionID: id, Namespace: e.Namespace, FlowID: e.FlowID,
			TaskID: fmt.Sprintf("task%d", i), State: flow.NewStateInfo(flow.StateCreated, now),
			Outputs: map[string]any{"value": "hello world"}}
		tr.State.Set(flow.StateRunning, now)
		tr.State.Set(flow.StateSuccess, now)
		e.TaskRunList = append(e.TaskRunList, tr)
	}
	return e
}

// benchSave measures one executor step: saving an execution with
// optimistic concurrency and enqueuing one job.
func benchSave(b *testing.B, s store.Store) {
	ctx := b.Context()
	e := benchExecution("e1")
	require.NoError(b, s.Executions().Create(ctx, e))
	v := int64(1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		var err error
		v, err = s.Executions().Save(ctx, store.SaveParams{Execution: e, Version: v,
			Jobs: []store.Job{{ID: fmt.Sprintf("j%d", i), ExecutionID: "e1", TaskRunID: "e1-tr0", Attempt: 1,
				Payload: []byte(`{"task":{"id":"task0","type":"io.kestra.plugin.core.log.Log"}}`)}}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchClaimComplete measures a worker's round trip: claim one job,
// complete it (which marks its execution dirty).
func benchClaimComplete(b *testing.B, s store.Store) {
	ctx := b.Context()
	e := benchExecution("e1")
	require.NoError(b, s.Executions().Create(ctx, e))
	const batch = 1000
	v := int64(1)
	enqueue := func(from int) {
		jobs := make([]store.Job, batch)
		for i := range jobs {
			jobs[i] = store.Job{ID: fmt.Sprintf("j%d", from+i), ExecutionID: "e1", TaskRunID: "e1-tr0", Attempt: 1,
				Payload: []byte(`{"task":{"id":"task0"}}`)}
		}
		var err error
		v, err = s.Executions().Save(ctx, store.SaveParams{Execution: e, Version: v, Jobs: jobs})
		require.NoError(b, err)
	}
	q := s.Queue()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%batch == 0 {
			b.StopTimer()
			enqueue(i)
			b.StartTimer()
		}
		jobs, err := q.ClaimJobs(ctx, "w", 1, time.Minute)
		if err != nil || len(jobs) != 1 {
			b.Fatalf("claim: %v %d", err, len(jobs))
		}
		if err := q.Complete(ctx, "w", jobs[0].ID, []byte(`{"state":"SUCCESS"}`)); err != nil {
			b.Fatal(err)
		}
	}
}

// benchClaimCompleteParallel measures the queue's throughput with
// workers claiming and completing concurrently; ns/op is per job.
func benchClaimCompleteParallel(b *testing.B, s store.Store) {
	ctx := b.Context()
	e := benchExecution("e1")
	require.NoError(b, s.Executions().Create(ctx, e))
	v := int64(1)
	for from := 0; from < b.N; from += 1000 {
		jobs := make([]store.Job, min(1000, b.N-from))
		for i := range jobs {
			jobs[i] = store.Job{ID: fmt.Sprintf("j%d", from+i), ExecutionID: "e1", TaskRunID: "e1-tr0", Attempt: 1,
				Payload: []byte(`{"task":{"id":"task0"}}`)}
		}
		var err error
		v, err = s.Executions().Save(ctx, store.SaveParams{Execution: e, Version: v, Jobs: jobs})
		require.NoError(b, err)
	}
	q := s.Queue()
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		owner := fmt.Sprintf("w%d", n.Add(1))
		for pb.Next() {
			jobs, err := q.ClaimJobs(ctx, owner, 1, time.Minute)
			if err != nil || len(jobs) != 1 {
				b.Errorf("claim: %v %d", err, len(jobs))
				return
			}
			if err := q.Complete(ctx, owner, jobs[0].ID, []byte(`{"state":"SUCCESS"}`)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
