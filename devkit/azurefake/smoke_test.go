package azurefake_test

import (
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/azurefake"
)

func TestWorkloadIdentityReadsAndWritesSecrets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.vault.Assign(azurefake.RoleSecretsOfficer, f.id.ObjectID)
	c := f.client(t, f.workloadCred(t))
	ctx := t.Context()

	set, err := c.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{Value: to.Ptr("hunter2")}, nil)
	require.NoError(t, err)
	require.Equal(t, "db-password", set.ID.Name())
	got, err := c.GetSecret(ctx, "DB-PASSWORD", "", nil)
	require.NoError(t, err)
	require.Equal(t, "hunter2", *got.Value)
	require.Equal(t, 1, f.emu.Count("token"))
	require.Equal(t, 1, f.vault.CountBy("GetSecret", f.id.ObjectID))
}
