package taskidentity_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/testkit"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/mask"
	"github.com/ospreyhq/osprey/taskidentity"
)

// fakeCredential hands out a distinct token per call and records the
// scopes asked for.
type fakeCredential struct {
	mu     sync.Mutex
	scopes []string
	exp    time.Time
	err    error
}

func (f *fakeCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return azcore.AccessToken{}, f.err
	}
	f.scopes = append(f.scopes, o.Scopes...)
	return azcore.AccessToken{Token: "eyJ.worker-token-" + o.Scopes[0], ExpiresOn: f.exp}, nil
}

// run is one task run holding a grant: its masker, its log, its variables.
type run struct {
	m       mask.Masker
	mu      sync.Mutex
	lines   []string
	env     map[string]string
	release func()
}

func (r *run) log(level, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, level+" "+msg)
}

func (r *run) logged() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

type fixture struct {
	srv  *taskidentity.Server
	cred *fakeCredential
	proc *testkit.SyncBuffer
}

func start(t *testing.T, pol taskidentity.Policy) *fixture {
	t.Helper()
	f := &fixture{cred: &fakeCredential{exp: time.Unix(1_900_000_000, 0)}, proc: &testkit.SyncBuffer{}}
	f.srv = taskidentity.New(taskidentity.Options{
		Policy: pol, Logger: slog.New(slog.NewJSONHandler(f.proc, nil)),
		Credential: func() (taskidentity.Credential, error) { return f.cred, nil },
	})
	require.NoError(t, f.srv.Start(t.Context()))
	t.Cleanup(func() { require.NoError(t, f.srv.Stop(context.Background())) })
	return f
}

func (f *fixture) grant(t *testing.T, ns string) *run {
	t.Helper()
	r := &run{env: map[string]string{}}
	tr := &flow.TaskRun{ID: "tr-" + ns, Namespace: ns, FlowID: "f", ExecutionID: "ex-1", TaskID: "t"}
	env, release := f.srv.Grant(t.Context(), tr, r.m.Add, r.log)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		r.env[k] = v
	}
	r.release = release
	t.Cleanup(release)
	return r
}

// get sends the App Service request as the SDKs do.
func get(t *testing.T, url, header, query string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"?"+query, nil)
	require.NoError(t, err)
	if header != "" {
		req.Header.Set(taskidentity.HeaderName, header)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out), "%s", b)
	return resp.StatusCode, out
}

const q = "api-version=2019-08-01&resource=https://storage.azure.com"

func TestRequestsRefused(t *testing.T) {
	t.Parallel()
	f := start(t, taskidentity.Policy{"company": {"https://storage.azure.com"}})
	r := f.grant(t, "company.team")
	url, header := r.env[taskidentity.EnvEndpoint], r.env[taskidentity.EnvHeader]
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), "loopback only: %s", url)
	require.Len(t, header, 43, "32 random bytes")

	for _, tc := range []struct {
		name, header, query string
		code                int
		says                string
	}{
		{name: "no header", query: q, code: 401, says: "missing the X-IDENTITY-HEADER header"},
		{name: "wrong header", header: header[:42] + "x", query: q, code: 401, says: "valid only while its task run runs"},
		{name: "old api version", header: header, query: "api-version=2017-09-01&resource=https://storage.azure.com", code: 400, says: "use 2019-08-01"},
		{name: "no resource", header: header, query: "api-version=2019-08-01", code: 400, says: "missing the resource parameter"},
		{name: "audience not allowed", header: header, query: "api-version=2019-08-01&resource=https://management.azure.com/", code: 403,
			says: "namespace company.team may not get Azure tokens for audience https://management.azure.com: add it to osprey.task-identity.audiences.company.team (or to a parent namespace's entry) in the worker's configuration; allowed now: [https://storage.azure.com]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, url, tc.header, tc.query)
			require.Equal(t, tc.code, code)
			require.Contains(t, body["message"], tc.says)
		})
	}
	require.Empty(t, f.cred.scopes, "no refused request reached the worker's credential")
	require.Contains(t, r.logged(), "WARN Azure token refused: namespace company.team may not get Azure tokens for audience https://management.azure.com")
	require.Contains(t, f.proc.String(), `"msg":"task identity token refused"`)
	require.NotContains(t, f.proc.String(), header, "the header is never logged")
}

func TestNamespaceWithNothingAllowed(t *testing.T) {
	t.Parallel()
	f := start(t, taskidentity.Policy{"company": {"https://storage.azure.com"}})
	r := f.grant(t, "other")
	code, body := get(t, r.env[taskidentity.EnvEndpoint], r.env[taskidentity.EnvHeader], q)
	require.Equal(t, http.StatusForbidden, code)
	require.Equal(t, "namespace other may not get Azure tokens for audience https://storage.azure.com: add it to osprey.task-identity.audiences.other "+
		"(or to a parent namespace's entry) in the worker's configuration; it is allowed none now", body["message"])
}

func TestTokenIssuedMaskedAndLogged(t *testing.T) {
	t.Parallel()
	f := start(t, taskidentity.Policy{"company": {"https://storage.azure.com/"}})
	r := f.grant(t, "company.team")
	header := r.env[taskidentity.EnvHeader]
	require.Equal(t, mask.Redacted, r.m.Mask(header), "the header is masked in the task's logs and outputs")

	// Any spelling of the allowed audience, inherited from the parent.
	code, body := get(t, r.env[taskidentity.EnvEndpoint], header, "api-version=2019-08-01&resource=https://Storage.azure.com/")
	require.Equal(t, http.StatusOK, code, body)
	tok := "eyJ.worker-token-https://storage.azure.com/.default"
	require.Equal(t, map[string]any{"access_token": tok, "expires_on": "1900000000", "resource": "https://Storage.azure.com/", "token_type": "Bearer"}, body)
	require.Equal(t, []string{"https://storage.azure.com/.default"}, f.cred.scopes)
	require.Equal(t, "Bearer "+mask.Redacted, r.m.Mask("Bearer "+tok), "the token is masked before the task sees it")

	require.Contains(t, r.logged(), "INFO Azure token issued for audience https://storage.azure.com (expires 2030-03-17T17:46:40Z)")
	proc := f.proc.String()
	for _, want := range []string{`"msg":"task identity token issued"`, `"namespace":"company.team"`, `"flow":"f"`, `"execution":"ex-1"`,
		`"task_run":"tr-company.team"`, `"audience":"https://storage.azure.com"`, `"allowed_by":"company"`} {
		require.Contains(t, proc, want)
	}
	require.NotContains(t, proc, "worker-token", "the token is never logged")
	require.NotContains(t, r.logged(), "worker-token")
	require.NotContains(t, proc, header)
}

func TestHeaderEndsWithItsTaskRun(t *testing.T) {
	t.Parallel()
	f := start(t, taskidentity.Policy{"company": {"https://storage.azure.com"}})
	a, b := f.grant(t, "company"), f.grant(t, "company")
	require.NotEqual(t, a.env[taskidentity.EnvHeader], b.env[taskidentity.EnvHeader], "a header per task run")
	code, _ := get(t, a.env[taskidentity.EnvEndpoint], a.env[taskidentity.EnvHeader], q)
	require.Equal(t, http.StatusOK, code)
	a.release()
	code, body := get(t, a.env[taskidentity.EnvEndpoint], a.env[taskidentity.EnvHeader], q)
	require.Equal(t, http.StatusUnauthorized, code, "an ended task run's header is refused")
	require.Contains(t, body["message"], "valid only while its task run runs")
	code, _ = get(t, b.env[taskidentity.EnvEndpoint], b.env[taskidentity.EnvHeader], q)
	require.Equal(t, http.StatusOK, code, "another task run's header still works")
}

func TestCredentialFailureExplained(t *testing.T) {
	t.Parallel()
	f := start(t, taskidentity.Policy{"company": {"https://storage.azure.com"}})
	f.cred.err = errors.New("AADSTS70021: no matching federated identity record found")
	r := f.grant(t, "company")
	code, body := get(t, r.env[taskidentity.EnvEndpoint], r.env[taskidentity.EnvHeader], q)
	require.Equal(t, http.StatusBadGateway, code)
	require.Contains(t, body["message"], "the worker could not get a token for https://storage.azure.com through its own identity: AADSTS70021")
}

func TestNoEndpointBeforeStart(t *testing.T) {
	t.Parallel()
	s := taskidentity.New(taskidentity.Options{Policy: taskidentity.Policy{"a": {"https://storage.azure.com"}}})
	var m mask.Masker
	env, release := s.Grant(t.Context(), &flow.TaskRun{Namespace: "a"}, m.Add, func(string, string) {})
	release()
	require.Empty(t, env)
	require.NoError(t, s.Stop(t.Context()), "Stop without Start")
}

// TestAzureSDK is the endpoint as the official Go SDK's
// ManagedIdentityCredential sees it from a task's environment.
func TestAzureSDK(t *testing.T) {
	f := start(t, taskidentity.Policy{"company": {"https://vault.azure.net"}})
	r := f.grant(t, "company.team")
	t.Setenv(taskidentity.EnvEndpoint, r.env[taskidentity.EnvEndpoint])
	t.Setenv(taskidentity.EnvHeader, r.env[taskidentity.EnvHeader])
	cred, err := azidentity.NewManagedIdentityCredential(nil)
	require.NoError(t, err)

	tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}})
	require.NoError(t, err)
	require.Equal(t, "eyJ.worker-token-https://vault.azure.net/.default", tok.Token)
	require.Equal(t, time.Unix(1_900_000_000, 0).UTC(), tok.ExpiresOn)

	_, err = cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	require.Error(t, err)
	require.Contains(t, err.Error(), "namespace company.team may not get Azure tokens for audience https://management.azure.com: add it to osprey.task-identity.audiences.company.team")
}
