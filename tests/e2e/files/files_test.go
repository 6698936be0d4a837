package files

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/cli"
	"github.com/ospreyhq/osprey/devkit/azurefake"
	"github.com/ospreyhq/osprey/devkit/testkit"
)

// TestFilesThroughWorkloadIdentity is issue 13's end-to-end case: FILE
// input → shell inputFiles/outputFiles → blob.Upload → List → Download,
// on `server local` whose internal storage is a Blob container, all
// through the pod's workload identity.
func TestFilesThroughWorkloadIdentity(t *testing.T) {
	emu := azurefake.Start(t)
	acct, err := emu.AddStorageAccount(azurefake.StorageAccountOptions{Name: "ospreydata"})
	require.NoError(t, err)
	id := emu.AddIdentity(azurefake.Identity{Name: "osprey"})
	id.AddFederatedCredential(azurefake.FederatedCredential{Name: "osprey", Issuer: emu.Issuer().URL(), Subject: azurefake.Subject("osprey", "osprey")})
	acct.Assign(azurefake.RoleBlobDataContributor, id.ObjectID)
	dir := t.TempDir()
	tokenFile, err := emu.WriteTokenFile(azurefake.TokenFileOptions{
		MintOptions: azurefake.MintOptions{Namespace: "osprey", ServiceAccount: "osprey"},
		Path:        filepath.Join(dir, "azure-identity-token"),
	})
	require.NoError(t, err)
	conf := fmt.Sprintf("kestra:\n  secret:\n    type: env\n  storage:\n    type: azure\n    azure:\n      endpoint: %s\n      container: internal\n", acct.URL())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "application.yml"), []byte(conf), 0o600))
	environ := []string{
		"AZURE_CLIENT_ID=" + id.ClientID, "AZURE_TENANT_ID=" + id.TenantID,
		"AZURE_AUTHORITY_HOST=" + emu.AuthorityHost(), "AZURE_FEDERATED_TOKEN_FILE=" + tokenFile.Path(),
		// A connection string kept as a secret (Kestra's env backend: base64).
		"SECRET_STORAGE_CONN=" + base64.StdEncoding.EncodeToString([]byte(acct.ConnectionString())),
	}
	stdout, stderr := &testkit.SyncBuffer{}, &testkit.SyncBuffer{}
	ctx, cancel := context.WithCancel(t.Context())
	done, exited := make(chan int, 1), make(chan struct{})
	dataDir := filepath.Join(dir, "data")
	go func() {
		done <- cli.Run(ctx, &cli.Env{Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr, Environ: environ, AzureTransport: emu.HTTPClient()},
			[]string{"-c", filepath.Join(dir, "application.yml"), "server", "local", "--port", "0", "--management-port", "0",
				"--data-dir", dataDir, "--shutdown-grace", "2s"})
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("osprey did not stop")
		}
	})
	api := apiOf(t, stderr, exited)
	var responses []string
	call := func(method, path, contentType string, body []byte) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, api+path, bytes.NewReader(body))
		require.NoError(t, err)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		responses = append(responses, string(b))
		return resp.StatusCode, string(b)
	}
	require.Eventually(t, func() bool {
		select {
		case code := <-done:
			t.Fatalf("osprey exited with %d:\n%s", code, stderr.String())
		default:
		}
		resp, err := http.Get(api + "/api/v1/main/flows/search")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}, 15*time.Second, 50*time.Millisecond, "osprey starts")

	blobTask := func(typ string) string {
		return "    type: io.kestra.plugin.azure.storage.blob." + typ + "\n    endpoint: " + acct.URL() + "\n    container: results\n"
	}
	flowSrc := `id: pipeline
namespace: company.team
inputs:
  - id: data
    type: FILE
tasks:
  - id: transform
    type: io.kestra.plugin.scripts.shell.Commands
    inputFiles:
      in.csv: "{{ inputs.data }}"
    outputFiles: ["out.csv"]
    logToFile: true
    commands:
      - tr a-z A-Z < in.csv > out.csv
      - echo "transformed $(wc -l < out.csv) lines"
  - id: upload
` + blobTask("Upload") + `    from: "{{ outputs.transform.outputFiles['out.csv'] }}"
    name: "runs/{{ execution.id }}/out.csv"
  - id: list
` + blobTask("List") + `    prefix: "runs/{{ execution.id }}/"
  - id: download
` + blobTask("Download") + `    name: "{{ outputs.list.blobs[0].name }}"
  - id: check
    type: io.kestra.plugin.core.debug.Return
    format: "{{ fileSize(outputs.download.blob.uri) }}"
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{ outputs.download.blob.uri }}"
    batch:
      rows: 250
    namespace: company.team
    flowId: batch
    inputs:
      rows: "{{ taskrun.items }}"
`
	// The subflow each batch of the downloaded file goes to: it counts its
	// rows and gives back the first.
	batchSrc := `id: batch
namespace: company.team
inputs:
  - id: rows
    type: FILE
tasks:
  - id: count
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(inputs.rows) | trim | split('\n') | length }}"
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: "{{ (read(inputs.rows) | split('\n'))[0] }}"
outputs:
  - id: count
    type: INT
    value: "{{ outputs.count.value }}"
  - id: first
    type: STRING
    value: "{{ outputs.first.value }}"
`
	// The results container exists already, as an operator made it.
	op, owner := operator(t, emu, acct)
	_, err = op.CreateContainer(t.Context(), "results", nil)
	require.NoError(t, err)
	code, out := call(http.MethodPost, "/api/v1/main/flows", "application/x-yaml", []byte(batchSrc))
	require.Equal(t, http.StatusOK, code, out)
	code, out = call(http.MethodPost, "/api/v1/main/flows", "application/x-yaml", []byte(flowSrc))
	require.Equal(t, http.StatusOK, code, out)

	// 10,000 lines: 1,apple … 10000,apple
	var orders strings.Builder
	for i := 1; i <= 10_000; i++ {
		fmt.Fprintf(&orders, "%d,apple\n", i)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("data", "orders.csv")
	require.NoError(t, err)
	_, _ = fw.Write([]byte(orders.String()))
	require.NoError(t, mw.Close())
	code, out = call(http.MethodPost, "/api/v1/main/executions/company.team/pipeline?wait=true", mw.FormDataContentType(), body.Bytes())
	require.Equal(t, http.StatusOK, code, out)
	var ex struct {
		ID    string `json:"id"`
		State struct {
			Current string `json:"current"`
		} `json:"state"`
		TaskRunList []struct {
			TaskID   string         `json:"taskId"`
			Outputs  map[string]any `json:"outputs"`
			Attempts []struct {
				LogFile string `json:"logFile"`
			} `json:"attempts"`
		} `json:"taskRunList"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &ex))
	require.Equal(t, "SUCCESS", ex.State.Current, out+"\n"+stderr.String())
	outputs := map[string]map[string]any{}
	logFile := ""
	for _, tr := range ex.TaskRunList {
		outputs[tr.TaskID] = tr.Outputs
		if tr.TaskID == "transform" {
			logFile = tr.Attempts[0].LogFile
		}
	}
	// the shell task's lines went to its log file, in the Blob container
	code, out = call(http.MethodGet, "/api/v1/main/executions/"+ex.ID+"/file?path="+url.QueryEscape(logFile), "", nil)
	require.Equal(t, http.StatusOK, code, out)
	require.Contains(t, out, "transformed 10000 lines")
	require.Equal(t, fmt.Sprint(orders.Len()), outputs["check"]["value"], "the downloaded file is the uploaded one")
	blob := outputs["upload"]["blob"].(map[string]any)
	require.Equal(t, "runs/"+ex.ID+"/out.csv", blob["name"])
	require.EqualValues(t, orders.Len(), blob["size"])

	// ForEachItem over the downloaded 10,000 lines: 40 batches of 250, one
	// subflow execution each, their outputs merged in batch order.
	require.EqualValues(t, 40, outputs["each_items"]["numberOfBatches"])
	require.EqualValues(t, 40, outputs["each_items"]["iterations"].(map[string]any)["SUCCESS"])
	merged := outputs["each_merge"]["subflowOutputs"].(string)
	code, out = call(http.MethodGet, "/api/v1/main/executions/"+ex.ID+"/file?path="+url.QueryEscape(merged), "", nil)
	require.Equal(t, http.StatusOK, code, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 40)
	total := 0
	for i, l := range lines {
		var o struct {
			Count int    `json:"count"`
			First string `json:"first"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &o), l)
		require.Equal(t, fmt.Sprintf("%d,APPLE", i*250+1), o.First, "batch %d", i+1)
		total += o.Count
	}
	require.Equal(t, 10_000, total, "every line went to one subflow")
	code, out = call(http.MethodGet, "/api/v1/main/executions/search?flowId=batch&size=100", "", nil)
	require.Equal(t, http.StatusOK, code, out)
	var page struct {
		Results []struct {
			ParentID string `json:"parentId"`
			State    struct {
				Current string `json:"current"`
			} `json:"state"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &page))
	require.Len(t, page.Results, 40)
	for _, r := range page.Results {
		require.Equal(t, "SUCCESS", r.State.Current)
		require.Equal(t, ex.ID, r.ParentID)
	}

	// The FILE input lives in the internal container, under Kestra's layout.
	var internal []string
	for _, r := range acct.Requests() {
		if r.Operation == "PutBlob" && strings.HasPrefix(r.Path, "/ospreydata/internal/") {
			internal = append(internal, strings.TrimPrefix(r.Path, "/ospreydata/internal/"))
		}
	}
	require.Contains(t, internal, "main/company/team/pipeline/executions/"+ex.ID+"/inputs/data/orders.csv")
	// and so do ForEachItem's 40 batch files and their list, splits.txt
	batches := 0
	for _, p := range internal {
		if strings.Contains(p, "/executions/"+ex.ID+"/tasks/each_split/") {
			batches++
		}
	}
	require.Equal(t, 41, batches)

	// A flow may still name a credential, from secret(): it is used, and
	// masked wherever it could surface.
	byKey := `id: by-key
namespace: company.team
tasks:
  - id: list
    type: io.kestra.plugin.azure.storage.blob.List
    connectionString: "{{ secret('STORAGE_CONN') }}"
    container: results
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "listed with {{ secret('STORAGE_CONN') }}"
`
	code, out = call(http.MethodPost, "/api/v1/main/flows", "application/x-yaml", []byte(byKey))
	require.Equal(t, http.StatusOK, code, out)
	code, out = call(http.MethodPost, "/api/v1/main/executions/company.team/by-key?wait=true", "", nil)
	require.Equal(t, http.StatusOK, code, out)
	require.Contains(t, out, `"current":"SUCCESS"`)
	require.Equal(t, 1, acct.CountBy("ListBlobs", "sharedkey"))
	var byKeyEx struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &byKeyEx))
	code, byKeyLogs := call(http.MethodGet, "/api/v1/main/logs/"+byKeyEx.ID, "", nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, byKeyLogs, "listed with ******")

	// Every other Blob request came from the pod's identity: no key, no SAS.
	counts := map[string]int{}
	for _, r := range acct.Requests() {
		if r.Caller == "sharedkey" && r.Operation == "ListBlobs" {
			continue
		}
		if r.Caller == owner.ObjectID || r.Operation == "CreateContainer" && r.Caller != id.ObjectID {
			continue
		}
		require.Equal(t, id.ObjectID, r.Caller, "%s %s", r.Operation, r.Path)
		// At start Osprey finds its container missing and creates it.
		if r.Operation != "GetContainerProperties" || r.ErrorCode != "ContainerNotFound" {
			require.Less(t, r.Status, 400, "%s %s answered %d %s", r.Operation, r.Path, r.Status, r.ErrorCode)
		}
		counts[r.Operation]++
	}
	ops := make([]string, 0, len(counts))
	for op, n := range counts {
		ops = append(ops, fmt.Sprintf("%s=%d", op, n))
	}
	sort.Strings(ops)
	t.Logf("Blob requests made by Osprey through workload identity: %s; token exchanges: %d", strings.Join(ops, " "), emu.CountBy("token", id.ClientID))
	require.Equal(t, 2, emu.CountBy("token", id.ClientID), "one token for internal storage, one shared by the Blob tasks")

	// Leak scan: the service-account token, any Entra access token (a JWT)
	// and the account key appear nowhere Osprey writes.
	sa, err := os.ReadFile(tokenFile.Path())
	require.NoError(t, err)
	needles := []string{strings.TrimSpace(string(sa)), acct.Key(), acct.ConnectionString(), "eyJ0eX", "eyJhbG"}
	haystacks := map[string]string{"stdout": stdout.String(), "stderr": stderr.String(), "api responses": strings.Join(responses, "\n")}
	_ = filepath.WalkDir(dataDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			haystacks[p] = string(b)
		}
		return nil
	})
	code, logs := call(http.MethodGet, "/api/v1/main/logs/"+ex.ID, "", nil)
	require.Equal(t, http.StatusOK, code)
	haystacks["execution logs"] = logs
	for where, text := range haystacks {
		for _, n := range needles {
			require.NotContains(t, text, n, "a credential leaked into %s", where)
		}
	}

	// Deleting the execution purges its files from the container.
	code, _ = call(http.MethodDelete, "/api/v1/main/executions/"+ex.ID, "", nil)
	require.Equal(t, http.StatusNoContent, code)
	require.Empty(t, listBlobs(t, op, "internal", "main/company/team/pipeline/executions/"+ex.ID+"/"))
	require.Len(t, listBlobs(t, op, "results", "runs/"+ex.ID+"/"), 1, "the uploaded result is the flow's, not the execution's")
}

// operator is someone else in Azure (the portal, a pipeline) with Owner on
// the account.
func operator(t *testing.T, emu *azurefake.Emulator, acct *azurefake.StorageAccount) (*azblob.Client, *azurefake.Identity) {
	t.Helper()
	id := emu.AddIdentity(azurefake.Identity{Name: "operator"})
	id.AddClientSecret("operator-pw")
	acct.Assign(azurefake.RoleBlobDataOwner, id.ObjectID)
	cred, err := azidentity.NewClientSecretCredential(id.TenantID, id.ClientID, "operator-pw",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: emu.ClientOptions(), DisableInstanceDiscovery: true})
	require.NoError(t, err)
	c, err := azblob.NewClient(acct.URL(), cred, &azblob.ClientOptions{ClientOptions: emu.ClientOptions()})
	require.NoError(t, err)
	return c, id
}

func listBlobs(t *testing.T, c *azblob.Client, containerName, prefix string) []string {
	t.Helper()
	var names []string
	pager := c.NewListBlobsFlatPager(containerName, &azblob.ListBlobsFlatOptions{Prefix: &prefix})
	for pager.More() {
		page, err := pager.NextPage(t.Context())
		require.NoError(t, err)
		for _, b := range page.Segment.BlobItems {
			names = append(names, *b.Name)
		}
	}
	return names
}

// TestBlobTasks runs the other Blob tasks (Copy, Downloads with MOVE,
// Delete, DeleteList) through the pod's identity, and a refusal that says
// which role is missing.
func TestBlobTasks(t *testing.T) {
	emu := azurefake.Start(t)
	acct, err := emu.AddStorageAccount(azurefake.StorageAccountOptions{Name: "ospreyblobs"})
	require.NoError(t, err)
	bare, err := emu.AddStorageAccount(azurefake.StorageAccountOptions{Name: "norole"})
	require.NoError(t, err)
	id := emu.AddIdentity(azurefake.Identity{Name: "osprey"})
	id.AddFederatedCredential(azurefake.FederatedCredential{Name: "osprey", Issuer: emu.Issuer().URL(), Subject: azurefake.Subject("osprey", "osprey")})
	acct.Assign(azurefake.RoleBlobDataContributor, id.ObjectID)
	dir := t.TempDir()
	tokenFile, err := emu.WriteTokenFile(azurefake.TokenFileOptions{
		MintOptions: azurefake.MintOptions{Namespace: "osprey", ServiceAccount: "osprey"},
		Path:        filepath.Join(dir, "azure-identity-token"),
	})
	require.NoError(t, err)
	op, _ := operator(t, emu, acct)
	for _, c := range []string{"inbox", "archive"} {
		_, err := op.CreateContainer(t.Context(), c, nil)
		require.NoError(t, err)
	}
	for _, n := range []string{"batch/a.csv", "batch/b.csv", "batch/skip.txt", "tmp/1", "tmp/2", "keep"} {
		_, err := op.UploadBuffer(t.Context(), "inbox", n, []byte("content of "+n), nil)
		require.NoError(t, err)
	}
	environ := []string{
		"AZURE_CLIENT_ID=" + id.ClientID, "AZURE_TENANT_ID=" + id.TenantID,
		"AZURE_AUTHORITY_HOST=" + emu.AuthorityHost(), "AZURE_FEDERATED_TOKEN_FILE=" + tokenFile.Path(),
	}
	stderr := &testkit.SyncBuffer{}
	ctx, cancel := context.WithCancel(t.Context())
	done, exited := make(chan int, 1), make(chan struct{})
	go func() {
		done <- cli.Run(ctx, &cli.Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: stderr, Environ: environ, AzureTransport: emu.HTTPClient()},
			[]string{"server", "local", "--port", "0", "--management-port", "0", "--data-dir", filepath.Join(dir, "data"), "--shutdown-grace", "2s"})
		close(exited)
	}()
	t.Cleanup(func() { cancel(); <-done })
	api := apiOf(t, stderr, exited)
	require.Eventually(t, func() bool {
		resp, err := http.Get(api + "/api/v1/main/flows/search")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}, 15*time.Second, 50*time.Millisecond, "the API did not answer; server log:\n%s", stderr)
	conn := "    endpoint: " + acct.URL() + "\n"
	src := `id: blobs
namespace: company.team
tasks:
  - id: copy
    type: io.kestra.plugin.azure.storage.blob.Copy
` + conn + `    from: {container: inbox, name: keep}
    to: {container: archive, name: kept}
  - id: downloads
    type: io.kestra.plugin.azure.storage.blob.Downloads
` + conn + `    container: inbox
    prefix: batch/
    regexp: ".*\\.csv"
    action: MOVE
    moveTo: {container: archive, name: done}
  - id: delete
    type: io.kestra.plugin.azure.storage.blob.Delete
` + conn + `    container: inbox
    name: keep
  - id: deleteList
    type: io.kestra.plugin.azure.storage.blob.DeleteList
` + conn + `    container: inbox
    prefix: tmp/
  - id: check
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.downloads.blobs | length }} {{ read(outputs.downloads.outputFiles['batch/b.csv']) }} {{ outputs.deleteList.count }} {{ outputs.copy.blob.name }}"
`
	post := func(path, ct, body string) (int, string) {
		resp, err := http.Post(api+path, ct, strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, out := post("/api/v1/main/flows", "application/x-yaml", src)
	require.Equal(t, http.StatusOK, code, out)
	code, out = post("/api/v1/main/executions/company.team/blobs?wait=true", "", "")
	require.Equal(t, http.StatusOK, code, out)
	require.Contains(t, out, `"current":"SUCCESS"`, out)
	require.Contains(t, out, `"value":"2 content of batch/b.csv 2 kept"`)
	require.Equal(t, []string{"batch/skip.txt"}, listBlobs(t, op, "inbox", ""), "csv files moved, keep deleted, tmp/ deleted")
	require.Equal(t, []string{"done/batch/a.csv", "done/batch/b.csv", "kept"}, listBlobs(t, op, "archive", ""))

	// Where the identity holds no role, the task says which one to assign.
	refused := "id: refused\nnamespace: company.team\ntasks:\n  - id: list\n    type: io.kestra.plugin.azure.storage.blob.List\n    endpoint: " + bare.URL() + "\n    container: any\n"
	code, out = post("/api/v1/main/flows", "application/x-yaml", refused)
	require.Equal(t, http.StatusOK, code, out)
	code, out = post("/api/v1/main/executions/company.team/refused?wait=true", "", "")
	require.Equal(t, http.StatusOK, code, out)
	require.Contains(t, out, `"current":"FAILED"`)
	var ex struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &ex))
	resp, err := http.Get(api + "/api/v1/main/logs/" + ex.ID)
	require.NoError(t, err)
	logs, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(logs), "AuthorizationPermissionMismatch")
	require.Contains(t, string(logs), "Storage Blob Data Contributor")
	require.Contains(t, string(logs), id.ClientID)
}

// TestDoctorChecksStorage runs `osprey secrets doctor` in the pod: it
// reaches the storage container through the pod's identity, and without
// the role says which one to assign.
func TestDoctorChecksStorage(t *testing.T) {
	emu := azurefake.Start(t)
	acct, err := emu.AddStorageAccount(azurefake.StorageAccountOptions{Name: "doctored"})
	require.NoError(t, err)
	id := emu.AddIdentity(azurefake.Identity{Name: "osprey"})
	id.AddFederatedCredential(azurefake.FederatedCredential{Name: "osprey", Issuer: emu.Issuer().URL(), Subject: azurefake.Subject("osprey", "osprey")})
	dir := t.TempDir()
	tokenFile, err := emu.WriteTokenFile(azurefake.TokenFileOptions{
		MintOptions: azurefake.MintOptions{Namespace: "osprey", ServiceAccount: "osprey"},
		Path:        filepath.Join(dir, "azure-identity-token"),
	})
	require.NoError(t, err)
	conf := filepath.Join(dir, "application.yml")
	require.NoError(t, os.WriteFile(conf, []byte("kestra:\n  storage:\n    type: azure\n    azure:\n      endpoint: "+acct.URL()+"\n      container: flows\n"), 0o600))
	run := func() (int, string) {
		var out, errb bytes.Buffer
		code := cli.Run(t.Context(), &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, AzureTransport: emu.HTTPClient(), Environ: []string{
			"AZURE_CLIENT_ID=" + id.ClientID, "AZURE_TENANT_ID=" + id.TenantID,
			"AZURE_AUTHORITY_HOST=" + emu.AuthorityHost(), "AZURE_FEDERATED_TOKEN_FILE=" + tokenFile.Path(),
		}}, []string{"-c", conf, "secrets", "doctor", "--data-dir", filepath.Join(dir, "data")})
		return code, out.String()
	}
	code, out := run()
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "FAIL  storage: azure, container flows at "+acct.URL()+", credential entra/workload-identity")
	require.Contains(t, out, "Storage Blob Data Contributor")

	acct.Assign(azurefake.RoleBlobDataContributor, id.ObjectID)
	code, out = run()
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "PASS  storage: azure, container flows")
	require.Contains(t, out, "PASS  storage write: a probe file was written, read back and deleted")
	require.Equal(t, 1, acct.CountBy("CreateContainer", id.ObjectID), "the missing container was created once the role allowed it")
}

// TestBlobTrigger starts an execution when a blob lands in a watched
// container: the blob is downloaded into internal storage for the flow to
// read, and deleted from the container.
func TestBlobTrigger(t *testing.T) {
	emu := azurefake.Start(t)
	acct, err := emu.AddStorageAccount(azurefake.StorageAccountOptions{Name: "watched"})
	require.NoError(t, err)
	id := emu.AddIdentity(azurefake.Identity{Name: "osprey"})
	id.AddFederatedCredential(azurefake.FederatedCredential{Name: "osprey", Issuer: emu.Issuer().URL(), Subject: azurefake.Subject("osprey", "osprey")})
	acct.Assign(azurefake.RoleBlobDataContributor, id.ObjectID)
	dir := t.TempDir()
	tokenFile, err := emu.WriteTokenFile(azurefake.TokenFileOptions{
		MintOptions: azurefake.MintOptions{Namespace: "osprey", ServiceAccount: "osprey"},
		Path:        filepath.Join(dir, "azure-identity-token"),
	})
	require.NoError(t, err)
	op, _ := operator(t, emu, acct)
	_, err = op.CreateContainer(t.Context(), "drop", nil)
	require.NoError(t, err)
	environ := []string{
		"AZURE_CLIENT_ID=" + id.ClientID, "AZURE_TENANT_ID=" + id.TenantID,
		"AZURE_AUTHORITY_HOST=" + emu.AuthorityHost(), "AZURE_FEDERATED_TOKEN_FILE=" + tokenFile.Path(),
	}
	serverLog := &testkit.SyncBuffer{}
	ctx, cancel := context.WithCancel(t.Context())
	done, exited := make(chan int, 1), make(chan struct{})
	go func() {
		done <- cli.Run(ctx, &cli.Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: serverLog, Environ: environ, AzureTransport: emu.HTTPClient()},
			[]string{"server", "local", "--port", "0", "--management-port", "0", "--data-dir", filepath.Join(dir, "data"), "--shutdown-grace", "2s"})
		close(exited)
	}()
	t.Cleanup(func() { cancel(); <-done })
	api := apiOf(t, serverLog, exited)
	require.Eventually(t, func() bool {
		resp, err := http.Get(api + "/api/v1/main/flows/search")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}, 15*time.Second, 50*time.Millisecond)
	src := `id: on-drop
namespace: company.team
tasks:
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.blobs | length }}:{{ read(trigger.blobs[0].uri) }}"
triggers:
  - id: watch
    type: io.kestra.plugin.azure.storage.blob.Trigger
    endpoint: ` + acct.URL() + `
    container: drop
    prefix: incoming/
    interval: PT1S
    action: DELETE
`
	resp, err := http.Post(api+"/api/v1/main/flows", "application/x-yaml", strings.NewReader(src))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	_, err = op.UploadBuffer(t.Context(), "drop", "incoming/report.csv", []byte("a,b"), nil)
	require.NoError(t, err)

	var found []map[string]any
	require.Eventually(t, func() bool {
		resp, err := http.Get(api + "/api/v1/main/executions/search?namespace=company.team&flowId=on-drop")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var page struct {
			Results []map[string]any `json:"results"`
		}
		if json.NewDecoder(resp.Body).Decode(&page) != nil || len(page.Results) == 0 {
			return false
		}
		found = page.Results
		st, _ := page.Results[0]["state"].(map[string]any)
		return st["current"] == "SUCCESS"
	}, 30*time.Second, 200*time.Millisecond, "the drop starts an execution")
	require.Len(t, found, 1, "the blob is deleted after the first poll: one execution")
	runs := found[0]["taskRunList"].([]any)
	out := runs[0].(map[string]any)["outputs"].(map[string]any)
	require.Equal(t, "1:a,b", out["value"])
	require.Empty(t, listBlobs(t, op, "drop", ""), "action DELETE removed the blob")
}

// apiOf waits until the server whose log is log, started with --port 0,
// says where its API listens, and returns its base URL: a port picked by
// the test could be taken first by another package's server, which would
// then answer in its place.
func apiOf(t testing.TB, log fmt.Stringer, exited <-chan struct{}) string {
	t.Helper()
	addr, err := testkit.APIAddr(log, exited, 30*time.Second)
	if err != nil {
		t.Fatalf("osprey: %v:\n%s", err, log)
	}
	return "http://" + addr
}
