package cli

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
)

// serverEnviron is a server's environment as a deployment sets it: its
// configuration, credentials and a few variables meant for flows.
var serverEnviron = []string{
	"KESTRA_SERVER_BASIC_AUTH_USERNAME=admin@example.com",
	"KESTRA_SERVER_BASIC_AUTH_PASSWORD=basic-auth-pw-1234",
	"KESTRA_ENCRYPTION_SECRET_KEY=encryption-key-0123456789abcdefghijkl",
	"KESTRA_CONFIGURATION=kestra: {}",
	"KESTRA_REGION=eu-west",
	"OSPREY_DATA_DIR=/data",
	"AZURE_CLIENT_ID=00000000-0000-0000-0000-000000000000",
	"AZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/tokens/azure-identity-token",
	"SECRET_DB=ZGItcGFzc3dvcmQ=",
	"DATASOURCES_POSTGRES_PASSWORD=pg-pw-5678",
	"ENV_REGION=eu-west",
	"ENV_TEAM=data",
	"ENV_ADMIN_COPY=basic-auth-pw-1234", // a copy of a configured secret
	"PATH=/usr/bin",
}

func TestEnvsExposeOnlyTheFlowsVariables(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prefix string
		want   map[string]any
	}{
		{"default ENV_ prefix", "", map[string]any{"region": "eu-west", "team": "data"}},
		{"Kestra's old prefix keeps its settings out", "KESTRA_", map[string]any{"region": "eu-west"}},
		{"a prefix on a server family exposes nothing of it", "AZURE_", map[string]any{}},
		{"the env secret backend's prefix exposes nothing", "SECRET_", map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Default()
			cfg.Variables.EnvVarsPrefix = tt.prefix
			cfg.Server.BasicAuth.Password = config.NewSecret("basic-auth-pw-1234")
			require.Equal(t, tt.want, envVars(serverEnviron, cfg))
		})
	}
}

// TestFlowsCannotReadTheServersConfiguration renders envs and
// printContext() in a flow run by a server whose environment holds its
// credentials.
func TestFlowsCannotReadTheServersConfiguration(t *testing.T) {
	t.Parallel()
	vars := map[string]string{}
	for _, kv := range serverEnviron {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	sys := startSystem(t, &conformance.Env{Vars: vars}, `
id: peek
namespace: acme
tasks:
  - {id: envs, type: io.kestra.plugin.core.debug.Return, format: "{{ envs }}"}
  - {id: context, type: io.kestra.plugin.core.debug.Return, format: "{{ printContext() }}"}
  - {id: named, type: io.kestra.plugin.core.debug.Return, format: "[{{ envs.server_basic_auth_password ?? '' }}][{{ envs.encryption_secret_key ?? '' }}]"}
`)
	ex := sys.runToEnd(t, "acme", "peek")
	require.Equal(t, flow.StateSuccess, ex.State.Current, "%v", ex.TaskRunList)
	for _, tr := range ex.TaskRunList {
		out := tr.Outputs["value"].(string)
		for _, secret := range []string{"basic-auth-pw-1234", "encryption-key-0123456789", "pg-pw-5678", "ZGItcGFzc3dvcmQ=", "azure-identity-token", "00000000-0000"} {
			require.NotContains(t, out, secret, "task %s", tr.TaskID)
		}
		if tr.TaskID == "named" {
			require.Equal(t, "[][]", out)
		} else {
			require.Contains(t, out, "eu-west", "task %s sees the flow's variables", tr.TaskID)
		}
	}
}
