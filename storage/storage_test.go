package storage_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/storage"
)

func TestClean(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"kestra:///a/b", "/a/b"},
		{"/a/b/", "/a/b"},
		{"/a b/é.txt", "/a b/é.txt"},
		{"kestra://a/b", ""}, {"a/b", ""}, {"/", ""}, {"/a/../b", ""}, {"/a//b", ""}, {"/a/\x01", ""}, {"/a\\b", ""},
	} {
		got, err := storage.Clean(tc.in)
		if tc.want == "" {
			require.ErrorIs(t, err, storage.ErrInvalidPath, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got)
	}
}

func TestLayout(t *testing.T) {
	t.Parallel()
	require.Equal(t, "/acme/team/etl/executions/E1", storage.ExecutionPath("acme.team", "etl", "E1"))
	require.Equal(t, "/acme/etl/executions/E1/tasks/t/TR/", storage.TaskRunPath("acme", "etl", "E1", "t", "TR")+"/")
	require.Equal(t, "/acme/etl/executions/E1/inputs/file", storage.InputPath("acme", "etl", "E1", "file"))
	require.True(t, storage.Within("/acme/etl/executions/E1/x", "/acme/etl/executions/E1"))
	require.False(t, storage.Within("/acme/etl/executions/E10/x", "/acme/etl/executions/E1"))
	for in, want := range map[string]string{"../../etc/passwd": "passwd", "C:\\x\\report.csv": "report.csv", "..": "file", "": "file", "a\x00b": "ab"} {
		require.Equal(t, want, storage.SafeName(in), in)
	}
}

// FuzzClean checks that whatever Clean accepts is canonical: absolute,
// without empty, "." or ".." segments, and unchanged by a second Clean.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"kestra:///a/b", "/a/../b", "/a//b/", "kestra://x", "/a b/é", "/\x00", "//", "/./a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 4096 {
			return
		}
		out, err := storage.Clean(in)
		if err != nil {
			return
		}
		require.True(t, strings.HasPrefix(out, "/"), out)
		for seg := range strings.SplitSeq(out[1:], "/") {
			require.NotContains(t, []string{"", ".", ".."}, seg, out)
		}
		again, err := storage.Clean(out)
		require.NoError(t, err)
		require.Equal(t, out, again)
	})
}

func TestScope(t *testing.T) {
	t.Parallel()
	inputs := map[string]any{
		"mine":    "kestra:///acme/other/executions/X/out.csv",
		"foreign": "kestra:///corp/f/executions/Y/secret.csv",
		"nested":  []any{map[string]any{"f": "kestra:///acme/g/executions/Z/a"}},
	}
	s := storage.NewScope("acme", "flow", "E1", inputs)
	for p, want := range map[string]bool{
		"/acme/flow/executions/E1/tasks/t/r/x": true,
		"/acme/flow/executions/E10/x":          false,
		"/acme/other/executions/X/out.csv":     true,
		"/acme/other/executions/X/another.csv": false,
		"/corp/f/executions/Y/secret.csv":      false,
		"/acme/g/executions/Z/a":               true,
	} {
		require.Equal(t, want, s.Allows(p), p)
	}
	parent := s.WithTrigger(map[string]any{"executionId": "P", "namespace": "corp.team", "flowId": "main"})
	require.True(t, parent.Allows("/corp/team/main/executions/P/tasks/w/r/file.txt"), "the parent's files")
	require.False(t, parent.Allows("/corp/team/main/executions/Q/file.txt"))
	require.False(t, s.WithTrigger(map[string]any{"executionId": "P", "namespace": "corp"}).Allows("/corp/main/executions/P/f"), "all three are needed")
}
