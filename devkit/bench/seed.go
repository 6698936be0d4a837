package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
)

// seed stores n ended two-task executions in the SQLite database under
// dataDir, as the server would have stored them. They are created, never
// saved: only the executor writes an execution's state, so the server's
// executor settles each one once when it starts (see settled).
func seed(ctx context.Context, open OpenSQLite, dataDir string, n int) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	st, err := open(ctx, filepath.Join(dataDir, "osprey.db"))
	if err != nil {
		return fmt.Errorf("seed executions: %w", err)
	}
	defer st.Close()
	start := time.Now().Add(-time.Duration(n) * time.Millisecond)
	for i := range n {
		if err := st.Executions().Create(ctx, endedExecution(start.Add(time.Duration(i)*time.Millisecond))); err != nil {
			return fmt.Errorf("seed executions: %w", err)
		}
	}
	return nil
}

// endedExecution is a successful run of the two-task flow, as stored.
func endedExecution(at time.Time) *flow.Execution {
	id := flow.NewID()
	ms := func(n int) time.Time { return at.Add(time.Duration(n) * time.Millisecond) }
	state := func(end int, states ...flow.State) flow.StateInfo {
		hist := make([]flow.StateHistory, len(states))
		for i, s := range states {
			hist[i] = flow.StateHistory{State: s, Date: ms(i)}
		}
		return flow.StateInfo{Current: states[len(states)-1], Histories: hist, StartDate: ptrTo(ms(0)), EndDate: ptrTo(ms(end))}
	}
	e := &flow.Execution{ID: id, Namespace: namespace, FlowID: "two_tasks", FlowRevision: 1,
		Inputs: map[string]any{"name": "World"}, State: state(4, flow.StateCreated, flow.StateRunning, flow.StateSuccess)}
	for _, task := range []string{"concatenate", "hello"} {
		tr := &flow.TaskRun{ID: flow.NewID(), ExecutionID: id, Namespace: namespace, FlowID: "two_tasks", TaskID: task,
			State: state(2, flow.StateCreated, flow.StateRunning, flow.StateSuccess)}
		if task == "concatenate" {
			tr.Outputs = map[string]any{"values": map[string]any{"message": "Hello World"}}
		}
		e.TaskRunList = append(e.TaskRunList, tr)
	}
	return e
}

func ptrTo[T any](v T) *T { return &v }

// settled waits until the server's executor has looked at every execution
// waiting for it (osprey_queue_executions_pending is 0), up to timeout.
func (s *server) settled(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	began := time.Now()
	for {
		n, err := s.pending(ctx)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return time.Since(began), nil
		}
		if time.Since(began) > timeout {
			return 0, fmt.Errorf("%d seeded executions still waiting for the executor after %s", n, timeout)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// pending reads osprey_queue_executions_pending from /metrics.
func (s *server) pending(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.mgmt+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("read metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "osprey_queue_executions_pending "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(f), err
		}
	}
	return 0, fmt.Errorf("read metrics: no osprey_queue_executions_pending")
}
