package redteam

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/cli"
	"github.com/ospreyhq/osprey/devkit/azurefake"
)

const kvClientID = "00000000-0000-0000-0000-000000000000"

// TestRedTeamKeyVault runs a group of the attacks with the secrets in
// Azure Key Vault (the emulator over HTTPS), reached through Workload
// Identity as on AKS: the values come from the vault, and the same scan
// finds none of them.
func TestRedTeamKeyVault(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the Key Vault group starts the Azure emulator; -short skips it")
	}
	needShellTools(t)
	emu := azurefake.Start(t)
	vault, err := emu.AddVault(azurefake.VaultOptions{Name: "redteam-vault"})
	require.NoError(t, err)
	id := emu.AddIdentity(azurefake.Identity{Name: "osprey", ClientID: kvClientID})
	id.AddFederatedCredential(azurefake.FederatedCredential{Name: "osprey", Issuer: emu.Issuer().URL(), Subject: azurefake.Subject("osprey", "osprey")})
	vault.Assign(azurefake.RoleSecretsOfficer, id.ObjectID)
	dir := t.TempDir()
	token, err := emu.WriteTokenFile(azurefake.TokenFileOptions{
		MintOptions: azurefake.MintOptions{Namespace: "osprey", ServiceAccount: "osprey"},
		Path:        filepath.Join(dir, "azure-identity-token"),
	})
	require.NoError(t, err)
	cfg := filepath.Join(dir, "application.yml")
	require.NoError(t, os.WriteFile(cfg, []byte("kestra:\n  secret:\n    type: azure-key-vault\n    azureKeyVault:\n      vaultName: redteam-vault\n      workloadIdentityClientId: "+kvClientID+"\n"), 0o600))
	s := startInProcess(t, &cli.Env{
		Environ: []string{
			"AZURE_CLIENT_ID=" + kvClientID, "AZURE_TENANT_ID=" + id.TenantID, "AZURE_AUTHORITY_HOST=" + emu.AuthorityHost(),
			"AZURE_FEDERATED_TOKEN_FILE=" + token.Path(), "KESTRA_ENCRYPTION_SECRET_KEY=" + encryptionKey,
		},
		AzureTransport: vaultDNS(emu, vault),
		Now:            emu.Clock().Now,
	}, cfg)
	for k, v := range guarded {
		body, _ := json.Marshal(map[string]any{"key": k, "value": v})
		code, out := s.do("PUT", "/api/v1/main/namespaces/redteam/secrets", "application/json", string(body))
		require.Equal(t, http.StatusOK, code, out)
	}
	var group []attack
	for _, a := range attacks() {
		// every channel once or more, and the transforms that need the
		// value's shape (lines, JSON leaves, offsets)
		if a.residual == "" && !a.isolation && (a.channel != "log" || slices.Contains([]string{"raw", "base64 at offset 1", "PEM split by line", "JSON jq number leaf", "double base64 at offsets"}, a.how)) &&
			(a.channel != "shell" || slices.Contains([]string{"hexdump -C", "PEM base64 wrapped at 76", "xxd -u -p"}, a.how)) {
			group = append(group, a)
		}
	}
	require.Len(t, group, 43, "docs/security.md counts the Key Vault group")
	outs := runAttacks(t, s, group)
	for _, o := range outs {
		require.Empty(t, o.found, "%s: %s through %s leaked", o.attack.id, o.attack.how, o.attack.channel)
	}
	scanServer(t, s)
	// the vault really served them: the secrets are there, under Osprey's names
	code, out := s.do("GET", "/api/v1/main/namespaces/redteam/secrets", "", "")
	require.Equal(t, http.StatusOK, code, out)
	for k := range guarded {
		require.Contains(t, out, `"`+k+`"`)
	}
}

// vaultDNS resolves *.vault.azure.net to the emulator and trusts its CA.
func vaultDNS(emu *azurefake.Emulator, vault *azurefake.Vault) *http.Client {
	u, _ := url.Parse(vault.URL())
	tcfg := emu.TLSConfig()
	tcfg.ServerName = "localhost"
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: tcfg,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if strings.HasSuffix(addr, ".vault.azure.net:443") {
				addr = u.Host
			}
			host, _, _ := net.SplitHostPort(addr)
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return nil, fmt.Errorf("redteam: refusing non-loopback address %s", addr)
			}
			return d.DialContext(ctx, network, addr)
		},
	}}
}
