package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/tasks"
)

// BenchmarkAdvanceWideForEach measures the first step of a ForEach over
// n values with no concurrency limit: the step creates and dispatches n
// task runs, each with its expression variables, so its cost should grow
// linearly with n.
func BenchmarkAdvanceWideForEach(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			vals := make([]string, n)
			for i := range vals {
				vals[i] = fmt.Sprintf("%q", fmt.Sprint("v", i))
			}
			src := `id: wide
namespace: bench
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    concurrencyLimit: 0
    values: [` + strings.Join(vals, ",") + `]
    tasks:
      - {id: r, type: io.kestra.plugin.core.debug.Return, format: "{{ taskrun.value }}"}`
			reg := tasks.New()
			f, err := flow.Parse([]byte(src), flow.ParseOptions{Types: reg})
			if err != nil {
				b.Fatal(err)
			}
			eng := &engine.Engine{Types: reg, Renderer: renderer{expr.New(expr.Options{})}, MaxLoopItems: n}
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ex := &flow.Execution{ID: "ex1", Namespace: f.Namespace, FlowID: f.ID, FlowRevision: 1, State: flow.NewStateInfo(flow.StateCreated, now)}
				fx, err := eng.Advance(context.Background(), engine.Step{Flow: f, Exec: ex, Now: now})
				if err != nil {
					b.Fatal(err)
				}
				if len(fx.Dispatch) != n {
					b.Fatalf("dispatched %d task runs, want %d", len(fx.Dispatch), n)
				}
			}
		})
	}
}
