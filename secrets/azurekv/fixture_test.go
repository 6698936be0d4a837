package azurekv_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/devkit/azurefake"
	"github.com/ospreyhq/osprey/secrets/azurekv"
)

// fixture is a pod with Workload Identity in front of one vault: an
// identity federated with system:serviceaccount:osprey:osprey, the
// projected token file, and the webhook's four variables.
type fixture struct {
	emu   *azurefake.Emulator
	vault *azurefake.Vault
	id    *azurefake.Identity
	file  *azurefake.TokenFile
	env   azurekv.Environ
}

type fixtureOptions struct {
	role        azurefake.Role // none when empty
	noFederated bool
	subject     string // federated credential subject; the pod's when empty
	tokenLife   time.Duration
	limits      azurefake.ThrottleLimits
	vault       azurefake.VaultOptions // delays, purge protection; name and limits are set here
	emu         []azurefake.Option
}

func newFixture(t testing.TB, o fixtureOptions) *fixture {
	t.Helper()
	emu := azurefake.Start(t, o.emu...)
	vo := o.vault
	vo.Name, vo.Limits = "osprey-kv", o.limits
	vault, err := emu.AddVault(vo)
	require.NoError(t, err)
	id := emu.AddIdentity(azurefake.Identity{Name: "osprey"})
	if !o.noFederated {
		sub := o.subject
		if sub == "" {
			sub = azurefake.Subject("osprey", "osprey")
		}
		id.AddFederatedCredential(azurefake.FederatedCredential{Name: "osprey", Issuer: emu.Issuer().URL(), Subject: sub})
	}
	if o.role != "" {
		vault.Assign(o.role, id.ObjectID)
	}
	file, err := emu.WriteTokenFile(azurefake.TokenFileOptions{
		MintOptions: azurefake.MintOptions{Namespace: "osprey", ServiceAccount: "osprey", Lifetime: o.tokenLife},
		Path:        filepath.Join(t.TempDir(), "azure-identity-token"),
	})
	require.NoError(t, err)
	return &fixture{emu: emu, vault: vault, id: id, file: file, env: azurekv.Environ{
		azurekv.EnvClientID:      id.ClientID,
		azurekv.EnvTenantID:      id.TenantID,
		azurekv.EnvTokenFile:     file.Path(),
		azurekv.EnvAuthorityHost: emu.AuthorityHost(),
	}}
}

func (f *fixture) config() config.AzureKeyVault {
	return config.AzureKeyVault{KeyVaultURI: f.vault.URL(), WorkloadIdentityClientID: f.id.ClientID}
}

func (f *fixture) backend(t testing.TB, mutate func(*azurekv.Options)) *azurekv.Backend {
	t.Helper()
	o := azurekv.Options{Config: f.config(), Environ: f.env, Transport: f.emu.HTTPClient(), RetryDelay: 10 * time.Millisecond}
	if mutate != nil {
		mutate(&o)
	}
	b, err := azurekv.New(o)
	require.NoError(t, err)
	return b
}

// admin is a client acting as someone else in Azure (the portal, a
// pipeline): it creates secrets Osprey did not.
func (f *fixture) admin(t *testing.T) *azsecrets.Client {
	t.Helper()
	adm := f.emu.AddIdentity(azurefake.Identity{Name: "admin"})
	adm.AddClientSecret("admin-pw")
	f.vault.Assign(azurefake.RoleAdministrator, adm.ObjectID)
	cred, err := azidentity.NewClientSecretCredential(adm.TenantID, adm.ClientID, "admin-pw",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: f.emu.ClientOptions(), DisableInstanceDiscovery: true})
	require.NoError(t, err)
	c, err := azsecrets.NewClient(f.vault.URL(), cred, f.vault.ClientOptions())
	require.NoError(t, err)
	return c
}
