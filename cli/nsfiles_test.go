package cli

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// TestNamespaceFilesEndToEnd uploads namespace files through the API and
// uses them from a flow: read() renders one, and a script task finds the
// ones namespaceFiles selects in its working directory.
func TestNamespaceFilesEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: uses-files
namespace: company.team
tasks:
  - id: query
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('queries/count.sql') | trim }}"
  - id: script
    type: io.kestra.plugin.scripts.shell.Commands
    namespaceFiles:
      enabled: true
      include: ["scripts/**"]
    commands:
      - sh scripts/hello.sh
      - test ! -e queries/count.sql && echo "queries not copied"
`)
	for path, content := range map[string]string{
		"/queries/count.sql": "SELECT count(*) FROM orders\n",
		"/scripts/hello.sh":  "echo \"::{\\\"outputs\\\":{\\\"greeting\\\":\\\"hello from a namespace file\\\"}}::\"\n",
	} {
		code, body, err := sys.HTTP(ctx, http.MethodPost, "/api/v1/main/namespaces/company.team/files?path="+path, "text/plain", []byte(content))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code, string(body))
	}
	ex := sys.runToEnd(t, "company.team", "uses-files")
	require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
	require.Equal(t, "SELECT count(*) FROM orders", ex.TaskRunsByTaskID("query")[0].Outputs["value"])
	script := ex.TaskRunsByTaskID("script")[0]
	vars, _ := ordered.AsMap(script.Outputs["vars"])
	require.Equal(t, "hello from a namespace file", vars["greeting"])
	logs, err := sys.Logs(ctx, ex.ID)
	require.NoError(t, err)
	var lines []string
	for _, l := range logs {
		lines = append(lines, l.Message)
	}
	require.Contains(t, strings.Join(lines, "\n"), "queries not copied", "include selects only scripts/**")
}
