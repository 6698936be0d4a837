package secrets

import (
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/azurefake"
	"github.com/ospreyhq/osprey/mask"
)

const logFlow = `id: reads
namespace: %s
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "value {{ secret('%s') }}"
`

func readsFlow(ns, key string) string {
	src := strings.Replace(logFlow, "%s", ns, 1)
	return strings.Replace(src, "%s", key, 1)
}

// With only "Key Vault Secrets User", writes through the API are refused
// with the role to assign.
func TestSecretsUserRoleRefusesWrites(t *testing.T) {
	t.Parallel()
	p := newPod(t, podOptions{role: azurefake.RoleSecretsUser})
	p.start()
	code, body := p.do("PUT", "/api/v1/main/namespaces/company/secrets", "application/json", `{"key":"DB_PASSWORD","value":"never-stored-1"}`)
	require.Equal(t, http.StatusForbidden, code, body)
	require.Contains(t, body, `assign the role \"Key Vault Secrets Officer\"`)
	require.Contains(t, body, "az role assignment create")
	require.NotContains(t, body, "never-stored-1")
	require.NotContains(t, p.stderr.String(), "never-stored-1")
}

// Read-only mode serves secrets created in the portal, found by prefix.
func TestReadOnlyDiscoversOutsideSecrets(t *testing.T) {
	t.Parallel()
	p := newPod(t, podOptions{role: azurefake.RoleSecretsUser, yaml: guideYAML + `    read-only: true
    azure-key-vault:
      filter-on-prefix:
        prefix: ext-
`})
	_, err := p.admin().SetSecret(t.Context(), "ext-DB-PASSWORD", azsecrets.SetSecretParameters{Value: to.Ptr("made-in-portal-42")}, nil)
	require.NoError(t, err)
	p.start()
	p.createFlow(readsFlow("any.team", "DB_PASSWORD"))
	exec, logs := p.execute("any.team", "reads")
	require.Equal(t, "SUCCESS", state(exec), "%v", logs)
	require.Contains(t, logs[0]["message"], "value "+mask.Redacted)

	code, body := p.do("PUT", "/api/v1/main/namespaces/any/secrets", "application/json", `{"key":"K","value":"v-123456"}`)
	require.Equal(t, http.StatusMethodNotAllowed, code)
	require.Contains(t, body, "read-only")
	code, body = p.do("GET", "/api/v1/main/secrets", "", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"readOnly":true`)
	require.Contains(t, body, `"key":"DB_PASSWORD"`)
	p.stop()
	scanForLeaks(t, p, []string{"made-in-portal-42"})
}

// A vault that goes down fails the tasks that need it with a clear error;
// the server keeps serving, warm secrets keep working, and it recovers.
func TestVaultDown(t *testing.T) {
	t.Parallel()
	p := newPod(t, podOptions{role: azurefake.RoleSecretsOfficer})
	p.start()
	p.putSecret("company", "WARM", "warm-value-1")
	p.putSecret("company", "COLD", "cold-value-2")
	p.createFlow(readsFlow("company", "WARM"))
	exec, _ := p.execute("company", "reads")
	require.Equal(t, "SUCCESS", state(exec))

	p.vault.Faults().SetDown(true)
	p.createFlow(strings.Replace(readsFlow("company", "COLD"), "id: reads", "id: cold", 1))
	exec, logs := p.execute("company", "cold")
	require.Equal(t, "FAILED", state(exec))
	require.Contains(t, fmtLogs(logs), "cannot reach Key Vault")
	exec, _ = p.execute("company", "reads")
	require.Equal(t, "SUCCESS", state(exec), "a cached secret still resolves while the vault is down")

	p.vault.Faults().SetDown(false)
	exec, _ = p.execute("company", "cold")
	require.Equal(t, "SUCCESS", state(exec), "the same server recovers with the vault")
}

// A pod without the workload identity label fails at start with the fix.
func TestStartupWithoutWebhook(t *testing.T) {
	t.Parallel()
	p := newPod(t, podOptions{noTokenFileVar: true})
	code, _, stderr := p.run("server", "local", "--port", "0", "--data-dir", t.TempDir())
	require.Equal(t, 1, code)
	require.Contains(t, stderr, `AZURE_FEDERATED_TOKEN_FILE is not set: the pod needs the label azure.workload.identity/use: "true" and a service account annotated azure.workload.identity/client-id`)
}

func fmtLogs(logs []map[string]any) string {
	var b strings.Builder
	for _, l := range logs {
		b.WriteString(l["message"].(string))
		b.WriteByte('\n')
	}
	return b.String()
}
