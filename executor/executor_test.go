package executor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/pgtest"
	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/executor"
	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/flowcache"
	"github.com/ospreyhq/osprey/launch"
	"github.com/ospreyhq/osprey/render"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/postgres"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/tasks"
	"github.com/ospreyhq/osprey/worker"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// system is executors and a worker on one store, as separate processes
// would run them.
type system struct {
	st       store.Store
	launcher *launch.Launcher
	flows    *flowcache.Cache
}

// newSystem starts one executor per store in execStores (each its own
// connection pool, as separate processes have) and one worker on st.
func newSystem(t *testing.T, st store.Store, execStores []store.Store, threads int) *system {
	t.Helper()
	ctx := context.Background()
	reg := tasks.New()
	parse := func(src []byte) (*flow.Flow, error) { return flow.Parse(src, flow.ParseOptions{Types: reg}) }
	flows := flowcache.New(st.Flows(), parse)
	l := &launch.Launcher{Store: st, Flows: flows, Types: reg}
	r := &render.Renderer{Expr: expr.New(expr.Options{})}
	for i, xs := range execStores {
		xf := flowcache.New(xs.Flows(), parse)
		xl := &launch.Launcher{Store: xs, Flows: xf, Types: reg}
		eng := &engine.Engine{Types: reg, Renderer: r, Starter: xl}
		x := executor.New(executor.Options{Store: xs, Engine: eng, Flows: xf, ID: fmt.Sprintf("executor-%d", i), Poll: 20 * time.Millisecond, Batch: 4})
		require.NoError(t, x.Start(ctx))
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = x.Stop(sctx)
		})
	}
	w := worker.New(worker.Options{Store: st, Tasks: reg, Flows: flows, Renderers: r, Threads: threads, Poll: 20 * time.Millisecond, TmpDir: t.TempDir()})
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = w.Stop(sctx)
	})
	return &system{st: st, launcher: l, flows: flows}
}

func (s *system) flow(t *testing.T, id, src string) *flow.Flow {
	t.Helper()
	_, err := s.st.Flows().Create(t.Context(), store.PutFlowParams{Namespace: "company.team", ID: id, Source: src})
	require.NoError(t, err)
	f, err := s.flows.Get(t.Context(), "company.team", id, 0)
	require.NoError(t, err)
	return f
}

// waitEnded polls until every execution ended and returns them.
func (s *system) waitEnded(t *testing.T, ids []string) []*flow.Execution {
	t.Helper()
	out := make([]*flow.Execution, len(ids))
	require.Eventually(t, func() bool {
		for i, id := range ids {
			ex, _, err := s.st.Executions().Get(t.Context(), id)
			require.NoError(t, err)
			if !ex.State.Current.IsTerminal() {
				return false
			}
			out[i] = ex
		}
		return true
	}, 60*time.Second, 20*time.Millisecond)
	return out
}

// recorder wraps a store and records every Save and MarkDirty.
type recorder struct {
	store.Store
	mu      sync.Mutex
	saves   []store.SaveParams
	states  []flow.State
	settled []bool
	dirty   []string
}

func (r *recorder) Executions() store.ExecutionStore { return recordingExecs{r.Store.Executions(), r} }

type recordingExecs struct {
	store.ExecutionStore
	r *recorder
}

func (x recordingExecs) Save(ctx context.Context, p store.SaveParams) (int64, error) {
	v, err := x.ExecutionStore.Save(ctx, p)
	if err == nil {
		x.r.mu.Lock()
		x.r.saves = append(x.r.saves, p)
		x.r.states = append(x.r.states, p.Execution.State.Current)
		x.r.settled = append(x.r.settled, p.Execution.Settled())
		x.r.mu.Unlock()
	}
	return v, err
}

func (x recordingExecs) MarkDirty(ctx context.Context, id string) error {
	x.r.mu.Lock()
	x.r.dirty = append(x.r.dirty, id)
	x.r.mu.Unlock()
	return x.ExecutionStore.MarkDirty(ctx, id)
}

const parentFlow = `id: parent
namespace: company.team
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: child
    wait: true
`

const childFlow = `id: child
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hello
`

// TestSubflowEndWakesParentInTheSameSave checks that the child's final
// save carries its parent's wake-up (the store commits both or neither,
// storetest's SaveWakesAndSendsInItsTransaction), and that nothing wakes
// the parent in a separate write afterwards, where a crash could lose it.
func TestSubflowEndWakesParentInTheSameSave(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	rec := &recorder{Store: st}
	s := newSystem(t, st, []store.Store{rec}, 2)
	s.flow(t, "child", childFlow)
	parent, err := s.launcher.Start(t.Context(), s.flow(t, "parent", parentFlow), nil, nil)
	require.NoError(t, err)
	ended := s.waitEnded(t, []string{parent.ID})
	require.Equal(t, flow.StateSuccess, ended[0].State.Current)

	children, _, err := st.Executions().Search(t.Context(), store.ExecutionQuery{ParentID: parent.ID})
	require.NoError(t, err)
	require.Len(t, children, 1)
	child := children[0]
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var final *store.SaveParams
	for i, p := range rec.saves {
		if p.Execution.ID == child.ID && rec.states[i] == flow.StateSuccess {
			final = &rec.saves[i]
			break
		}
	}
	require.NotNil(t, final, "the child's end was saved")
	require.Equal(t, []string{parent.ID}, final.Wake, "the child's final save wakes its parent")
	require.NotContains(t, rec.dirty, parent.ID, "no separate write wakes the parent")
}

const childWithAfterExecution = `id: child
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hello
afterExecution:
  - id: linger
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.3S
  - id: report
    type: io.kestra.plugin.core.debug.Return
    format: "{{ execution.state }}"
`

// TestParentWaitsForTheChildsAfterExecution: as Kestra's executor answers
// a parent only once the child is terminated with its afterExecution
// tasks (AfterExecutionTestCase), the Subflow task ends after the child's
// afterExecution tasks did, and the save that settles the child wakes
// the parent, not the one that gave it its final state.
func TestParentWaitsForTheChildsAfterExecution(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	rec := &recorder{Store: st}
	s := newSystem(t, st, []store.Store{rec}, 2)
	s.flow(t, "child", childWithAfterExecution)
	parent, err := s.launcher.Start(t.Context(), s.flow(t, "parent", parentFlow), nil, nil)
	require.NoError(t, err)
	ended := s.waitEnded(t, []string{parent.ID})
	require.Equal(t, flow.StateSuccess, ended[0].State.Current)

	children, _, err := st.Executions().Search(t.Context(), store.ExecutionQuery{ParentID: parent.ID})
	require.NoError(t, err)
	require.Len(t, children, 1)
	child := children[0]
	require.True(t, child.Settled(), "the parent ended after its child settled")
	report := child.TaskRunsByTaskID("report")
	require.Len(t, report, 1)
	require.Equal(t, "SUCCESS", report[0].Outputs["value"], "afterExecution sees the child's final state")
	call := ended[0].TaskRunsByTaskID("call")[0]
	require.False(t, call.State.EndDate.Before(*report[0].State.EndDate),
		"the Subflow task ends after the child's afterExecution: %s < %s", call.State.EndDate, report[0].State.EndDate)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i, p := range rec.saves {
		if p.Execution.ID != child.ID || !slices.Contains(p.Wake, parent.ID) {
			continue
		}
		require.Equal(t, flow.StateSuccess, rec.states[i])
		require.True(t, rec.settled[i], "only the save that settles the child wakes the parent")
	}
}

const limitedFlow = `id: limited
namespace: company.team
concurrency:
  limit: 2
tasks:
  - id: work
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.15S
`

// TestConcurrencyLimitHoldsWithTwoExecutors starts many executions of a
// flow limited to 2 at once with two executors (two connection pools) on
// one PostgreSQL, and samples the committed count of the flow's active
// executions all along: it never exceeds 2. The executions' state dates
// cannot tell this: an executor dates RUNNING before the save that takes
// the slot (and may wait for it), so a start can carry a date earlier than
// the end that freed its slot.
func TestConcurrencyLimitHoldsWithTwoExecutors(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Start(t)
	open := func() store.Store {
		s, err := postgres.Open(t.Context(), dsn, postgres.Options{MaxConns: 4})
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
	st := open()
	s := newSystem(t, st, []store.Store{open(), open()}, 6)
	f := s.flow(t, "limited", limitedFlow)

	sampler := open()
	done := make(chan struct{})
	most, samples := 0, 0
	sampled := make(chan error, 1)
	go func() {
		for {
			n, err := sampler.Executions().CountActive(t.Context(), f.Namespace, f.ID)
			if err != nil {
				sampled <- err
				return
			}
			most, samples = max(most, n), samples+1
			select {
			case <-done:
				sampled <- nil
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()

	const n = 10
	ids := make([]string, n)
	for i := range ids {
		ex, err := s.launcher.Start(t.Context(), f, nil, nil)
		require.NoError(t, err)
		ids[i] = ex.ID
	}
	execs := s.waitEnded(t, ids)
	close(done)
	require.NoError(t, <-sampled)

	queued := 0
	for _, ex := range execs {
		require.Equal(t, flow.StateSuccess, ex.State.Current, ex.ID)
		if ex.State.Has(flow.StateQueued) {
			queued++
		}
	}
	t.Logf("%d executions, %d waited QUEUED, at most %d active at once over %d samples", n, queued, most, samples)
	require.LessOrEqual(t, most, 2, "the flow's concurrency limit is never exceeded")
	require.Equal(t, 2, most, "the limit was reached")
	require.Positive(t, queued, "the limit was reached: some executions waited")
}

// TestCommandsOnAnExecutionWhoseFlowIsGone checks that a kill still ends
// an execution whose flow revision cannot be loaded KILLED, and that a
// command needing the flow is refused with a log line, not lost silently.
func TestCommandsOnAnExecutionWhoseFlowIsGone(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	reg := tasks.New()
	flows := flowcache.New(st.Flows(), func(src []byte) (*flow.Flow, error) { return flow.Parse(src, flow.ParseOptions{Types: reg}) })
	x := executor.New(executor.Options{Store: st, Engine: &engine.Engine{Types: reg}, Flows: flows})
	tests := []struct {
		name string
		cmd  string
		want flow.State
		log  string
	}{
		{"kill", `{"kind":"KILL"}`, flow.StateKilled, ""},
		{"restart", `{"kind":"RESTART"}`, flow.StateFailed, "RESTART refused"},
	}
	for _, tt := range tests {
		now := time.Now().UTC()
		ex := &flow.Execution{ID: flow.NewID(), Namespace: "company.team", FlowID: "gone", FlowRevision: 1, State: flow.NewStateInfo(flow.StateCreated, now)}
		ex.State.Set(flow.StateRunning, now)
		ex.TaskRunList = []*flow.TaskRun{{ID: flow.NewID(), ExecutionID: ex.ID, TaskID: "a", State: flow.NewStateInfo(flow.StateRunning, now)}}
		require.NoError(t, st.Executions().Create(ctx, ex))
		_, err := st.Executions().Send(ctx, store.Command{ExecutionID: ex.ID, Payload: []byte(tt.cmd)})
		require.NoError(t, err)
		_, err = x.RunOnce(ctx)
		require.NoError(t, err)
		got, _, err := st.Executions().Get(ctx, ex.ID)
		require.NoError(t, err)
		require.Equal(t, tt.want, got.State.Current, tt.name)
		require.True(t, got.Settled(), "%s: its task runs ended with it, so a parent or a wait is not left waiting", tt.name)
		cmds, err := st.Executions().Commands(ctx, ex.ID)
		require.NoError(t, err)
		require.Empty(t, cmds, "%s: the step acknowledged the command", tt.name)
		if tt.log != "" {
			logs, err := st.Logs().List(ctx, store.LogQuery{ExecutionID: ex.ID})
			require.NoError(t, err)
			require.Len(t, logs, 1)
			require.Contains(t, logs[0].Message, tt.log)
		}
	}
}

// TestBatchRestartWhoseFlowIsGoneWakesTheParent: a parent's ForEachItem
// restarts a failed batch's execution whose flow revision cannot be
// loaded; the restart is refused with a log line, and the batch ends
// again and wakes the parent, which counts it FAILED rather than wait.
func TestBatchRestartWhoseFlowIsGoneWakesTheParent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	reg := tasks.New()
	flows := flowcache.New(st.Flows(), func(src []byte) (*flow.Flow, error) { return flow.Parse(src, flow.ParseOptions{Types: reg}) })
	x := executor.New(executor.Options{Store: st, Engine: &engine.Engine{Types: reg}, Flows: flows})
	failedAt := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
	parent := &flow.Execution{ID: flow.NewID(), Namespace: "company.team", FlowID: "parent", FlowRevision: 1, State: flow.NewStateInfo(flow.StateRunning, failedAt)}
	batch := &flow.Execution{ID: flow.NewID(), Namespace: "company.team", FlowID: "gone", FlowRevision: 1, ParentID: parent.ID, State: flow.NewStateInfo(flow.StateCreated, failedAt)}
	batch.State.Set(flow.StateFailed, failedAt)
	batch.TaskRunList = []*flow.TaskRun{{ID: flow.NewID(), ExecutionID: batch.ID, TaskID: "a", State: flow.NewStateInfo(flow.StateFailed, failedAt)}}
	require.NoError(t, st.Executions().Create(ctx, parent))
	require.NoError(t, st.Executions().Create(ctx, batch))
	// nothing is left to step but the batch
	for range 10 {
		n, err := x.RunOnce(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	restartedAt := failedAt.Add(30 * time.Second)
	cmd, err := json.Marshal(engine.Command{Kind: engine.CommandRestart, EndedBefore: &restartedAt})
	require.NoError(t, err)
	_, err = st.Executions().Send(ctx, store.Command{ExecutionID: batch.ID, Payload: cmd})
	require.NoError(t, err)
	n, err := x.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the batch's step")

	got, _, err := st.Executions().Get(ctx, batch.ID)
	require.NoError(t, err)
	require.Equal(t, flow.StateFailed, got.State.Current)
	require.True(t, got.State.Histories[len(got.State.Histories)-1].Date.After(restartedAt), "it ended again after the parent's restart")
	logs, err := st.Logs().List(ctx, store.LogQuery{ExecutionID: batch.ID})
	require.NoError(t, err)
	require.Len(t, logs, 1)
	require.Contains(t, logs[0].Message, "RESTART refused")
	ids, err := st.Queue().ClaimExecutions(ctx, "check", 10, time.Hour)
	require.NoError(t, err)
	require.Equal(t, []string{parent.ID}, ids, "the parent is woken")
}

// TestForceRunPassesScheduleDateAndLimit checks force-run: a scheduled
// execution starts before its date, a queued one past its flow's limit.
func TestForceRunPassesScheduleDateAndLimit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	reg := tasks.New()
	flows := flowcache.New(st.Flows(), func(src []byte) (*flow.Flow, error) { return flow.Parse(src, flow.ParseOptions{Types: reg}) })
	l := &launch.Launcher{Store: st, Flows: flows, Types: reg}
	x := executor.New(executor.Options{Store: st, Engine: &engine.Engine{Types: reg, Renderer: &render.Renderer{Expr: expr.New(expr.Options{})}, Starter: l}, Flows: flows})
	drain := func() {
		for range 20 {
			n, err := x.RunOnce(ctx)
			require.NoError(t, err)
			if n == 0 {
				return
			}
		}
	}
	state := func(id string) flow.State {
		ex, _, err := st.Executions().Get(ctx, id)
		require.NoError(t, err)
		return ex.State.Current
	}
	_, err = st.Flows().Create(ctx, store.PutFlowParams{Namespace: "company.team", ID: "one", Source: `id: one
namespace: company.team
concurrency:
  limit: 1
tasks:
  - {id: hello, type: io.kestra.plugin.core.log.Log, message: hello}`})
	require.NoError(t, err)
	f, err := flows.Get(ctx, "company.team", "one", 0)
	require.NoError(t, err)

	later := time.Now().Add(time.Hour)
	scheduled, err := l.StartAt(ctx, f, nil, nil, &later)
	require.NoError(t, err)
	drain()
	require.Equal(t, flow.StateCreated, state(scheduled.ID), "it waits for its date")
	_, err = l.ForceRun(ctx, scheduled.ID)
	require.NoError(t, err)
	drain()
	require.Equal(t, flow.StateRunning, state(scheduled.ID), "forced: it runs now")

	queued, err := l.Start(ctx, f, nil, nil)
	require.NoError(t, err)
	drain()
	require.Equal(t, flow.StateQueued, state(queued.ID), "the limit of 1 holds it")
	_, err = l.ForceRun(ctx, queued.ID)
	require.NoError(t, err)
	drain()
	require.Equal(t, flow.StateRunning, state(queued.ID), "forced: it runs past the limit")
}
