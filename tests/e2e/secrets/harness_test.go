package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/cli"
	"github.com/ospreyhq/osprey/devkit/azurefake"
	"github.com/ospreyhq/osprey/devkit/testkit"
)

// guideYAML is Kestra's Workload Identity guide, as written there.
const guideYAML = `kestra:
  secret:
    type: azure-key-vault
    azureKeyVault:
      vaultName: my-demo-vault
      workloadIdentityClientId: 00000000-0000-0000-0000-000000000000
`

const clientID = "00000000-0000-0000-0000-000000000000"

// pod is Osprey running as the Helm chart's pod would, with the emulator
// standing in for Entra ID and Key Vault.
type pod struct {
	t       *testing.T
	emu     *azurefake.Emulator
	vault   *azurefake.Vault
	id      *azurefake.Identity
	dir     string
	environ []string
	azure   *http.Client // the pod's view of the network
	api     string
	stderr  *testkit.SyncBuffer
	stdout  *testkit.SyncBuffer
	// responses holds every API response body, for the leak scan.
	mu        sync.Mutex
	responses []string
	stop      func()
}

type podOptions struct {
	role azurefake.Role
	yaml string
	// noTokenFileVar leaves AZURE_FEDERATED_TOKEN_FILE out (a pod without
	// the workload identity label).
	noTokenFileVar bool
	subject        string
	noFederated    bool
	// vaultTenant puts the vault in another tenant than the identity.
	vaultTenant string
	// frozenToken stops the kubelet-like rotation of the token file.
	frozenToken bool
}

// newPod prepares the emulator and the pod's environment without
// starting Osprey.
func newPod(t *testing.T, o podOptions) *pod {
	t.Helper()
	emu := azurefake.Start(t)
	vault, err := emu.AddVault(azurefake.VaultOptions{Name: "my-demo-vault", TenantID: o.vaultTenant})
	require.NoError(t, err)
	id := emu.AddIdentity(azurefake.Identity{Name: "osprey", ClientID: clientID})
	sub := o.subject
	if sub == "" {
		sub = azurefake.Subject("osprey", "osprey")
	}
	if !o.noFederated {
		id.AddFederatedCredential(azurefake.FederatedCredential{Name: "osprey", Issuer: emu.Issuer().URL(), Subject: sub})
	}
	if o.role != "" {
		vault.Assign(o.role, id.ObjectID)
	}
	dir := t.TempDir()
	file, err := emu.WriteTokenFile(azurefake.TokenFileOptions{
		MintOptions:  azurefake.MintOptions{Namespace: "osprey", ServiceAccount: "osprey"},
		Path:         filepath.Join(dir, "azure-identity-token"),
		NoAutoRotate: o.frozenToken,
	})
	require.NoError(t, err)
	if o.yaml == "" {
		o.yaml = guideYAML
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "application.yml"), []byte(o.yaml), 0o600))
	environ := []string{
		"AZURE_CLIENT_ID=" + clientID,
		"AZURE_TENANT_ID=" + id.TenantID,
		"AZURE_AUTHORITY_HOST=" + emu.AuthorityHost(),
	}
	if !o.noTokenFileVar {
		environ = append(environ, "AZURE_FEDERATED_TOKEN_FILE="+file.Path())
	}
	return &pod{
		t: t, emu: emu, vault: vault, id: id, dir: dir, environ: environ,
		azure:  azureDNS(emu, vault),
		stderr: &testkit.SyncBuffer{}, stdout: &testkit.SyncBuffer{},
	}
}

// azureDNS is the pod's view of the network: my-demo-vault.vault.azure.net
// resolves to the emulator's vault, and the emulator's CA is trusted (what
// SSL_CERT_FILE does for a subprocess).
func azureDNS(emu *azurefake.Emulator, vault *azurefake.Vault) *http.Client {
	u, _ := url.Parse(vault.URL())
	tcfg := emu.TLSConfig()
	tcfg.ServerName = "localhost" // the emulator's certificate names loopback only
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{
		Proxy:           nil,
		TLSClientConfig: tcfg,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if strings.HasSuffix(addr, ".vault.azure.net:443") {
				addr = u.Host
			}
			host, _, _ := net.SplitHostPort(addr)
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return nil, fmt.Errorf("test pod: refusing non-loopback address %s", addr)
			}
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// env is the pod's host: its environment, its network to Azure and the
// emulator's clock.
func (p *pod) env(stdout, stderr io.Writer) *cli.Env {
	return &cli.Env{
		Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr, Environ: p.environ,
		AzureTransport: p.azure, Now: p.emu.Clock().Now,
	}
}

// run executes an osprey command in-process with the pod's environment.
func (p *pod) run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = cli.Run(p.t.Context(), p.env(&out, &errb), append([]string{"-c", filepath.Join(p.dir, "application.yml")}, args...))
	return code, out.String(), errb.String()
}

// start runs `osprey server local` and waits for the API, on the port the
// server picked and logged (one picked here could be taken first by
// another package's server, which would then answer in its place).
func (p *pod) start() {
	t := p.t
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done, exited := make(chan int, 1), make(chan struct{})
	go func() {
		done <- cli.Run(ctx, p.env(p.stdout, p.stderr), []string{"-c", filepath.Join(p.dir, "application.yml"), "server", "local",
			"--port", "0", "--management-port", "0",
			"--data-dir", filepath.Join(p.dir, "data"), "--shutdown-grace", "2s"})
		close(exited)
	}()
	addr, err := testkit.APIAddr(p.stderr, exited, 30*time.Second)
	if err != nil {
		cancel()
		t.Fatalf("osprey: %v:\n%s", err, p.stderr.String())
	}
	p.api = "http://" + addr
	var once sync.Once
	p.stop = func() { once.Do(func() { stopServer(t, cancel, done) }) }
	t.Cleanup(p.stop)
	p.wait(done)
}

func stopServer(t *testing.T, cancel func(), done chan int) {
	{
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			buf := make([]byte, 1<<20)
			t.Error("osprey did not stop", string(buf[:runtime.Stack(buf, true)]))
		}
	}
}

func (p *pod) wait(done chan int) {
	t := p.t
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-done:
			t.Fatalf("osprey exited with %d:\n%s", code, p.stderr.String())
		default:
		}
		resp, err := http.Get(p.api + "/api/v1/main/secrets")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("osprey did not start:\n%s", p.stderr.String())
}

// do calls the API and records the response body.
func (p *pod) do(method, path, contentType, body string) (int, string) {
	p.t.Helper()
	req, err := http.NewRequestWithContext(p.t.Context(), method, p.api+path, strings.NewReader(body))
	require.NoError(p.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(p.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(p.t, err)
	p.mu.Lock()
	p.responses = append(p.responses, string(b))
	p.mu.Unlock()
	return resp.StatusCode, string(b)
}

func (p *pod) putSecret(ns, key, value string) {
	p.t.Helper()
	body, _ := json.Marshal(map[string]any{"key": key, "value": value, "description": "e2e", "tags": []map[string]string{{"key": "owner", "value": "e2e"}}})
	code, out := p.do("PUT", "/api/v1/main/namespaces/"+ns+"/secrets", "application/json", string(body))
	require.Equal(p.t, http.StatusOK, code, out)
}

func (p *pod) createFlow(src string) {
	p.t.Helper()
	code, out := p.do("POST", "/api/v1/main/flows", "application/x-yaml", src)
	require.Equal(p.t, http.StatusOK, code, out)
}

// execute runs a flow to its end and returns the execution and its logs.
func (p *pod) execute(ns, id string) (exec map[string]any, logs []map[string]any) {
	p.t.Helper()
	code, out := p.do("POST", "/api/v1/main/executions/"+ns+"/"+id+"?wait=true", "", "")
	require.Equal(p.t, http.StatusOK, code, out)
	require.NoError(p.t, json.Unmarshal([]byte(out), &exec))
	eid := exec["id"].(string)
	code, out = p.do("GET", "/api/v1/main/executions/"+eid, "", "")
	require.Equal(p.t, http.StatusOK, code, out)
	require.NoError(p.t, json.Unmarshal([]byte(out), &exec))
	code, out = p.do("GET", "/api/v1/main/logs/"+eid, "", "")
	require.Equal(p.t, http.StatusOK, code, out)
	require.NoError(p.t, json.Unmarshal([]byte(out), &logs))
	return exec, logs
}

func state(exec map[string]any) string {
	s, _ := exec["state"].(map[string]any)
	c, _ := s["current"].(string)
	return c
}

// admin reads the vault as someone else would (the portal).
func (p *pod) admin() *azsecrets.Client {
	p.t.Helper()
	adm := p.emu.AddIdentity(azurefake.Identity{Name: "admin"})
	adm.AddClientSecret("admin-pw")
	p.vault.Assign(azurefake.RoleAdministrator, adm.ObjectID)
	cred, err := azidentity.NewClientSecretCredential(adm.TenantID, adm.ClientID, "admin-pw",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: p.emu.ClientOptions(), DisableInstanceDiscovery: true})
	require.NoError(p.t, err)
	c, err := azsecrets.NewClient(p.vault.URL(), cred, p.vault.ClientOptions())
	require.NoError(p.t, err)
	return c
}
