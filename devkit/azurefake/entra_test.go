package azurefake_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/azurefake"
)

var vaultScope = policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}}

// requireAADSTS asserts that err is Entra's refusal with the given code and
// HTTP status, as azidentity reports it.
func requireAADSTS(t *testing.T, err error, code string, status int) {
	t.Helper()
	require.Error(t, err)
	var afe *azidentity.AuthenticationFailedError
	require.True(t, errors.As(err, &afe), "want AuthenticationFailedError, got %T: %v", err, err)
	require.NotNil(t, afe.RawResponse)
	require.Equal(t, status, afe.RawResponse.StatusCode)
	require.Contains(t, err.Error(), code+":")
}

func TestWorkloadIdentityFederation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// adjust the identity's federated credential, token or credential
		fic       func(f *fixture) azurefake.FederatedCredential
		clientID  func(f *fixture) string
		tenantID  func(f *fixture) string
		wantCode  string
		wantHTTP  int
		wantToken bool
	}{
		{name: "exact match", wantToken: true},
		{
			name: "issuer without its trailing slash",
			fic: func(f *fixture) azurefake.FederatedCredential {
				return azurefake.FederatedCredential{Issuer: strings.TrimSuffix(f.emu.Issuer().URL(), "/"), Subject: azurefake.Subject(testNamespace, testSA)}
			},
			wantCode: "AADSTS700211", wantHTTP: http.StatusUnauthorized,
		},
		{
			name: "subject differs in case",
			fic: func(f *fixture) azurefake.FederatedCredential {
				return azurefake.FederatedCredential{Issuer: f.emu.Issuer().URL(), Subject: azurefake.Subject("Osprey", testSA)}
			},
			wantCode: "AADSTS7002138", wantHTTP: http.StatusUnauthorized,
		},
		{
			name: "other service account",
			fic: func(f *fixture) azurefake.FederatedCredential {
				return azurefake.FederatedCredential{Issuer: f.emu.Issuer().URL(), Subject: azurefake.Subject(testNamespace, "other")}
			},
			wantCode: "AADSTS700213", wantHTTP: http.StatusUnauthorized,
		},
		{
			name: "audience differs",
			fic: func(f *fixture) azurefake.FederatedCredential {
				return azurefake.FederatedCredential{Issuer: f.emu.Issuer().URL(), Subject: azurefake.Subject(testNamespace, testSA), Audiences: []string{"api://AzureADTokenExchange/"}}
			},
			wantCode: "AADSTS700212", wantHTTP: http.StatusUnauthorized,
		},
		{
			name:     "unknown client id",
			clientID: func(*fixture) string { return uuid.NewString() },
			wantCode: "AADSTS700016", wantHTTP: http.StatusBadRequest,
		},
		{
			name:     "unknown tenant",
			tenantID: func(*fixture) string { return uuid.NewString() },
			wantCode: "AADSTS90002", wantHTTP: http.StatusBadRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			id := f.id
			if tt.fic != nil {
				id = f.emu.AddIdentity(azurefake.Identity{Name: "other"})
				id.AddFederatedCredential(tt.fic(f))
			}
			clientID, tenantID := id.ClientID, id.TenantID
			if tt.clientID != nil {
				clientID = tt.clientID(f)
			}
			if tt.tenantID != nil {
				tenantID = tt.tenantID(f)
			}
			cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
				ClientOptions: noRetry(f.emu.ClientOptions()), ClientID: clientID, TenantID: tenantID,
				TokenFilePath: f.file.Path(), DisableInstanceDiscovery: true,
			})
			require.NoError(t, err)
			tok, err := cred.GetToken(t.Context(), vaultScope)
			if !tt.wantToken {
				requireAADSTS(t, err, tt.wantCode, tt.wantHTTP)
				return
			}
			require.NoError(t, err)
			claims := jwt.MapClaims{}
			_, _, err = jwt.NewParser().ParseUnverified(tok.Token, claims)
			require.NoError(t, err)
			require.Equal(t, "https://vault.azure.net", claims["aud"])
			require.Equal(t, f.id.TenantID, claims["tid"])
			require.Equal(t, f.id.ObjectID, claims["oid"])
			require.Equal(t, f.id.ClientID, claims["appid"])
			require.WithinDuration(t, f.emu.Clock().Now().Add(time.Hour), tok.ExpiresOn, 5*time.Second)
			reqs := f.emu.TokenRequests()
			require.Len(t, reqs, 1)
			require.Equal(t, f.file.Current().ID, reqs[0].AssertionID, "the token file's assertion was presented")
		})
	}
}

func TestIdentityWithoutFederatedCredentialIsRefused70021(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bare := f.emu.AddIdentity(azurefake.Identity{Name: "bare"})
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: noRetry(f.emu.ClientOptions()), ClientID: bare.ClientID, TenantID: bare.TenantID,
		TokenFilePath: f.file.Path(), DisableInstanceDiscovery: true,
	})
	require.NoError(t, err)
	_, err = cred.GetToken(t.Context(), vaultScope)
	requireAADSTS(t, err, "AADSTS70021", http.StatusUnauthorized)
	require.Contains(t, err.Error(), "Assertion Subject: 'system:serviceaccount:osprey:osprey-worker'")
}

func TestExpiredServiceAccountTokenIsRefused700024(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	stale, err := f.emu.WriteTokenFile(azurefake.TokenFileOptions{
		MintOptions:  azurefake.MintOptions{Namespace: testNamespace, ServiceAccount: testSA, Lifetime: 30 * time.Second},
		Path:         filepath.Join(t.TempDir(), "token"),
		NoAutoRotate: true,
	})
	require.NoError(t, err)
	f.emu.Clock().Advance(31 * time.Second)
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: noRetry(f.emu.ClientOptions()), ClientID: f.id.ClientID, TenantID: f.id.TenantID,
		TokenFilePath: stale.Path(), DisableInstanceDiscovery: true,
	})
	require.NoError(t, err)
	_, err = cred.GetToken(t.Context(), vaultScope)
	requireAADSTS(t, err, "AADSTS700024", http.StatusUnauthorized)
	require.Contains(t, err.Error(), "Client assertion is not within its valid time range")
}

func TestForgedAssertionSignatureIsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	now := f.emu.Clock().Now()
	forged := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": f.emu.Issuer().URL(), "sub": azurefake.Subject(testNamespace, testSA),
		"aud": []string{azurefake.ServiceAccountAudience}, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	signed, err := forged.SignedString(key)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "forged")
	require.NoError(t, os.WriteFile(path, []byte(signed), 0o600))
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: noRetry(f.emu.ClientOptions()), ClientID: f.id.ClientID, TenantID: f.id.TenantID,
		TokenFilePath: path, DisableInstanceDiscovery: true,
	})
	require.NoError(t, err)
	_, err = cred.GetToken(t.Context(), vaultScope)
	requireAADSTS(t, err, "AADSTS700027", http.StatusUnauthorized)
}

func TestClientSecretCredential(t *testing.T) {
	t.Parallel()
	emu := azurefake.Start(t, azurefake.WithAccessTokenLifetime(10*time.Minute))
	app := emu.AddIdentity(azurefake.Identity{Name: "ci"})
	app.AddClientSecret("correct-horse")
	opts := &azidentity.ClientSecretCredentialOptions{ClientOptions: noRetry(emu.ClientOptions()), DisableInstanceDiscovery: true}

	good, err := azidentity.NewClientSecretCredential(app.TenantID, app.ClientID, "correct-horse", opts)
	require.NoError(t, err)
	tok, err := good.GetToken(t.Context(), vaultScope)
	require.NoError(t, err)
	require.WithinDuration(t, emu.Clock().Now().Add(10*time.Minute), tok.ExpiresOn, 5*time.Second, "access token lifetime is settable")
	var keys struct {
		Keys []struct{ Kid, N, E string }
	}
	getJSON(t, emu, emu.AuthorityHost()+app.TenantID+"/discovery/v2.0/keys", &keys)
	require.Len(t, keys.Keys, 1)
	_, err = jwt.Parse(tok.Token, func(tk *jwt.Token) (any, error) {
		require.Equal(t, keys.Keys[0].Kid, tk.Header["kid"])
		return rsaKey(t, keys.Keys[0].N, keys.Keys[0].E), nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience("https://vault.azure.net"),
		jwt.WithIssuer("https://sts.windows.net/"+app.TenantID+"/"), jwt.WithTimeFunc(emu.Clock().Now))
	require.NoError(t, err, "the access token verifies with the tenant's published keys")

	bad, err := azidentity.NewClientSecretCredential(app.TenantID, app.ClientID, "wrong", opts)
	require.NoError(t, err)
	_, err = bad.GetToken(t.Context(), vaultScope)
	requireAADSTS(t, err, "AADSTS7000215", http.StatusUnauthorized)
	require.NotContains(t, err.Error(), "wrong\"", "the presented secret is not echoed")

	require.Equal(t, 2, emu.Count("token"))
	require.Equal(t, 2, emu.CountBy("token", app.ClientID))
}

// TestEntraErrorBody checks the raw shape of an Entra refusal, which
// azidentity surfaces to users verbatim.
func TestEntraErrorBody(t *testing.T) {
	t.Parallel()
	emu := azurefake.Start(t)
	resp, err := emu.HTTPClient().PostForm(emu.AuthorityHost()+emu.TenantID()+"/oauth2/v2.0/token", map[string][]string{
		"grant_type": {"client_credentials"}, "client_id": {uuid.NewString()}, "scope": {"https://vault.azure.net/.default"},
		"client_secret": {"x"}, "client_info": {"1"}, "claims": {`{"access_token":{"xms_cc":{"values":["CP1"]}}}`},
	})
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	for _, k := range []string{"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id"} {
		require.Contains(t, body, k)
	}
	require.Equal(t, "unauthorized_client", body["error"])
	require.Equal(t, []any{float64(700016)}, body["error_codes"])
	require.True(t, strings.HasPrefix(body["error_description"].(string), "AADSTS700016: Application with identifier"))
}

// TestAuthorityHostFromEnvironment uses only the environment a pod with
// Workload Identity gets, as Osprey's production code path does.
func TestAuthorityHostFromEnvironment(t *testing.T) {
	f := newFixture(t)
	t.Setenv("AZURE_AUTHORITY_HOST", f.emu.AuthorityHost())
	t.Setenv("AZURE_CLIENT_ID", f.id.ClientID)
	t.Setenv("AZURE_TENANT_ID", f.id.TenantID)
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", f.file.Path())
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions:            noRetry(azcoreTransportOnly(f)),
		DisableInstanceDiscovery: true,
	})
	require.NoError(t, err)
	_, err = cred.GetToken(t.Context(), vaultScope)
	require.NoError(t, err)
	require.Equal(t, 1, f.emu.CountBy("token", f.id.ClientID))
}

func TestOpenIDDiscovery(t *testing.T) {
	t.Parallel()
	emu := azurefake.Start(t)
	c := emu.HTTPClient()
	get := func(url string) map[string]any {
		t.Helper()
		resp, err := c.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, url)
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return m
	}
	cfg := get(emu.AuthorityHost() + emu.TenantID() + "/v2.0/.well-known/openid-configuration")
	require.Equal(t, emu.AuthorityHost()+emu.TenantID()+"/oauth2/v2.0/token", cfg["token_endpoint"])
	require.Equal(t, emu.AuthorityHost()+emu.TenantID()+"/v2.0", cfg["issuer"])
	inst := get(emu.AuthorityHost() + "common/discovery/instance?api-version=1.1&authorization_endpoint=" + emu.AuthorityHost() + emu.TenantID() + "/oauth2/v2.0/authorize")
	require.Equal(t, emu.AuthorityHost()+emu.TenantID()+"/v2.0/.well-known/openid-configuration", inst["tenant_discovery_endpoint"])
	require.Equal(t, 1, emu.Count("discovery"))

	resp, err := c.Get(emu.AuthorityHost() + uuid.NewString() + "/v2.0/.well-known/openid-configuration")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "unknown tenant")
}

// TestTokenRequestWithCAEClaims sends the fields the Go SDK adds (claims
// with the CP1 capability, client_info) and expects a token.
func TestTokenRequestWithCAEClaims(t *testing.T) {
	t.Parallel()
	emu := azurefake.Start(t)
	app := emu.AddIdentity(azurefake.Identity{})
	app.AddClientSecret("pw")
	resp, err := emu.HTTPClient().PostForm(emu.AuthorityHost()+app.TenantID+"/oauth2/v2.0/token", map[string][]string{
		"grant_type": {"client_credentials"}, "client_id": {app.ClientID}, "scope": {"https://vault.azure.net/.default"},
		"client_secret": {"pw"}, "client_info": {"1"}, "claims": {`{"access_token":{"xms_cc":{"values":["CP1"]}}}`},
	})
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, "Bearer", body["token_type"])
	require.Equal(t, float64(3600), body["expires_in"])
	require.NotEmpty(t, body["access_token"])
}

func TestTokenRequestScopeRules(t *testing.T) {
	t.Parallel()
	emu := azurefake.Start(t)
	app := emu.AddIdentity(azurefake.Identity{})
	app.AddClientSecret("pw")
	for _, tt := range []struct {
		scope string
		code  string
	}{
		{scope: "", code: "AADSTS900144"},
		{scope: "   ", code: "AADSTS900144"},
		{scope: "https://vault.azure.net/user_impersonation", code: "AADSTS1002012"},
	} {
		resp, err := emu.HTTPClient().PostForm(emu.AuthorityHost()+app.TenantID+"/oauth2/v2.0/token", map[string][]string{
			"grant_type": {"client_credentials"}, "client_id": {app.ClientID}, "scope": {tt.scope}, "client_secret": {"pw"},
		})
		require.NoError(t, err)
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, tt.scope)
		require.True(t, strings.HasPrefix(body["error_description"].(string), tt.code+":"), "%q: %v", tt.scope, body["error_description"])
	}
}
