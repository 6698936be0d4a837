package azurefake_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/ospreyhq/osprey/devkit/azurefake"
)

// A workload reads a secret with Workload Identity, exactly as in a pod.
// Tests use azurefake.Start(t) instead of New and Close.
func ExampleNew() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	emu, err := azurefake.New(ctx, azurefake.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer emu.Close()

	vault, _ := emu.AddVault(azurefake.VaultOptions{Name: "my-vault"})
	id := emu.AddIdentity(azurefake.Identity{Name: "osprey"})
	id.AddFederatedCredential(azurefake.FederatedCredential{
		Issuer:  emu.Issuer().URL(),
		Subject: azurefake.Subject("default", "osprey"),
	})
	vault.Assign(azurefake.RoleSecretsOfficer, id.ObjectID)
	file, _ := emu.WriteTokenFile(azurefake.TokenFileOptions{
		MintOptions: azurefake.MintOptions{Namespace: "default", ServiceAccount: "osprey"},
		Path:        filepath.Join(dir, "token"),
	})

	cred, _ := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: emu.ClientOptions(), ClientID: id.ClientID, TenantID: id.TenantID,
		TokenFilePath: file.Path(), DisableInstanceDiscovery: true,
	})
	client, _ := azsecrets.NewClient(vault.URL(), cred, vault.ClientOptions())
	_, _ = client.SetSecret(ctx, "DB-PASSWORD", azsecrets.SetSecretParameters{Value: to.Ptr("s3cret")}, nil)
	got, err := client.GetSecret(ctx, "db-password", "", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.ID.Name(), emu.Count("token"), vault.Count("GetSecret"))
	// Output: DB-PASSWORD 1 1
}
