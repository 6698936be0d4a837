package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// seed stores n ended two-task executions in the SQLite database under
// dataDir, as if the server had run them, and leaves none waiting for the
// executor (each is claimed and saved back, as an executor step would).
func seed(ctx context.Context, open OpenSQLite, dataDir string, n int) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	st, err := open(ctx, filepath.Join(dataDir, "osprey.db"))
	if err != nil {
		return fmt.Errorf("seed executions: %w", err)
	}
	defer st.Close()
	const owner = "bench-seed"
	start := time.Now().Add(-time.Duration(n) * time.Millisecond)
	for i := range n {
		if err := st.Executions().Create(ctx, endedExecution(start.Add(time.Duration(i)*time.Millisecond))); err != nil {
			return fmt.Errorf("seed executions: %w", err)
		}
		if i%1000 == 999 || i == n-1 {
			if err := settle(ctx, st, owner); err != nil {
				return err
			}
		}
	}
	return nil
}

// settle claims what seed created and saves it back unchanged, so the
// server's executor finds nothing to do.
func settle(ctx context.Context, st store.Store, owner string) error {
	for {
		ids, err := st.Queue().ClaimExecutions(ctx, owner, 1000, time.Minute)
		if err != nil {
			return fmt.Errorf("seed executions: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		for _, id := range ids {
			e, v, err := st.Executions().Get(ctx, id)
			if err != nil {
				return fmt.Errorf("seed executions: %w", err)
			}
			if _, err := st.Executions().Save(ctx, store.SaveParams{Execution: e, Version: v, Owner: owner}); err != nil {
				return fmt.Errorf("seed executions: %w", err)
			}
		}
	}
}

// endedExecution is a successful run of the two-task flow, as stored.
func endedExecution(at time.Time) *flow.Execution {
	id := flow.NewID()
	e := &flow.Execution{ID: id, Namespace: namespace, FlowID: "two_tasks", FlowRevision: 1,
		Inputs: map[string]any{"name": "World"}, State: flow.NewStateInfo(flow.StateCreated, at)}
	e.State.Set(flow.StateRunning, at.Add(time.Millisecond))
	for i, task := range []string{"concatenate", "hello"} {
		tr := &flow.TaskRun{ID: flow.NewID(), ExecutionID: id, Namespace: namespace, FlowID: "two_tasks", TaskID: task,
			State: flow.NewStateInfo(flow.StateCreated, at.Add(time.Duration(i+1)*time.Millisecond))}
		tr.State.Set(flow.StateRunning, at.Add(time.Duration(i+1)*time.Millisecond))
		tr.State.Set(flow.StateSuccess, at.Add(time.Duration(i+2)*time.Millisecond))
		if task == "concatenate" {
			tr.Outputs = map[string]any{"values": map[string]any{"message": "Hello World"}}
		}
		e.TaskRunList = append(e.TaskRunList, tr)
	}
	e.State.Set(flow.StateSuccess, at.Add(4*time.Millisecond))
	return e
}
