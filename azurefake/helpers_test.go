package azurefake_test

import (
	"path/filepath"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/azurefake"
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
