package taskproc

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A Runner plans its read rules once and reuses them, until a directory
// it listed changes or a denied path resolves otherwise.
func TestRunnerReusesItsPlan(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(base, "data"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(base, "tool"), []byte("x"), 0o600))
	// Listed directories changed a moment ago are listed again (a change
	// within the clock's tick would not show): these are older.
	old := time.Now().Add(-time.Hour)
	for _, d := range []string{base, filepath.Join(base, "data")} {
		require.NoError(t, os.Chtimes(d, old, old))
	}
	r := &Runner{}
	p := Policy{Read: []string{base}, Deny: []string{filepath.Join(base, "data", "secrets.key")}}
	first := r.rules(p)
	require.Contains(t, first, rule{Path: filepath.Join(base, "tool"), Rights: readDir | readFile})
	require.Contains(t, first, rule{Path: base, Rights: readDir}, "base holds a denied path: listed, and granted entry by entry")
	same := r.rules(p)
	require.Same(t, &first[0], &same[0], "planned once")

	// A new entry in a listed directory is granted by a new plan.
	require.NoError(t, os.WriteFile(filepath.Join(base, "data", "new"), []byte("y"), 0o600))
	again := r.rules(p)
	require.NotSame(t, &first[0], &again[0], "planned again")
	require.Contains(t, paths(again), filepath.Join(base, "data", "new"))

	// Another policy is another plan.
	other := r.rules(Policy{Read: []string{base}})
	require.Contains(t, other, rule{Path: base, Rights: readDir | readFile})
}

// The denied file created after the plan was made stays unreadable.
func TestRunnerPlanSeesANewDeniedFile(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	r := &Runner{}
	key := filepath.Join(base, "data", "secrets.key")
	p := Policy{Read: []string{base}, Deny: []string{key}}
	r.rules(p)
	require.NoError(t, os.MkdirAll(filepath.Dir(key), 0o700))
	require.NoError(t, os.WriteFile(key, []byte("k"), 0o600))
	got := r.rules(p)
	require.NotContains(t, paths(got), key)
	require.Contains(t, got, rule{Path: filepath.Dir(key), Rights: readDir}, "the key's directory is granted entry by entry")
}

func paths(rules []rule) []string {
	out := make([]string, 0, len(rules))
	for _, r := range rules {
		out = append(out, r.Path)
	}
	return slices.Sorted(slices.Values(out))
}

// BenchmarkPlan is what the read rules of a worker's policy cost a task
// process: planned anew (as every task run did), or reused by the Runner
// (a check that they still hold).
func BenchmarkPlan(b *testing.B) {
	p := Policy{Deny: []string{"/etc/osprey/application.yml", b.TempDir()}}.withPath([]string{"PATH=/usr/local/bin:/usr/bin:/bin"})
	b.Run("planned per run", func(b *testing.B) {
		for b.Loop() {
			newPlan(p)
		}
	})
	b.Run("reused", func(b *testing.B) {
		r := &Runner{}
		for b.Loop() {
			r.rules(p)
		}
	})
}
