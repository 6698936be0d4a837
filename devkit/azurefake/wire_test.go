package azurefake_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/azurefake"
)

// example is one of Microsoft's published Key Vault REST API examples
// (testdata/examples, see SOURCE.md).
type example struct {
	Parameters map[string]any `json:"parameters"`
	Responses  map[string]struct {
		Body any `json:"body"`
	} `json:"responses"`
}

func loadExample(t *testing.T, name string) (ex example, status int, body any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "examples", name+"-example.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &ex))
	require.Len(t, ex.Responses, 1)
	for code, r := range ex.Responses {
		status, err = strconv.Atoi(code)
		require.NoError(t, err)
		body = r.Body
	}
	return ex, status, body
}

// optionalFields are fields the emulator sends that a given example happens
// not to show; all are part of the published models (SecretBundle,
// SecretItem, SecretAttributes).
var optionalFields = []string{"recoverableDays", "recoveryLevel", "contentType", "tags", "nextLink"}

// conforms checks that got has every field of want with the same JSON kind,
// recursively, and nothing beyond want's fields and optionalFields.
func conforms(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		require.True(t, ok, "%s: want an object, got %T", path, got)
		for k, wv := range w {
			gv, ok := g[k]
			require.True(t, ok, "%s.%s missing", path, k)
			conforms(t, path+"."+k, wv, gv)
		}
		for k := range g {
			_, known := w[k]
			require.True(t, known || slices.Contains(optionalFields, k), "%s.%s is not in the published shape", path, k)
		}
	case []any:
		g, ok := got.([]any)
		require.True(t, ok, "%s: want an array, got %T", path, got)
		require.NotEmpty(t, g, path)
		if len(w) > 0 {
			conforms(t, path+"[0]", w[0], g[0])
		}
	default:
		require.IsType(t, want, got, path)
	}
}

// idPattern turns an example id into a pattern for this vault: the same
// collection, any secret name, and a 32-hex version where the example has one.
func idPattern(vaultURL, exampleID string) *regexp.Regexp {
	parts := strings.Split(strings.TrimPrefix(exampleID, "https://myvault.vault.azure.net/"), "/")
	pat := regexp.QuoteMeta(vaultURL) + regexp.QuoteMeta(parts[0]) + "/[0-9a-zA-Z-]{1,127}"
	if len(parts) == 3 {
		pat += "/[0-9a-f]{32}"
	}
	return regexp.MustCompile("^" + pat + "$")
}

// checkIDs compares "id" and "recoveryId" values with the example's.
func checkIDs(t *testing.T, vaultURL string, want, got any) {
	t.Helper()
	w, g := want.(map[string]any), got.(map[string]any)
	for _, k := range []string{"id", "recoveryId"} {
		if wv, ok := w[k].(string); ok {
			require.Regexp(t, idPattern(vaultURL, wv), g[k], k)
		}
	}
	if wv, ok := w["value"].([]any); ok {
		checkIDs(t, vaultURL, wv[0], g["value"].([]any)[0])
	}
}

// checkNextLink compares a nextLink with the example's: same path under the
// vault, same query parameters.
func checkNextLink(t *testing.T, vaultURL string, want, got any) {
	t.Helper()
	wl, ok := want.(map[string]any)["nextLink"].(string)
	if !ok {
		return
	}
	gl, ok := got.(map[string]any)["nextLink"].(string)
	require.True(t, ok, "nextLink missing")
	wu, err := url.Parse(wl)
	require.NoError(t, err)
	gu, err := url.Parse(gl)
	require.NoError(t, err)
	require.Equal(t, strings.TrimSuffix(vaultURL, "/")+wu.Path, gu.Scheme+"://"+gu.Host+gu.Path)
	wk, gk := keys(wu.Query()), keys(gu.Query())
	require.Equal(t, wk, gk)
	require.Equal(t, wu.Query().Get("maxresults"), gu.Query().Get("maxresults"))
}

func keys(v url.Values) []string {
	out := make([]string, 0, len(v))
	for k := range v {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestWireShapesMatchPublishedExamples(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app := f.emu.AddIdentity(azurefake.Identity{Name: "wire"})
	app.AddClientSecret("pw")
	f.vault.Assign(azurefake.RoleSecretsOfficer, app.ObjectID)
	cred, err := azidentity.NewClientSecretCredential(app.TenantID, app.ClientID, "pw",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: f.emu.ClientOptions(), DisableInstanceDiscovery: true})
	require.NoError(t, err)
	tok, err := cred.GetToken(t.Context(), vaultScope)
	require.NoError(t, err)
	vault := f.vault.URL()
	do := func(method, path, api, body string) rawResponse {
		return rawDo(t, f.emu, method, vault+path+"?api-version="+api, tok.Token, body)
	}
	params := func(ex example) string {
		b, err := json.Marshal(ex.Parameters["parameters"])
		require.NoError(t, err)
		return string(b)
	}
	compare := func(name string, resp rawResponse, wantStatus int, want any) {
		t.Helper()
		require.Equal(t, wantStatus, resp.status, "%s: %s", name, resp.body)
		if want == nil {
			require.Empty(t, resp.body, name)
			return
		}
		require.True(t, strings.HasPrefix(resp.header.Get("Content-Type"), "application/json"), name)
		var got any
		require.NoError(t, json.Unmarshal([]byte(resp.body), &got), name)
		conforms(t, name, want, got)
		checkIDs(t, vault, want, got)
		checkNextLink(t, vault, want, got)
	}

	ex, status, want := loadExample(t, "SetSecret")
	api := ex.Parameters["api-version"].(string)
	set := do(http.MethodPut, "secrets/crpsecret", api, params(ex))
	compare("SetSecret", set, status, want)
	var created struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(set.body), &created))
	version := created.ID[strings.LastIndex(created.ID, "/")+1:]

	ex, status, want = loadExample(t, "GetSecret")
	got := do(http.MethodPut, "secrets/mysecretname", api, `{"value":"mysecretvalue"}`)
	require.NoError(t, json.Unmarshal([]byte(got.body), &created))
	compare("GetSecret", do(http.MethodGet, "secrets/mysecretname/"+created.ID[strings.LastIndex(created.ID, "/")+1:], ex.Parameters["api-version"].(string), ""), status, want)

	ex, status, want = loadExample(t, "UpdateSecret")
	compare("UpdateSecret", do(http.MethodPatch, "secrets/crpsecret/"+version, ex.Parameters["api-version"].(string), params(ex)), status, want)

	for _, n := range []string{"listsecrettest0"} {
		require.Equal(t, http.StatusOK, do(http.MethodPut, "secrets/"+n, api, `{"value":"v","contentType":"plainText"}`).status)
	}
	ex, status, want = loadExample(t, "GetSecrets")
	list := rawDo(t, f.emu, http.MethodGet, vault+"secrets?api-version=7.5&maxresults=1", tok.Token, "")
	compare("GetSecrets", list, status, want)
	pages := 1
	var page struct{ NextLink *string }
	require.NoError(t, json.Unmarshal([]byte(list.body), &page))
	for page.NextLink != nil {
		next := rawDo(t, f.emu, http.MethodGet, *page.NextLink, tok.Token, "")
		require.Equal(t, http.StatusOK, next.status)
		page.NextLink = nil
		require.NoError(t, json.Unmarshal([]byte(next.body), &page))
		pages++
		require.LessOrEqual(t, pages, 10)
	}
	require.Equal(t, 3, pages, "one secret per page, then nextLink null")

	ex, status, want = loadExample(t, "GetSecretVersions")
	name := ex.Parameters["secret-name"].(string)
	for range 2 {
		require.Equal(t, http.StatusOK, do(http.MethodPut, "secrets/"+name, api, `{"value":"v"}`).status)
	}
	compare("GetSecretVersions", rawDo(t, f.emu, http.MethodGet, vault+"secrets/"+name+"/versions?api-version=7.5&maxresults=1", tok.Token, ""), status, want)

	for _, n := range []string{"GetDeletedSecretTest", "listdeletedsecrettest0", "SecretCreateDeleteRecoverPurgeTest", "testsecret"} {
		require.Equal(t, http.StatusOK, do(http.MethodPut, "secrets/"+n, api, `{"value":"v","contentType":"plainText"}`).status)
	}
	_, status, want = loadExample(t, "DeleteSecret")
	compare("DeleteSecret", do(http.MethodDelete, "secrets/GetDeletedSecretTest", api, ""), status, want)
	_, status, want = loadExample(t, "GetDeletedSecret")
	compare("GetDeletedSecret", do(http.MethodGet, "deletedsecrets/GetDeletedSecretTest", api, ""), status, want)
	for _, n := range []string{"listdeletedsecrettest0", "SecretCreateDeleteRecoverPurgeTest", "testsecret"} {
		require.Equal(t, http.StatusOK, do(http.MethodDelete, "secrets/"+n, api, "").status)
	}
	_, status, want = loadExample(t, "GetDeletedSecrets")
	compare("GetDeletedSecrets", rawDo(t, f.emu, http.MethodGet, vault+"deletedsecrets?api-version=7.5&maxresults=1", tok.Token, ""), status, want)
	_, status, want = loadExample(t, "RecoverDeletedSecret")
	compare("RecoverDeletedSecret", do(http.MethodPost, "deletedsecrets/SecretCreateDeleteRecoverPurgeTest/recover", api, ""), status, want)
	_, status, want = loadExample(t, "PurgeDeletedSecret")
	compare("PurgeDeletedSecret", do(http.MethodDelete, "deletedsecrets/testsecret", api, ""), status, want)
}

// TestErrorBodiesMatchKeyVaultError checks every kind of refusal against the
// published KeyVaultError model: {"error":{"code","message","innererror"}}.
func TestErrorBodiesMatchKeyVaultError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v, err := f.emu.AddVault(azurefake.VaultOptions{Name: "tiny-kv", Limits: azurefake.ThrottleLimits{Operations: 5}})
	require.NoError(t, err)
	reader := f.emu.AddIdentity(azurefake.Identity{})
	reader.AddClientSecret("pw")
	v.Assign(azurefake.RoleSecretsOfficer, f.id.ObjectID)
	cred := f.workloadCred(t)
	tok, err := cred.GetToken(t.Context(), vaultScope)
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join("testdata", "examples", "KeyVaultError-definition.json"))
	require.NoError(t, err)
	var def map[string]struct {
		Properties map[string]any `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(b, &def))

	base := v.URL()
	do := func(method, path, token, body string) rawResponse {
		return rawDo(t, f.emu, method, base+path, token, body)
	}
	require.Equal(t, http.StatusOK, do(http.MethodPut, "secrets/gone?api-version=7.6", tok.Token, `{"value":"v"}`).status)
	require.Equal(t, http.StatusOK, do(http.MethodDelete, "secrets/gone?api-version=7.6", tok.Token, "").status)
	tests := []struct {
		name       string
		resp       rawResponse
		status     int
		code       string
		inner      string
		wantHeader string
	}{
		{name: "no token", resp: do(http.MethodGet, "secrets/x?api-version=7.6", "", ""), status: 401, code: "Unauthorized",
			wantHeader: fmt.Sprintf(`Bearer authorization="%s%s", resource="https://vault.azure.net"`, f.emu.AuthorityHost(), v.TenantID())},
		{name: "not found", resp: do(http.MethodGet, "secrets/x?api-version=7.6", tok.Token, ""), status: 404, code: "SecretNotFound"},
		{name: "bad name", resp: do(http.MethodGet, "secrets/x_y?api-version=7.6", tok.Token, ""), status: 400, code: "BadParameter"},
		{name: "unknown api-version", resp: do(http.MethodGet, "secrets/x?api-version=1.0", tok.Token, ""), status: 400, code: "BadParameter"},
		{name: "deleted name reused", resp: do(http.MethodPut, "secrets/GONE?api-version=7.6", tok.Token, `{"value":"v"}`), status: 409, code: "Conflict", inner: "ObjectIsDeletedButRecoverable"},
		{name: "throttled", resp: do(http.MethodGet, "secrets/x?api-version=7.6", tok.Token, ""), status: 429, code: "Throttled"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.status, tt.resp.status, "%s: %s", tt.name, tt.resp.body)
		var body map[string]map[string]any
		require.NoError(t, json.Unmarshal([]byte(tt.resp.body), &body), tt.name)
		require.Len(t, body, 1)
		e := body["error"]
		for k := range e {
			require.Contains(t, def["Error"].Properties, k, tt.name)
		}
		require.Equal(t, tt.code, e["code"], tt.name)
		require.NotEmpty(t, e["message"], tt.name)
		if tt.inner != "" {
			require.Equal(t, map[string]any{"code": tt.inner}, e["innererror"], tt.name)
		}
		if tt.wantHeader != "" {
			require.Equal(t, tt.wantHeader, tt.resp.header.Get("WWW-Authenticate"))
		}
		if tt.status == http.StatusTooManyRequests {
			require.NotEmpty(t, tt.resp.header.Get("Retry-After"))
		}
	}

	forbidden := rawDo(t, f.emu, http.MethodGet, f.vault.URL()+"secrets/x?api-version=7.6", mustToken(t, f, reader), "")
	require.Equal(t, http.StatusForbidden, forbidden.status)
	var body map[string]map[string]any
	require.NoError(t, json.Unmarshal([]byte(forbidden.body), &body))
	require.Equal(t, "Forbidden", body["error"]["code"])
	require.Equal(t, map[string]any{"code": "ForbiddenByRbac"}, body["error"]["innererror"])
}

func mustToken(t *testing.T, f *fixture, id *azurefake.Identity) string {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(id.TenantID, id.ClientID, "pw",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: f.emu.ClientOptions(), DisableInstanceDiscovery: true})
	require.NoError(t, err)
	tok, err := cred.GetToken(t.Context(), vaultScope)
	require.NoError(t, err)
	return tok.Token
}
