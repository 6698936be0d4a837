package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/store"
)

var flowTests = []test{
	{"Lifecycle", testFlowLifecycle},
	{"Search", testFlowSearch},
	{"ConcurrentCreate", testFlowConcurrentCreate},
}

func testFlowLifecycle(t *testing.T, s store.Store) {
	ctx, fs, clock := t.Context(), s.Flows(), Clock(t)
	src1 := "id: hello\nnamespace: acme\ntasks: []\n"
	src2 := "id: hello\nnamespace: acme\ntasks:\n  - id: a\n"

	_, err := fs.Update(ctx, store.PutFlowParams{Namespace: "acme", ID: "hello", Source: src1})
	require.ErrorIs(t, err, store.ErrNotFound, "update of a flow that does not exist")
	_, err = fs.Get(ctx, "acme", "hello", 0)
	require.ErrorIs(t, err, store.ErrNotFound)

	r1, err := fs.Create(ctx, store.PutFlowParams{Namespace: "acme", ID: "hello", Source: src1})
	require.NoError(t, err)
	require.Equal(t, 1, r1.Revision)
	require.Equal(t, src1, r1.Source)
	require.False(t, r1.Deleted)
	require.WithinDuration(t, clock.Now(), r1.Updated, time.Millisecond)
	require.Equal(t, time.UTC, r1.Updated.Location(), "times come back in UTC")

	_, err = fs.Create(ctx, store.PutFlowParams{Namespace: "acme", ID: "hello", Source: src2})
	require.ErrorIs(t, err, store.ErrConflict, "create of a live flow")

	same, err := fs.Update(ctx, store.PutFlowParams{Namespace: "acme", ID: "hello", Source: src1})
	require.NoError(t, err)
	require.Equal(t, 1, same.Revision, "an unchanged source makes no revision")

	clock.Advance(time.Minute)
	r2, err := fs.Update(ctx, store.PutFlowParams{Namespace: "acme", ID: "hello", Source: src2})
	require.NoError(t, err)
	require.Equal(t, 2, r2.Revision)
	require.WithinDuration(t, clock.Now(), r2.Updated, time.Millisecond)

	got, err := fs.Get(ctx, "acme", "hello", 0)
	require.NoError(t, err)
	require.Equal(t, 2, got.Revision)
	require.Equal(t, src2, got.Source)
	require.Equal(t, "acme", got.Namespace)
	require.Equal(t, "hello", got.ID)
	require.Equal(t, time.UTC, got.Updated.Location())
	old, err := fs.Get(ctx, "acme", "hello", 1)
	require.NoError(t, err)
	require.Equal(t, src1, old.Source)
	_, err = fs.Get(ctx, "acme", "hello", 9)
	require.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, fs.Delete(ctx, "acme", "hello"))
	_, err = fs.Get(ctx, "acme", "hello", 0)
	require.ErrorIs(t, err, store.ErrNotFound, "a deleted flow is not found")
	require.ErrorIs(t, fs.Delete(ctx, "acme", "hello"), store.ErrNotFound)
	_, err = fs.Update(ctx, store.PutFlowParams{Namespace: "acme", ID: "hello", Source: src1})
	require.ErrorIs(t, err, store.ErrNotFound, "update of a deleted flow")
	deleted, err := fs.Get(ctx, "acme", "hello", 3)
	require.NoError(t, err)
	require.True(t, deleted.Deleted)

	r4, err := fs.Create(ctx, store.PutFlowParams{Namespace: "acme", ID: "hello", Source: src1})
	require.NoError(t, err)
	require.Equal(t, 4, r4.Revision, "recreating continues the revisions")
	require.False(t, r4.Deleted)

	revs, err := fs.Revisions(ctx, "acme", "hello")
	require.NoError(t, err)
	require.Len(t, revs, 4)
	for i, r := range revs {
		require.Equal(t, i+1, r.Revision)
	}
	require.True(t, revs[2].Deleted)
	require.Equal(t, src2, revs[1].Source)

	require.ErrorIs(t, fs.Delete(ctx, "acme", "nope"), store.ErrNotFound)
	_, err = fs.Revisions(ctx, "acme", "nope")
	require.ErrorIs(t, err, store.ErrNotFound, "a flow that never existed has no revisions")
}

func testFlowSearch(t *testing.T, s store.Store) {
	ctx, fs := t.Context(), s.Flows()
	for _, f := range []struct{ ns, id string }{
		{"acme", "zeta"}, {"acme", "Alpha-Report"}, {"acme.team", "beta"}, {"acme.team.sub", "gamma"},
		{"acmex", "alpha"}, {"other", "report"}, {"acme", "gone"},
	} {
		_, err := fs.Create(ctx, store.PutFlowParams{Namespace: f.ns, ID: f.id, Source: "id: " + f.id})
		require.NoError(t, err)
	}
	require.NoError(t, fs.Delete(ctx, "acme", "gone"))
	_, err := fs.Update(ctx, store.PutFlowParams{Namespace: "acme", ID: "zeta", Source: "id: zeta\n# v2"})
	require.NoError(t, err)

	keys := func(rs []store.FlowRecord) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = fmt.Sprintf("%s/%s@%d", r.Namespace, r.ID, r.Revision)
		}
		return out
	}
	tests := []struct {
		name  string
		q     store.FlowQuery
		want  []string
		total int
	}{
		{"all live, latest revisions", store.FlowQuery{},
			[]string{"acme/Alpha-Report@1", "acme/zeta@2", "acme.team/beta@1", "acme.team.sub/gamma@1", "acmex/alpha@1", "other/report@1"}, 6},
		{"namespace and children, not siblings", store.FlowQuery{Namespace: "acme"},
			[]string{"acme/Alpha-Report@1", "acme/zeta@2", "acme.team/beta@1", "acme.team.sub/gamma@1"}, 4},
		{"child namespace", store.FlowQuery{Namespace: "acme.team"},
			[]string{"acme.team/beta@1", "acme.team.sub/gamma@1"}, 2},
		{"query is a case-insensitive substring of the id", store.FlowQuery{Query: "ALPHA"},
			[]string{"acme/Alpha-Report@1", "acmex/alpha@1"}, 2},
		{"query and namespace", store.FlowQuery{Namespace: "acme", Query: "report"},
			[]string{"acme/Alpha-Report@1"}, 1},
		{"first page", store.FlowQuery{Page: 1, Size: 4},
			[]string{"acme/Alpha-Report@1", "acme/zeta@2", "acme.team/beta@1", "acme.team.sub/gamma@1"}, 6},
		{"second page", store.FlowQuery{Page: 2, Size: 4},
			[]string{"acmex/alpha@1", "other/report@1"}, 6},
		{"page past the end", store.FlowQuery{Page: 3, Size: 4}, []string{}, 6},
		{"no match", store.FlowQuery{Namespace: "nobody"}, []string{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := fs.Search(ctx, tc.q)
			require.NoError(t, err)
			require.Equal(t, tc.want, keys(got))
			require.Equal(t, tc.total, total)
		})
	}
}

func testFlowConcurrentCreate(t *testing.T, s store.Store) {
	ctx, fs := t.Context(), s.Flows()
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = fs.Create(ctx, store.PutFlowParams{Namespace: "race", ID: "f", Source: fmt.Sprintf("v%d", i)})
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		require.ErrorIs(t, err, store.ErrConflict)
	}
	require.Equal(t, 1, wins, "exactly one concurrent create wins")
	revs, err := fs.Revisions(ctx, "race", "f")
	require.NoError(t, err)
	require.Len(t, revs, 1)
}
