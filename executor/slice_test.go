package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
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

// wideFlow is a ForEach over 50 values with no concurrency limit: its first
// step creates 51 task runs and queues 50 jobs.
func wideFlow() string {
	vals := make([]string, 50)
	for i := range vals {
		vals[i] = fmt.Sprintf("%q", fmt.Sprint("v", i))
	}
	return `id: wide
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    concurrencyLimit: 0
    values: [` + strings.Join(vals, ",") + `]
    tasks:
      - {id: r, type: io.kestra.plugin.core.debug.Return, format: "{{ taskrun.value }}"}
  - {id: after, type: io.kestra.plugin.core.debug.Return, format: "{{ outputs.r.v7.value }}"}
`
}

// slices wraps a store: it checks after every Save that each job queued is
// beside its task run in the store (persist before dispatch), records the
// Saves, and fails every Save from the failFrom-th on (0: none), as an
// executor that died there would never save again.
type slicesStore struct {
	store.Store
	t        *testing.T
	failFrom int
	mu       sync.Mutex
	saves    []store.SaveParams
	ended    []bool // whether each save's execution was ended as saved
	tries    int
	// dieAfterAcks > 0 fails every Save after that many stored Saves
	// that acknowledged results.
	dieAfterAcks, acking int
	dead                 bool
}

var errDied = errors.New("the executor died here")

func (s *slicesStore) Executions() store.ExecutionStore { return slicesExecs{s.Store.Executions(), s} }

type slicesExecs struct {
	store.ExecutionStore
	s *slicesStore
}

func (x slicesExecs) Save(ctx context.Context, p store.SaveParams) (int64, error) {
	x.s.mu.Lock()
	x.s.tries++
	dead := x.s.dead || x.s.failFrom > 0 && x.s.tries >= x.s.failFrom
	x.s.mu.Unlock()
	if dead {
		return 0, errDied
	}
	v, err := x.ExecutionStore.Save(ctx, p)
	if err != nil {
		x.s.t.Logf("save failed: %v", err)
		return v, err
	}
	x.s.mu.Lock()
	if x.s.dieAfterAcks > 0 && len(p.AckResults) > 0 {
		x.s.acking++
		x.s.dead = x.s.acking >= x.s.dieAfterAcks
	}
	x.s.saves = append(x.s.saves, p)
	x.s.ended = append(x.s.ended, p.Execution.State.Current.IsTerminal())
	x.s.mu.Unlock()
	if len(p.Jobs) == 0 {
		return v, nil
	}
	stored, _, gerr := x.ExecutionStore.Get(ctx, p.Execution.ID)
	if gerr != nil {
		if ctx.Err() == nil { // not the test's end
			x.s.t.Errorf("read back %s: %v", p.Execution.ID, gerr)
		}
		return v, nil
	}
	for _, j := range p.Jobs {
		if stored.TaskRunByID(j.TaskRunID) == nil {
			x.s.t.Errorf("job %s queued before its task run %s was stored", j.ID, j.TaskRunID)
		}
	}
	return v, nil
}

// sliceRig is an executor (not started) over one store, a worker (not
// started) and a launcher.
type sliceRig struct {
	st       store.Store
	reg      *tasks.Registry
	flows    *flowcache.Cache
	launcher *launch.Launcher
}

func newSliceRig(t *testing.T, st store.Store) *sliceRig {
	reg := tasks.New()
	parse := func(src []byte) (*flow.Flow, error) { return flow.Parse(src, flow.ParseOptions{Types: reg}) }
	flows := flowcache.New(st.Flows(), parse)
	return &sliceRig{st: st, reg: reg, flows: flows, launcher: &launch.Launcher{Store: st, Flows: flows, Types: reg}}
}

func (r *sliceRig) executor(t *testing.T, st store.Store, id string, lease time.Duration) *executor.Executor {
	eng := &engine.Engine{Types: r.reg, Renderer: &render.Renderer{Expr: expr.New(expr.Options{})}, Starter: r.launcher}
	x := executor.New(executor.Options{Store: st, Engine: eng, Flows: r.flows, ID: id, Poll: 20 * time.Millisecond, Lease: lease, Slice: 8})
	require.NoError(t, x.Start(t.Context()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = x.Stop(ctx)
	})
	return x
}

func (r *sliceRig) worker(t *testing.T) {
	w := worker.New(worker.Options{Store: r.st, Tasks: r.reg, Flows: r.flows, Renderers: &render.Renderer{Expr: expr.New(expr.Options{})}, Threads: 4, Poll: 20 * time.Millisecond, TmpDir: t.TempDir()})
	require.NoError(t, w.Start(t.Context()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = w.Stop(ctx)
	})
}

func (r *sliceRig) start(t *testing.T) string {
	_, err := r.st.Flows().Create(t.Context(), store.PutFlowParams{Namespace: "company.team", ID: "wide", Source: wideFlow()})
	require.NoError(t, err)
	f, err := r.flows.Get(t.Context(), "company.team", "wide", 0)
	require.NoError(t, err)
	ex, err := r.launcher.Start(t.Context(), f, nil, nil)
	require.NoError(t, err)
	return ex.ID
}

// succeedJobs claims n jobs of execution id as a fake worker and returns
// their completions, each a success whose output is its loop value.
func succeedJobs(t *testing.T, st store.Store, id string, n int) []store.Completion {
	t.Helper()
	var jobs []store.Job
	require.Eventually(t, func() bool {
		got, err := st.Queue().ClaimJobs(t.Context(), "fake-worker", 100, time.Minute)
		require.NoError(t, err)
		jobs = append(jobs, got...)
		return len(jobs) == n
	}, 30*time.Second, 10*time.Millisecond)
	ex, _, err := st.Executions().Get(t.Context(), id)
	require.NoError(t, err)
	now := time.Now()
	done := make([]store.Completion, 0, len(jobs))
	for _, j := range jobs {
		tr := ex.TaskRunByID(j.TaskRunID)
		require.NotNil(t, tr)
		res, err := json.Marshal(engine.Result{TaskRunID: tr.ID, Attempt: 1, State: flow.StateSuccess,
			Outputs: map[string]any{"value": tr.Value}, Started: now, Ended: now})
		require.NoError(t, err)
		done = append(done, store.Completion{JobID: j.ID, Result: res})
	}
	return done
}

// requireOncePerValue checks that the ended execution ran each value once:
// no task run created twice by a step that went on after another.
func requireOncePerValue(t *testing.T, st store.Store, id string) {
	var ex *flow.Execution
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		ex, _, err = st.Executions().Get(t.Context(), id)
		require.NoError(t, err)
		if ex.State.Current.IsTerminal() {
			break
		}
		if time.Now().After(deadline) {
			states := map[string]int{}
			for _, tr := range ex.TaskRunList {
				states[tr.TaskID+" "+string(tr.State.Current)]++
			}
			left, _ := st.Queue().Results(t.Context(), id)
			t.Fatalf("execution %s still %s after 60s: task runs %v, %d results not applied", id, ex.State.Current, states, len(left))
		}
	}
	require.Equal(t, flow.StateSuccess, ex.State.Current)
	runs := ex.TaskRunsByTaskID("r")
	require.Len(t, runs, 50)
	seen := map[string]bool{}
	for _, tr := range runs {
		require.False(t, seen[tr.Value], "value %s ran twice", tr.Value)
		seen[tr.Value] = true
		require.Equal(t, flow.StateSuccess, tr.State.Current)
	}
	require.Len(t, ex.TaskRunList, 52)
	require.Equal(t, "v7", ex.TaskRunsByTaskID("after")[0].Outputs["value"])
}

// stores runs fn on SQLite and on PostgreSQL.
func stores(t *testing.T, fn func(t *testing.T, open func() store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "osprey.db")
		var first store.Store
		fn(t, func() store.Store {
			if first == nil { // one process: one SQLite store
				s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
				require.NoError(t, err)
				t.Cleanup(func() { s.Close() })
				first = s
			}
			return first
		})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.Start(t)
		fn(t, func() store.Store {
			s, err := postgres.Open(t.Context(), dsn, postgres.Options{MaxConns: 4})
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}

// TestWideStepIsStoredInSlices checks that a step creating more task runs
// than Options.Slice stores them in several transactions, each queuing
// only jobs whose task runs it stores or were stored before, keeping its
// claim until the last, numbering the jobs' turns on from one slice to
// the next, and that the execution runs every value once.
func TestWideStepIsStoredInSlices(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func() store.Store) {
		st := open()
		rig := newSliceRig(t, st)
		rec := &slicesStore{Store: st, t: t}
		rig.executor(t, rec, "executor-1", 30*time.Second)
		rig.worker(t)
		id := rig.start(t)
		requireOncePerValue(t, st, id)

		rec.mu.Lock()
		defer rec.mu.Unlock()
		// The first step: 51 new task runs (the ForEach and 50 Returns) in
		// slices of 8, the first six holding the claim.
		first := rec.saves[:7]
		turn := 0
		for i, p := range first {
			require.Equal(t, id, p.Execution.ID)
			require.LessOrEqual(t, len(p.Delta.Changed), 8, "save %d", i)
			require.Equal(t, turn, p.FirstTurn, "save %d numbers its jobs after the slices before", i)
			turn += len(p.Jobs)
			if i < 6 {
				require.Empty(t, p.Owner, "save %d keeps the claim", i)
			} else {
				require.Equal(t, "executor-1", p.Owner, "the last slice releases the claim")
			}
			if i == 0 {
				require.Contains(t, p.Wake, id, "the first slice marks the execution for a step, in case the rest is never stored")
			} else {
				require.Empty(t, p.Wake)
			}
		}
		require.Equal(t, 50, turn)
		for _, p := range rec.saves[7:] {
			require.LessOrEqual(t, len(p.Jobs), 8)
		}
		for _, p := range rec.saves {
			require.LessOrEqual(t, len(p.AckResults), 8, "a step applies at most a slice of results")
		}
	})
}

// TestExecutorDiesBetweenSlices stops storing an executor's step after two
// of its slices, as if the process died there, then starts another
// executor: once the first one's claim runs out, the second claims the
// execution by the mark the first slice committed, finds the rest of the
// fan-out missing and creates it, and every value runs exactly once.
func TestExecutorDiesBetweenSlices(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func() store.Store) {
		st := open()
		rig := newSliceRig(t, st)
		dying := &slicesStore{Store: open(), t: t, failFrom: 3}
		rig.executor(t, dying, "executor-dies", 500*time.Millisecond)
		id := rig.start(t)

		require.Eventually(t, func() bool {
			dying.mu.Lock()
			defer dying.mu.Unlock()
			return dying.tries >= 3
		}, 30*time.Second, 10*time.Millisecond)
		ex, _, err := st.Executions().Get(t.Context(), id)
		require.NoError(t, err)
		require.Len(t, ex.TaskRunList, 16, "two slices of 8 stored: the ForEach and 15 of its task runs")
		require.Equal(t, flow.StateRunning, ex.State.Current)

		// No worker yet: nothing but the first slice's mark makes the
		// execution claimable again.
		rig.executor(t, open(), "executor-2", 30*time.Second)
		require.Eventually(t, func() bool {
			ex, _, err := st.Executions().Get(t.Context(), id)
			require.NoError(t, err)
			return len(ex.TaskRunsByTaskID("r")) == 50
		}, 30*time.Second, 20*time.Millisecond, "the second executor went on with the step")
		rig.worker(t)
		requireOncePerValue(t, st, id)
	})
}

// TestStepAppliesASliceOfResults completes all 50 jobs of the fan-out in
// one transaction, as a worker's batch would, and checks that the
// executor applies at most five slices' worth of them in a step, marking
// the execution for the next, and stores each step in slices of at most 8
// task runs, each result acknowledged with the slice that stores its task
// run, and that the execution ends as it should.
func TestStepAppliesASliceOfResults(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func() store.Store) {
		st := open()
		rig := newSliceRig(t, st)
		rec := &slicesStore{Store: st, t: t}
		id := rig.start(t)
		rig.executor(t, rec, "executor-1", 30*time.Second)

		done := succeedJobs(t, st, id, 50)
		rec.mu.Lock()
		before := len(rec.saves)
		rec.mu.Unlock()
		lost, err := st.Queue().CompleteAll(t.Context(), "fake-worker", done)
		require.NoError(t, err)
		require.Empty(t, lost)
		rig.worker(t) // for the task after the loop
		requireOncePerValue(t, st, id)

		rec.mu.Lock()
		defer rec.mu.Unlock()
		acked, left := 0, false
		for k, p := range rec.saves[before:] {
			if rec.ended[before+k] {
				continue // the last step is stored whole
			}
			require.LessOrEqual(t, len(p.Delta.Changed), 8)
			changed := map[string]bool{}
			for _, tr := range p.Delta.Changed {
				changed[tr.ID] = true
			}
			for _, a := range p.AckResults {
				require.True(t, changed[strings.TrimSuffix(a, "-1")], "result %s is acknowledged with its task run", a)
			}
			acked += len(p.AckResults)
			left = left || slices.Contains(p.Wake, id)
		}
		require.GreaterOrEqual(t, acked, 50)
		require.True(t, left, "a step that left results, or slices, marks the execution for the next")
	})
}

// TestExecutorDiesBetweenSlicesOfResults lets an executor store two slices
// of a step that applies 40 results, then fails it, as if it died there:
// the results of the stored slices are acknowledged, the others not, and
// the next executor applies those again and finishes the execution, every
// value once.
func TestExecutorDiesBetweenSlicesOfResults(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, open func() store.Store) {
		st := open()
		rig := newSliceRig(t, st)
		id := rig.start(t)
		dying := &slicesStore{Store: open(), t: t, dieAfterAcks: 2}
		rig.executor(t, dying, "executor-dies", 500*time.Millisecond)

		done := succeedJobs(t, st, id, 50)
		_, err := st.Queue().CompleteAll(t.Context(), "fake-worker", done)
		require.NoError(t, err)

		require.Eventually(t, func() bool {
			dying.mu.Lock()
			defer dying.mu.Unlock()
			return dying.dead
		}, 30*time.Second, 10*time.Millisecond)
		ex, _, err := st.Executions().Get(t.Context(), id)
		require.NoError(t, err)
		ended := 0
		for _, tr := range ex.TaskRunsByTaskID("r") {
			if tr.State.Current == flow.StateSuccess {
				ended++
			}
		}
		require.Equal(t, 16, ended, "two slices of 8 results stored")
		left, err := st.Queue().Results(t.Context(), id)
		require.NoError(t, err)
		require.Len(t, left, 34, "the results of the slices not stored are still there")

		rig.executor(t, open(), "executor-2", 30*time.Second)
		rig.worker(t)
		requireOncePerValue(t, st, id)
	})
}
