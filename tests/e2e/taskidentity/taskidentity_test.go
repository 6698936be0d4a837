package taskidentity

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/cli"
	"github.com/ospreyhq/osprey/devkit/azurefake"
	"github.com/ospreyhq/osprey/devkit/testkit"
	"github.com/ospreyhq/osprey/mask"
	"github.com/ospreyhq/osprey/taskproc"
)

const (
	clientID    = "00000000-0000-0000-0000-000000000000"
	secretName  = "warehouse-password"
	secretValue = "s3cr3t-from-the-vault"
)

// config allows the vault's and storage's audiences to company (and so
// company.team), and only the vault's to other; task processes may read the probe and the
// emulator's CA.
const config = `osprey:
  task-identity:
    audiences:
      company: [https://vault.azure.net, https://storage.azure.com]
      other: [https://vault.azure.net]
  tasks:
    read-paths: [%q, %q]
`

// TestScriptReachesAzureThroughTaskIdentity is issue 13's Done means 4: a
// shell task's Go program authenticates with
// azidentity.ManagedIdentityCredential through the task's endpoint, lists
// a Blob container with azblob and reads a Key Vault secret; it sees no AZURE_* variable, the token and the header
// come out masked, every issuance is logged without the token, and a
// namespace without the audience gets a refusal that names the key to set.
func TestScriptReachesAzureThroughTaskIdentity(t *testing.T) {
	emu := azurefake.Start(t)
	vault, err := emu.AddVault(azurefake.VaultOptions{Name: "my-demo-vault"})
	require.NoError(t, err)
	id := emu.AddIdentity(azurefake.Identity{Name: "osprey", ClientID: clientID})
	id.AddFederatedCredential(azurefake.FederatedCredential{Name: "osprey", Issuer: emu.Issuer().URL(), Subject: azurefake.Subject("osprey", "osprey")})
	vault.Assign(azurefake.RoleSecretsUser, id.ObjectID)
	seed(t, emu, vault)
	acct, err := emu.AddStorageAccount(azurefake.StorageAccountOptions{Name: "ospreydata"})
	require.NoError(t, err)
	acct.Assign(azurefake.RoleBlobDataReader, id.ObjectID)
	seedBlob(t, emu, acct)

	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "token"), 0o700))
	tokenFile, err := emu.WriteTokenFile(azurefake.TokenFileOptions{
		MintOptions: azurefake.MintOptions{Namespace: "osprey", ServiceAccount: "osprey"},
		Path:        filepath.Join(dir, "token", "azure-identity-token"),
	})
	require.NoError(t, err)
	pod := []string{
		"AZURE_CLIENT_ID=" + clientID,
		"AZURE_TENANT_ID=" + id.TenantID,
		"AZURE_AUTHORITY_HOST=" + emu.AuthorityHost(),
		"AZURE_FEDERATED_TOKEN_FILE=" + tokenFile.Path(),
	}
	// The worker process itself carries the webhook's variables, as in
	// the pod: a task must not inherit them.
	for _, kv := range pod {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	probe := buildProbe(t, dir)
	cfg := fmt.Sprintf(config, filepath.Dir(probe), filepath.Dir(emu.CAFile()))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "application.yml"), []byte(cfg), 0o600))

	srv := startServer(t, dir, &cli.Env{Stdin: strings.NewReader(""), Environ: pod, AzureTransport: emu.Transport(false)})
	for _, ns := range []string{"company.team", "other"} {
		srv.createFlow(fmt.Sprintf(`id: probe
namespace: %s
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    env:
      SSL_CERT_FILE: %q
      VAULT_URL: %q
      SECRET_NAME: %s
      POD_TOKEN_FILE: %q
      STORAGE_URL: %q
      CONTAINER: data
    commands:
      - %q
`, ns, emu.CAFile(), vault.URL(), secretName, tokenFile.Path(), acct.URL(), probe))
	}

	exec, logs := srv.execute("company.team", "probe")
	require.Equal(t, "SUCCESS", state(exec), logs)
	digest := fmt.Sprintf("%x", sha256.Sum256([]byte(secretValue)))
	require.Contains(t, logs, "blob reports/2026.csv", "the program listed the container through the task's identity")
	require.Contains(t, logs, "Azure token issued for audience https://storage.azure.com")
	require.Contains(t, logs, "secret sha256 "+digest, "the program read the secret through the task's identity")
	require.Contains(t, logs, "token: "+mask.Redacted, "the token the program printed is masked")
	require.Contains(t, logs, "identity header: "+mask.Redacted, "the per-run header is masked")
	require.Contains(t, logs, "azure variables: 0 []", "the task sees none of the pod's AZURE_* variables")
	require.NotContains(t, logs, tokenFile.Path()+"\n")
	require.Contains(t, logs, "Azure token issued for audience https://vault.azure.net")
	require.NotContains(t, logs, "eyJ", "no JWT in the task's log")

	confined := strings.Contains(logs, "token file readable: false")

	exec, logs = srv.execute("other", "probe")
	require.Equal(t, "FAILED", state(exec))
	require.Contains(t, logs, "namespace other may not get Azure tokens for audience https://storage.azure.com: "+
		"add it to osprey.task-identity.audiences.other (or to a parent namespace's entry) in the worker's configuration; allowed now: [https://vault.azure.net]")
	require.NotContains(t, logs, "blob reports/2026.csv")

	proc := srv.stdout.String() + srv.stderr.String()
	require.Contains(t, proc, "task identity token issued")
	require.Contains(t, proc, "task identity token refused")
	for _, want := range []string{"namespace=company.team", "flow=probe", "audience=https://vault.azure.net", "allowed_by=company"} {
		require.Contains(t, proc, want)
	}
	require.NotContains(t, proc, "eyJ", "no JWT in the server's log")
	require.Equal(t, 2, emu.CountBy("token", clientID), "the worker exchanged the pod's token once per audience; the task never did")

	if abi, err := taskproc.ABI(); abi < 1 {
		t.Skipf("this kernel cannot confine task processes (%v): the token file check needs Landlock", err)
	}
	require.True(t, confined, "the task cannot read the pod's federated token")
}

// seed writes the secret as an administrator would.
func seed(t *testing.T, emu *azurefake.Emulator, vault *azurefake.Vault) {
	t.Helper()
	adm := emu.AddIdentity(azurefake.Identity{Name: "admin"})
	adm.AddClientSecret("admin-pw")
	vault.Assign(azurefake.RoleAdministrator, adm.ObjectID)
	cred, err := azidentity.NewClientSecretCredential(adm.TenantID, adm.ClientID, "admin-pw",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: emu.ClientOptions(), DisableInstanceDiscovery: true})
	require.NoError(t, err)
	c, err := azsecrets.NewClient(vault.URL(), cred, vault.ClientOptions())
	require.NoError(t, err)
	v := secretValue
	_, err = c.SetSecret(t.Context(), secretName, azsecrets.SetSecretParameters{Value: &v}, nil)
	require.NoError(t, err)
}

// seedBlob writes a blob as the account's owner would, with its key.
func seedBlob(t *testing.T, emu *azurefake.Emulator, acct *azurefake.StorageAccount) {
	t.Helper()
	c, err := azblob.NewClientFromConnectionString(acct.ConnectionString(), &azblob.ClientOptions{ClientOptions: emu.ClientOptions()})
	require.NoError(t, err)
	_, err = c.CreateContainer(t.Context(), "data", nil)
	require.NoError(t, err)
	_, err = c.UploadBuffer(t.Context(), "data", "reports/2026.csv", []byte("a,b\n1,2\n"), nil)
	require.NoError(t, err)
}

// buildProbe compiles testdata/azprobe, the flow author's program.
func buildProbe(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "bin", "azprobe")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/azprobe")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

type server struct {
	t              *testing.T
	api            string
	stdout, stderr *testkit.SyncBuffer
}

// startServer runs `osprey server local` in-process with env as the host.
func startServer(t *testing.T, dir string, env *cli.Env) *server {
	t.Helper()
	s := &server{t: t, stdout: &testkit.SyncBuffer{}, stderr: &testkit.SyncBuffer{}}
	env.Stdout, env.Stderr = s.stdout, s.stderr
	ctx, cancel := context.WithCancel(t.Context())
	done, exited := make(chan int, 1), make(chan struct{})
	go func() {
		done <- cli.Run(ctx, env, []string{"-c", filepath.Join(dir, "application.yml"), "server", "local",
			"--port", "0", "--management-port", "0",
			"--data-dir", filepath.Join(dir, "data"), "--shutdown-grace", "2s"})
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("osprey did not stop")
		}
	})
	// The port the server picked and logged: one picked here could be
	// taken first by another package's server, which would answer instead.
	addr, err := testkit.APIAddr(s.stderr, exited, 30*time.Second)
	require.NoError(t, err, s.stderr.String())
	s.api = "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case code := <-done:
			t.Fatalf("osprey exited with %d:\n%s", code, s.stderr.String())
		default:
		}
		resp, err := http.Get(s.api + "/api/v1/main/flows/search")
		if err == nil {
			resp.Body.Close()
			return s
		}
		require.True(t, time.Now().Before(deadline), "osprey did not start:\n%s", s.stderr.String())
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) do(method, path, contentType, body string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequestWithContext(s.t.Context(), method, s.api+path, strings.NewReader(body))
	require.NoError(s.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp.StatusCode, string(b)
}

func (s *server) createFlow(src string) {
	s.t.Helper()
	code, out := s.do("POST", "/api/v1/main/flows", "application/x-yaml", src)
	require.Equal(s.t, http.StatusOK, code, out)
}

// execute runs a flow to its end; it returns the execution and its log
// lines joined.
func (s *server) execute(ns, id string) (map[string]any, string) {
	s.t.Helper()
	code, out := s.do("POST", "/api/v1/main/executions/"+ns+"/"+id+"?wait=true", "", "")
	require.Equal(s.t, http.StatusOK, code, out)
	var exec map[string]any
	require.NoError(s.t, json.Unmarshal([]byte(out), &exec))
	eid := exec["id"].(string)
	code, out = s.do("GET", "/api/v1/main/executions/"+eid, "", "")
	require.Equal(s.t, http.StatusOK, code, out)
	require.NoError(s.t, json.Unmarshal([]byte(out), &exec))
	code, out = s.do("GET", "/api/v1/main/logs/"+eid, "", "")
	require.Equal(s.t, http.StatusOK, code, out)
	var logs []map[string]any
	require.NoError(s.t, json.Unmarshal([]byte(out), &logs))
	var lines []string
	for _, l := range logs {
		lines = append(lines, fmt.Sprint(l["message"]))
	}
	return exec, strings.Join(lines, "\n")
}

func state(exec map[string]any) string {
	st, _ := exec["state"].(map[string]any)
	c, _ := st["current"].(string)
	return c
}
