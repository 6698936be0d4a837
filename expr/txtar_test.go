package expr

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRenderArchives renders every testdata/render/*.txtar: "vars.json" is the
// scope (a top-level "errorLogs" becomes the errorLogs() function), "template"
// the input and "want" the exact output.
func TestRenderArchives(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/render/*.txtar")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	e := testEngine()
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			a := readArchive(t, file)
			var vars map[string]any
			dec := json.NewDecoder(strings.NewReader(a["vars.json"]))
			dec.UseNumber()
			require.NoError(t, dec.Decode(&vars))
			s := &Scope{Strict: true, Vars: vars, Funcs: map[string]Func{}}
			if logs, ok := vars["errorLogs"]; ok {
				s.Funcs["errorLogs"] = func(context.Context, Args) (any, error) { return logs, nil }
			}
			got, err := e.Render(t.Context(), a["template"], s)
			require.NoError(t, err)
			require.Equal(t, a["want"], got)
		})
	}
}
