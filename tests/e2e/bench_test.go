package e2e

import (
	"context"
	"path/filepath"
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

const twoTasks = `id: bench
namespace: bench
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "hello {{ execution.id }}"
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ execution.id }} {{ outputs.log ?? 'no log outputs' }}"
`

// pipeline is an executor and a worker on one SQLite store, in-process,
// wired as `server local` wires them.
type pipeline struct {
	st       store.Store
	launcher *launch.Launcher
	flow     *flow.Flow
}

func newPipeline(tb testing.TB, threads int) *pipeline {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "osprey.db"), sqlite.Options{})
	require.NoError(tb, err)
	tb.Cleanup(func() { st.Close() })
	return newPipelineOn(tb, st, threads)
}

// newPipelineOn wires an executor and a worker on st.
func newPipelineOn(tb testing.TB, st store.Store, threads int) *pipeline {
	tb.Helper()
	ctx := context.Background()
	reg := tasks.New()
	parse := func(src []byte) (*flow.Flow, error) { return flow.Parse(src, flow.ParseOptions{Types: reg}) }
	flows := flowcache.New(st.Flows(), parse)
	l := &launch.Launcher{Store: st, Flows: flows, Types: reg}
	r := &render.Renderer{Expr: expr.New(expr.Options{})}
	eng := &engine.Engine{Types: reg, Renderer: r, Starter: l}
	x := executor.New(executor.Options{Store: st, Engine: eng, Flows: flows, Poll: 50 * time.Millisecond})
	w := worker.New(worker.Options{Store: st, Tasks: reg, Flows: flows, Renderers: r, Threads: threads, Poll: 50 * time.Millisecond, TmpDir: tb.TempDir()})
	require.NoError(tb, x.Start(ctx))
	require.NoError(tb, w.Start(ctx))
	tb.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = x.Stop(sctx)
		_ = w.Stop(sctx)
	})
	_, err := st.Flows().Create(ctx, store.PutFlowParams{Namespace: "bench", ID: "bench", Source: twoTasks})
	require.NoError(tb, err)
	f, err := flows.Get(ctx, "bench", "bench", 0)
	require.NoError(tb, err)
	return &pipeline{st: st, launcher: l, flow: f}
}

// waitAll polls until every execution ended; it fails on any non-SUCCESS.
// It polls gently (the store is the system under test) and, since
// executions end roughly in order, mostly polls the last one.
func (p *pipeline) waitAll(tb testing.TB, ids []string) {
	tb.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Minute)
	order := append([]string{ids[len(ids)-1]}, ids...)
	for _, id := range order {
		for {
			ex, _, err := p.st.Executions().Get(ctx, id)
			require.NoError(tb, err)
			if ex.State.Current.IsTerminal() {
				require.Equal(tb, flow.StateSuccess, ex.State.Current, ex.Error)
				break
			}
			require.True(tb, time.Now().Before(deadline), "execution %s stuck in %s", id, ex.State.Current)
			time.Sleep(time.Millisecond)
		}
	}
}

// BenchmarkRoundTrip measures one 2-task execution at a time through
// executor → worker → executor → worker → executor on SQLite: the latency a
// user sees, queue and store included.
func BenchmarkRoundTrip(b *testing.B) {
	p := newPipeline(b, 8)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ex, err := p.launcher.Start(ctx, p.flow, nil, nil)
		require.NoError(b, err)
		p.waitAll(b, []string{ex.ID})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "executions/s")
}

// BenchmarkThroughput submits b.N executions of the 2-task flow at once
// and measures until the last one ends.
func BenchmarkThroughput(b *testing.B) {
	p := newPipeline(b, 16)
	ctx := context.Background()
	b.ResetTimer()
	ids := make([]string, 0, b.N)
	for i := 0; i < b.N; i++ {
		ex, err := p.launcher.Start(ctx, p.flow, nil, nil)
		require.NoError(b, err)
		ids = append(ids, ex.ID)
	}
	p.waitAll(b, ids)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "executions/s")
}

// BenchmarkThroughputPostgres is BenchmarkThroughput on PostgreSQL (one
// executor and one worker, as `server standalone`).
func BenchmarkThroughputPostgres(b *testing.B) {
	st, err := postgres.Open(context.Background(), pgtest.Start(b), postgres.Options{})
	require.NoError(b, err)
	b.Cleanup(func() { st.Close() })
	p := newPipelineOn(b, st, 16)
	ctx := context.Background()
	b.ResetTimer()
	ids := make([]string, 0, b.N)
	for i := 0; i < b.N; i++ {
		ex, err := p.launcher.Start(ctx, p.flow, nil, nil)
		require.NoError(b, err)
		ids = append(ids, ex.ID)
	}
	p.waitAll(b, ids)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "executions/s")
}

// TestPipelineRunsManyExecutions is the benchmark's correctness check at a
// small size, so that `go test` proves the path the benchmark measures.
func TestPipelineRunsManyExecutions(t *testing.T) {
	t.Parallel()
	p := newPipeline(t, 4)
	ctx := context.Background()
	var ids []string
	for i := 0; i < 50; i++ {
		ex, err := p.launcher.Start(ctx, p.flow, nil, nil)
		require.NoError(t, err)
		ids = append(ids, ex.ID)
	}
	p.waitAll(t, ids)
	ex, _, err := p.st.Executions().Get(ctx, ids[49])
	require.NoError(t, err)
	require.Len(t, ex.TaskRunList, 2)
	require.Equal(t, ex.ID+" no log outputs", ex.TaskRunList[1].Outputs["value"])
}
