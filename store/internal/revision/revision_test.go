package revision

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/store"
)

func TestNext(t *testing.T) {
	t.Parallel()
	live := store.FlowRecord{Namespace: "a", ID: "f", Revision: 2, Source: "v2"}
	gone := store.FlowRecord{Namespace: "a", ID: "f", Revision: 3, Source: "v2", Deleted: true}
	cases := []struct {
		name   string
		head   store.FlowRecord
		exists bool
		op     Op
		source string
		rev    int
		write  bool
		err    error
	}{
		{"create new", store.FlowRecord{}, false, Create, "v1", 1, true, nil},
		{"create over a live flow", live, true, Create, "v3", 0, false, store.ErrConflict},
		{"create over a deleted flow", gone, true, Create, "v4", 4, true, nil},
		{"update", live, true, Update, "v3", 3, true, nil},
		{"update with the same source", live, true, Update, "v2", 2, false, nil},
		{"update a missing flow", store.FlowRecord{}, false, Update, "v1", 0, false, store.ErrNotFound},
		{"update a deleted flow", gone, true, Update, "v9", 0, false, store.ErrNotFound},
		{"delete", live, true, Delete, "", 3, true, nil},
		{"delete a deleted flow", gone, true, Delete, "", 0, false, store.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, write, err := Next(tc.head, tc.exists, tc.op, "a", "f", tc.source)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.write, write)
			require.Equal(t, tc.rev, rec.Revision)
			if tc.op == Delete {
				require.True(t, rec.Deleted)
				require.Equal(t, "v2", rec.Source, "a deletion keeps the last source")
			}
		})
	}
}
