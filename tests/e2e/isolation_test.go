package e2e

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/testkit"
)

const secretFlow = `
id: sec
namespace: e2e.sec
tasks:
  - id: check
    type: io.kestra.plugin.core.flow.If
    condition: "{{ secret('TOKEN') == 'hunter2-token' }}"
    then:
      - id: ret
        type: io.kestra.plugin.core.debug.Return
        format: "{{ secret('TOKEN') | upper }}"
outputs:
  - id: direct
    type: STRING
    value: "{{ secret('TOKEN') }}"
`

func runSecretFlow(t *testing.T, extraEnv ...string) (map[string]any, string) {
	t.Helper()
	env := append([]string{
		"KESTRA_SECRET_TYPE=env",
		"SECRET_TOKEN=" + base64.StdEncoding.EncodeToString([]byte("hunter2-token")),
	}, extraEnv...)
	port := testkit.Port(t)
	p := start(t, env, "server", "local", "--data-dir", t.TempDir(), "--port", strconv.Itoa(port), "--management-port", "0")
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	a.waitUp(p)
	a.createFlow(secretFlow)
	ex := a.run("e2e.sec", "sec", nil)
	_, body := a.do("GET", "/api/v1/main/executions/"+ex["id"].(string), "", nil)
	return ex, string(body)
}

// TestExecutorSideSecretsAreMasked resolves a secret in a flow output and
// an If condition (both rendered by the executor, not a worker) and finds
// only ****** in what the API returns.
func TestExecutorSideSecretsAreMasked(t *testing.T) {
	ex, body := runSecretFlow(t)
	require.Equal(t, "SUCCESS", state(ex))
	require.Equal(t, map[string]any{"direct": "******"}, ex["outputs"])
	require.NotContains(t, body, "hunter2")
	require.NotContains(t, strings.ToLower(body), "hunter2")
	require.Contains(t, body, "******")
}

// TestIsolationDeniesTheExecutor stops the executor from resolving secrets
// (kestra.secret.isolation.denied-services) while the worker still may.
func TestIsolationDeniesTheExecutor(t *testing.T) {
	ex, body := runSecretFlow(t, "KESTRA_SECRET_ISOLATION_ENABLED=true", "KESTRA_SECRET_ISOLATION_DENIED_SERVICES=executor")
	require.Equal(t, "FAILED", state(ex))
	require.Contains(t, body, "the executor may not resolve secrets")
	require.NotContains(t, body, "hunter2")
}

const secretInputFlow = `
id: secin
namespace: e2e.sec
inputs:
  - id: password
    type: SECRET
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "password is {{ inputs.password }} / {{ inputs.password | base64encode }}"
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.password }}"
`

// TestSecretInputsAreSealedAndMasked runs a flow with a SECRET input: the
// task sees the value, the API, the logs and the database files never do.
func TestSecretInputsAreSealedAndMasked(t *testing.T) {
	dir := t.TempDir()
	port := testkit.Port(t)
	p := start(t, nil, "server", "local", "--data-dir", dir, "--port", strconv.Itoa(port), "--management-port", "0")
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	a.waitUp(p)
	a.createFlow(secretInputFlow)
	const value = "correct-horse-battery"
	ex := a.run("e2e.sec", "secin", map[string]string{"password": value})
	require.Equal(t, "SUCCESS", state(ex))
	id := ex["id"].(string)
	_, body := a.do("GET", "/api/v1/main/executions/"+id, "", nil)
	_, logs := a.do("GET", "/api/v1/main/logs/"+id, "", nil)
	require.Contains(t, string(logs), "password is ****** / ******")
	require.Contains(t, string(body), `"value":"******"`)
	for _, out := range [][]byte{body, logs} {
		require.NotContains(t, string(out), value)
		require.NotContains(t, string(out), base64.StdEncoding.EncodeToString([]byte(value)))
	}
	require.Equal(t, 0, p.stop(t))
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.IsDir() {
			continue // internal storage's directory: this flow stores no file
		}
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NotContains(t, string(raw), value, "%s holds the SECRET input in clear", f)
	}
}
