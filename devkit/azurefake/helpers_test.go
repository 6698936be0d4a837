package azurefake_test

import (
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/azurefake"
)

// fixture is the usual Workload Identity set-up: one vault, one identity
// federated with the service account osprey/osprey-worker, a token file.
type fixture struct {
	emu   *azurefake.Emulator
	vault *azurefake.Vault
	id    *azurefake.Identity
	file  *azurefake.TokenFile
}

const (
	testNamespace = "osprey"
	testSA        = "osprey-worker"
)

func newFixture(t *testing.T, opts ...azurefake.Option) *fixture {
	t.Helper()
	emu := azurefake.Start(t, opts...)
	vault, err := emu.AddVault(azurefake.VaultOptions{Name: "osprey-kv"})
	require.NoError(t, err)
	id := emu.AddIdentity(azurefake.Identity{Name: "osprey"})
	id.AddFederatedCredential(azurefake.FederatedCredential{
		Name:    "osprey-worker",
		Issuer:  emu.Issuer().URL(),
		Subject: azurefake.Subject(testNamespace, testSA),
	})
	file, err := emu.WriteTokenFile(azurefake.TokenFileOptions{
		MintOptions: azurefake.MintOptions{Namespace: testNamespace, ServiceAccount: testSA},
		Path:        filepath.Join(t.TempDir(), "azure-identity-token"),
	})
	require.NoError(t, err)
	return &fixture{emu: emu, vault: vault, id: id, file: file}
}

// noRetry keeps the SDK from retrying, so a test sees the first answer.
func noRetry(o azcore.ClientOptions) azcore.ClientOptions {
	o.Retry = policy.RetryOptions{MaxRetries: -1}
	return o
}

func (f *fixture) workloadCred(t *testing.T) *azidentity.WorkloadIdentityCredential {
	t.Helper()
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: noRetry(f.emu.ClientOptions()),
		ClientID:      f.id.ClientID,
		TenantID:      f.id.TenantID,
		TokenFilePath: f.file.Path(),
		// Without this MSAL asks login.microsoftonline.com to vouch for the
		// emulator's authority host.
		DisableInstanceDiscovery: true,
	})
	require.NoError(t, err)
	return cred
}

func (f *fixture) client(t *testing.T, cred azcore.TokenCredential) *azsecrets.Client {
	t.Helper()
	opts := f.vault.ClientOptions()
	opts.ClientOptions = noRetry(opts.ClientOptions)
	c, err := azsecrets.NewClient(f.vault.URL(), cred, opts)
	require.NoError(t, err)
	return c
}

// azcoreTransportOnly trusts the emulator's CA but leaves the authority host
// to AZURE_AUTHORITY_HOST.
func azcoreTransportOnly(f *fixture) azcore.ClientOptions {
	return azcore.ClientOptions{Transport: f.emu.HTTPClient()}
}

// secretClientAs returns an azsecrets client authenticating as a new
// client-secret identity holding role on the fixture's vault ("" for none).
func (f *fixture) secretClientAs(t *testing.T, role azurefake.Role) (*azsecrets.Client, *azurefake.Identity) {
	t.Helper()
	id := f.emu.AddIdentity(azurefake.Identity{Name: string(role)})
	id.AddClientSecret("s3cret-" + id.ClientID)
	if role != "" {
		f.vault.Assign(role, id.ObjectID)
	}
	cred, err := azidentity.NewClientSecretCredential(id.TenantID, id.ClientID, "s3cret-"+id.ClientID,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: noRetry(f.emu.ClientOptions()), DisableInstanceDiscovery: true})
	require.NoError(t, err)
	return f.client(t, cred), id
}

// requireKVError asserts a Key Vault error answer as azsecrets reports it.
func requireKVError(t *testing.T, err error, status int, code, inner string) *azcore.ResponseError {
	t.Helper()
	require.Error(t, err)
	var re *azcore.ResponseError
	require.True(t, errors.As(err, &re), "want ResponseError, got %T: %v", err, err)
	require.Equal(t, status, re.StatusCode, err.Error())
	require.Equal(t, code, re.ErrorCode, err.Error())
	if inner != "" {
		require.Contains(t, err.Error(), `"innererror"`)
		require.Contains(t, err.Error(), inner)
	}
	return re
}

func policyScopes(s ...string) policy.TokenRequestOptions {
	return policy.TokenRequestOptions{Scopes: s}
}

type rawResponse struct {
	status int
	header http.Header
	body   string
}

// rawGet sends one GET with a bearer token ("" for none) over the
// emulator's trusted client, for what the SDK cannot express.
func rawGet(t *testing.T, f *fixture, url, token string) rawResponse {
	t.Helper()
	return rawDo(t, f.emu, http.MethodGet, url, token, "")
}

func rawDo(t *testing.T, emu *azurefake.Emulator, method, url, token, body string) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := emu.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// manualClock makes the emulator's time move only when a test advances it,
// so windows measured in seconds do not depend on the machine's speed.
func manualClock() azurefake.Option {
	return azurefake.WithClock(azurefake.NewManualClock(time.Now()))
}
