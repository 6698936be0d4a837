package render

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/storage/local"
)

func TestFileFunctions(t *testing.T) {
	t.Parallel()
	st, err := local.New(t.TempDir())
	require.NoError(t, err)
	ctx := context.Background()
	put := func(p, content string) {
		_, err := st.Put(ctx, p, strings.NewReader(content))
		require.NoError(t, err)
	}
	put("/team/f/executions/ex1/tasks/t/r/out.txt", "hello files")
	put("/team/f/executions/ex1/inputs/in/empty.csv", "")
	put("/team/f/executions/other/tasks/t/r/secret.txt", "not yours")
	put("/team/g/executions/parent/tasks/t/r/given.txt", "from the parent")
	r := &Renderer{Expr: expr.New(expr.Options{}), Storage: st, Files: fakeFiles{"team/data/q.sql": "SELECT 1"}}
	v := vars("team")
	put("/acme/x/executions/E/secret.txt", "another namespace")
	v["inputs"] = map[string]any{"file": "kestra:///team/g/executions/parent/tasks/t/r/given.txt", "foreign": "kestra:///acme/x/executions/E/secret.txt"}
	for _, tc := range []renderCase{
		{"read", "{{ read('kestra:///team/f/executions/ex1/tasks/t/r/out.txt') }}", "hello files", ""},
		{"size", "{{ fileSize('kestra:///team/f/executions/ex1/tasks/t/r/out.txt') }}", "11", ""},
		{"exists", "{{ fileExists('kestra:///team/f/executions/ex1/tasks/t/r/out.txt') }}", "true", ""},
		{"does not exist", "{{ fileExists('kestra:///team/f/executions/ex1/nope') }}", "false", ""},
		{"empty", "{{ isFileEmpty('kestra:///team/f/executions/ex1/inputs/in/empty.csv') }}", "true", ""},
		{"not empty", "{{ isFileEmpty('kestra:///team/f/executions/ex1/tasks/t/r/out.txt') }}", "false", ""},
		{"a file given as input", "{{ read(inputs.file) }}", "from the parent", ""},
		{"fileURI of a namespace file", "{{ fileURI('data/q.sql') }}", "kestra:///team/_files/data/q.sql", ""},
		{"read of fileURI", "{{ read(fileURI('data/q.sql')) }}", "SELECT 1", ""},
		{"size of a missing file", "{{ fileSize('kestra:///team/f/executions/ex1/nope') }}", "", "no such file"},
		{"another execution's file", "{{ read('kestra:///team/f/executions/other/tasks/t/r/secret.txt') }}", "", "reads only its own execution's files"},
		{"another execution's size", "{{ fileSize('kestra:///team/f/executions/other/tasks/t/r/secret.txt') }}", "", "reads only its own execution's files"},
		{"another namespace's file, even given", "{{ read(inputs.foreign) }}", "", "reads only its own execution's files"},
		{"another namespace", "{{ fileExists('kestra:///acme/f/executions/ex1/x') }}", "", "reads only its own execution's files"},
		{"going up", "{{ read('kestra:///team/f/executions/ex1/../other/tasks/t/r/secret.txt') }}", "", "invalid storage path"},
		{"not a URI", "{{ fileSize('/etc/passwd') }}", "", "expected a kestra:/// URI"},
	} {
		out, err := r.Render(ctx, tc.tmpl, v)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, out, tc.name)
	}
}
