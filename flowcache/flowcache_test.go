package flowcache_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/flowcache"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
)

const src = "id: hello\nnamespace: team\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: %s\n"

func open(t *testing.T) (store.Store, *flowcache.Cache, *atomic.Int32) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), t.TempDir()+"/osprey.db", sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	var parses atomic.Int32
	c := flowcache.New(st.Flows(), func(b []byte) (*flow.Flow, error) {
		parses.Add(1)
		return flow.Parse(b, flow.ParseOptions{})
	})
	return c.Watch(st), c, &parses
}

func put(t *testing.T, st store.Store, msg string) {
	t.Helper()
	p := store.PutFlowParams{Namespace: "team", ID: "hello", Source: fmt.Sprintf(src, msg)}
	if _, err := st.Flows().Update(t.Context(), p); err != nil {
		_, err = st.Flows().Create(t.Context(), p)
		require.NoError(t, err)
	}
}

// TestGetParsesARevisionOnce: a stored revision never changes, so it is
// parsed once however often it is read.
func TestGetParsesARevisionOnce(t *testing.T) {
	st, c, parses := open(t)
	put(t, st, "one")
	put(t, st, "two")
	for _, tc := range []struct {
		rev, want int
	}{{1, 1}, {2, 2}, {0, 2}, {1, 1}, {2, 2}} {
		f, err := c.Get(t.Context(), "team", "hello", tc.rev)
		require.NoError(t, err)
		require.Equal(t, tc.want, f.Revision, "revision %d", tc.rev)
		require.NotEmpty(t, f.Source)
	}
	require.EqualValues(t, 2, parses.Load())

	_, err := c.Get(t.Context(), "team", "missing", 0)
	require.ErrorIs(t, err, store.ErrNotFound)
}

// TestAllSeesThisProcessWritesAtOnce: writes through the watched store drop
// the list of latest revisions.
func TestAllSeesThisProcessWritesAtOnce(t *testing.T) {
	st, c, _ := open(t)
	all, err := c.All(t.Context())
	require.NoError(t, err)
	require.Empty(t, all)
	put(t, st, "one")
	all, err = c.All(t.Context())
	require.NoError(t, err)
	require.Len(t, all, 1)
	put(t, st, "two")
	all, err = c.All(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, all[0].Revision)
	require.NoError(t, st.Flows().Delete(t.Context(), "team", "hello"))
	all, err = c.All(t.Context())
	require.NoError(t, err)
	require.Empty(t, all)
}
