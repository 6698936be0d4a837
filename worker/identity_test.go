package worker_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/worker"
)

// fakeIdentities grants every task run one variable holding a secret, and
// records grants and releases.
type fakeIdentities struct {
	mu       sync.Mutex
	granted  []*flow.TaskRun
	released int
}

func (f *fakeIdentities) Grant(_ context.Context, tr *flow.TaskRun, learn func(string), log func(level, msg string)) ([]string, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.granted = append(f.granted, tr)
	learn("per-run-header")
	log("INFO", "granted")
	return []string{"IDENTITY_HEADER=per-run-header"}, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.released++
	}
}

// envTask outputs and prints the variables its processes would get.
type envTask struct{}

func (envTask) Run(_ context.Context, rc *worker.RunContext) (map[string]any, error) {
	rc.Log("INFO", "env "+strings.Join(rc.TaskEnv(), " "))
	return map[string]any{"env": strings.Join(rc.TaskEnv(), " ")}, nil
}

type envTasks struct{}

func (envTasks) Runnable(*flow.Task) (worker.Runnable, error) { return envTask{}, nil }

// TestIdentitiesGrantedPerTaskRun: the worker asks for a task run's
// variables with its task run, hands them to the task, masks what the
// grant taught it and releases the grant when the run ends.
func TestIdentitiesGrantedPerTaskRun(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	task := &flow.Task{ID: "env", Type: "fake"}
	f := &flow.Flow{ID: "f", Namespace: "n", Revision: 1, Tasks: []*flow.Task{task}}
	now := time.Now()
	tr := &flow.TaskRun{ID: "tr1", ExecutionID: "ex1", Namespace: "n", FlowID: "f", TaskID: "env", State: flow.NewStateInfo(flow.StateRunning, now)}
	ex := &flow.Execution{ID: "ex1", Namespace: "n", FlowID: "f", FlowRevision: 1, State: flow.NewStateInfo(flow.StateRunning, now), TaskRunList: []*flow.TaskRun{tr}}
	require.NoError(t, st.Executions().Create(ctx, ex))
	payload, err := json.Marshal(engine.Payload{Namespace: "n", FlowID: "f", Revision: 1, TaskID: "env", TaskRun: tr, Attempt: 1, Vars: map[string]any{}})
	require.NoError(t, err)
	_, err = st.Executions().Save(ctx, store.SaveParams{Execution: ex, Version: 1, Jobs: []store.Job{{ID: "j1", ExecutionID: "ex1", TaskRunID: "tr1", Attempt: 1, Payload: payload}}})
	require.NoError(t, err)

	ids := &fakeIdentities{}
	w := worker.New(worker.Options{Store: st, Tasks: envTasks{}, Flows: fakeFlows{f}, Renderers: secretRenderer{}, Threads: 1,
		Poll: 10 * time.Millisecond, Lease: time.Hour, TmpDir: t.TempDir(), Identities: ids})
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = w.Stop(ctx)
	})
	var res []store.Job
	require.Eventually(t, func() bool {
		res, err = st.Queue().Results(ctx, "ex1")
		return err == nil && len(res) == 1
	}, 10*time.Second, 10*time.Millisecond)
	var r engine.Result
	require.NoError(t, flow.DecodeJSON(res[0].Result, &r))
	require.Equal(t, flow.StateSuccess, r.State)
	require.Equal(t, map[string]any{"env": "IDENTITY_HEADER=******"}, r.Outputs, "the task got the variables; the secret is masked in its outputs")
	logs, err := st.Logs().List(ctx, store.LogQuery{ExecutionID: "ex1"})
	require.NoError(t, err)
	var lines []string
	for _, l := range logs {
		lines = append(lines, l.Message)
	}
	require.Equal(t, []string{"granted", "env IDENTITY_HEADER=******"}, lines)
	ids.mu.Lock()
	defer ids.mu.Unlock()
	require.Len(t, ids.granted, 1)
	require.Equal(t, "tr1", ids.granted[0].ID)
	require.Equal(t, 1, ids.released, "the grant ends with the task run")
}
