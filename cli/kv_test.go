package cli

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
)

// TestKVStoreEndToEnd writes, reads, lists and deletes KV entries with
// Kestra's kv tasks and kv() function in a full in-process Osprey, and
// reads what a flow wrote through the API.
func TestKVStoreEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{Vars: map[string]string{
		"SECRET_TOKEN": base64.StdEncoding.EncodeToString([]byte("s3cr3t-t0ken")),
	}}, `
id: kv
namespace: company.team
tasks:
  - id: set-text
    type: io.kestra.plugin.core.kv.Set
    key: greeting
    value: "hello {{ flow.id }}"
  - id: set-json
    type: io.kestra.plugin.core.kv.Set
    key: conf
    kvType: JSON
    value: '{"env": "prod", "replicas": 3}'
  - id: set-elsewhere
    type: io.kestra.plugin.core.kv.Set
    namespace: company
    key: shared
    value: 7
  - id: no-overwrite
    type: io.kestra.plugin.core.kv.Set
    key: greeting
    value: other
    overwrite: false
    allowFailure: true
  - id: leak
    type: io.kestra.plugin.core.kv.Set
    key: token
    value: "bearer {{ secret('TOKEN') }}"
    allowFailure: true
  - id: get
    type: io.kestra.plugin.core.kv.Get
    key: conf
  - id: keys
    type: io.kestra.plugin.core.kv.GetKeys
  - id: use
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv('greeting') }} {{ kv('conf').replicas + kv('shared', namespace='company') }} {{ outputs.get.value.env }} {{ kv('gone', errorOnMissing=false) ?? 'none' }}"
  - id: delete
    type: io.kestra.plugin.core.kv.Delete
    key: conf
  - id: delete-again
    type: io.kestra.plugin.core.kv.Delete
    key: conf
`)
	ex := sys.runToEnd(t, "company.team", "kv")
	require.Equal(t, flow.StateWarning, ex.State.Current, "only no-overwrite and leak failed, and they may: %v", ex.TaskRunList)
	run := func(task string) *flow.TaskRun {
		runs := ex.TaskRunsByTaskID(task)
		require.Len(t, runs, 1, task)
		return runs[0]
	}
	out := func(task string) map[string]any { return run(task).Outputs }
	require.Contains(t, run("no-overwrite").Error, "already exists and overwrite is false")
	require.Contains(t, run("leak").Error, "the value holds a secret, and KV values are stored in clear")
	require.NotContains(t, run("leak").Error, "s3cr3t-t0ken")
	require.Equal(t, "hello kv 10 prod none", out("use")["value"])
	require.Equal(t, []any{"conf", "greeting"}, out("keys")["keys"])
	require.Equal(t, true, out("delete")["deleted"])
	require.Equal(t, false, out("delete-again")["deleted"])

	code, body, err := sys.HTTP(ctx, http.MethodGet, "/api/v1/main/namespaces/company.team/kv/greeting", "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, string(body))
	require.JSONEq(t, `{"type":"STRING","value":"hello kv"}`, string(body))
	code, _, err = sys.HTTP(ctx, http.MethodGet, "/api/v1/main/namespaces/company.team/kv/conf", "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, code, "deleted by the flow")
	code, _, err = sys.HTTP(ctx, http.MethodGet, "/api/v1/main/namespaces/company.team/kv/token", "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, code, "a value holding a secret is never stored")
}
