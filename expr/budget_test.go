package expr_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/expr"
)

// A jq program that builds a huge value is stopped by the memory budget
// with a message naming it, and the heap it grew is given back.
func TestJQAllocationBudget(t *testing.T) {
	eng := expr.New(expr.Options{MaxAlloc: 64 << 20})
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := eng.Render(t.Context(), "{{ '{}' | jq('[range(1e9)]') }}", nil)
	require.ErrorIs(t, err, expr.ErrLimit)
	require.ErrorContains(t, err, "allocated more than 64 MiB (the expression memory budget)")
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	require.Less(t, after.HeapAlloc, before.HeapAlloc+64<<20, "the program's garbage is collectable")
}

// A jq program that loops without allocating is stopped by the time
// budget.
func TestJQTimeBudget(t *testing.T) {
	t.Parallel()
	eng := expr.New(expr.Options{MaxDuration: 200 * time.Millisecond})
	_, err := eng.Render(t.Context(), "{{ '0' | jq('def f: f; f') }}", nil)
	require.ErrorIs(t, err, expr.ErrLimit)
	require.ErrorContains(t, err, "ran longer than 200ms (the expression time budget)")
}

// Template loops honour the time budget too.
func TestLoopTimeBudget(t *testing.T) {
	t.Parallel()
	eng := expr.New(expr.Options{MaxDuration: time.Nanosecond, MaxSteps: 10_000_000})
	_, err := eng.Render(t.Context(), "{% for i in range(1, 90000) %}{% for j in range(1, 90) %}{% endfor %}{% endfor %}", nil)
	require.ErrorIs(t, err, expr.ErrLimit)
	require.ErrorContains(t, err, "the expression time budget")
}

// Ordinary jq work stays well within both budgets.
func TestJQWithinBudget(t *testing.T) {
	t.Parallel()
	out, err := expr.New(expr.Options{}).Render(t.Context(), "{{ '[1,2,3]' | jq('map(. * 2) | add') | first }}", nil)
	require.NoError(t, err)
	require.Equal(t, "12", out)
}
