package azurefake_test

import (
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/ospreyhq/osprey/devkit/azurefake"
)

// BenchmarkGetSecret measures one authenticated GetSecret round trip over
// HTTPS through azsecrets (token cached, connection reused).
func BenchmarkGetSecret(b *testing.B) {
	emu := azurefake.Start(b)
	vault, err := emu.AddVault(azurefake.VaultOptions{Name: "bench-kv", Limits: azurefake.ThrottleLimits{Operations: 1 << 30, Creates: 1 << 30}})
	if err != nil {
		b.Fatal(err)
	}
	app := emu.AddIdentity(azurefake.Identity{})
	app.AddClientSecret("pw")
	vault.Assign(azurefake.RoleSecretsOfficer, app.ObjectID)
	cred, err := azidentity.NewClientSecretCredential(app.TenantID, app.ClientID, "pw",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: emu.ClientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		b.Fatal(err)
	}
	c, err := azsecrets.NewClient(vault.URL(), cred, vault.ClientOptions())
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	if _, err := c.SetSecret(ctx, "s", set("v"), nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.GetSecret(ctx, "s", "", nil); err != nil {
			b.Fatal(err)
		}
	}
}
