package azureblob_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/devkit/azurefake"
	"github.com/ospreyhq/osprey/secrets/azurekv"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/storage/azureblob"
	"github.com/ospreyhq/osprey/storage/storagetest"
)

// pod is a pod with Workload Identity in front of one storage account.
type pod struct {
	emu  *azurefake.Emulator
	acct *azurefake.StorageAccount
	id   *azurefake.Identity
	env  azurekv.Environ
}

func newPod(t *testing.T, role azurefake.StorageRole) *pod {
	t.Helper()
	emu := azurefake.Start(t)
	acct, err := emu.AddStorageAccount(azurefake.StorageAccountOptions{Name: "ospreyfiles"})
	require.NoError(t, err)
	id := emu.AddIdentity(azurefake.Identity{Name: "osprey"})
	id.AddFederatedCredential(azurefake.FederatedCredential{Name: "osprey", Issuer: emu.Issuer().URL(), Subject: azurefake.Subject("osprey", "osprey")})
	if role != "" {
		acct.Assign(role, id.ObjectID)
	}
	file, err := emu.WriteTokenFile(azurefake.TokenFileOptions{
		MintOptions: azurefake.MintOptions{Namespace: "osprey", ServiceAccount: "osprey"},
		Path:        filepath.Join(t.TempDir(), "azure-identity-token"),
	})
	require.NoError(t, err)
	return &pod{emu: emu, acct: acct, id: id, env: azurekv.Environ{
		azurekv.EnvClientID: id.ClientID, azurekv.EnvTenantID: id.TenantID,
		azurekv.EnvTokenFile: file.Path(), azurekv.EnvAuthorityHost: emu.AuthorityHost(),
	}}
}

func (p *pod) open(t *testing.T, cfg config.AzureStorage, env azurekv.Environ) *azureblob.Storage {
	t.Helper()
	if cfg.Endpoint == "" && cfg.ConnectionString.IsZero() {
		cfg.Endpoint = p.acct.URL()
	}
	s, err := azureblob.New(azureblob.Options{Config: cfg, Environ: env, Transport: p.emu.HTTPClient(), BlockSize: 1 << 20, Concurrency: 2, CreateContainer: true})
	require.NoError(t, err)
	require.NoError(t, s.Check(t.Context()))
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	p := newPod(t, azurefake.RoleBlobDataContributor)
	cred, err := azblob.NewSharedKeyCredential(p.acct.Name(), p.acct.Key())
	require.NoError(t, err)
	qp, err := sas.AccountSignatureValues{
		Protocol: sas.ProtocolHTTPS, ExpiryTime: time.Now().Add(time.Hour).UTC(),
		Permissions:   to.Ptr(sas.AccountPermissions{Read: true, Write: true, Delete: true, List: true, Create: true, Add: true}).String(),
		ResourceTypes: to.Ptr(sas.AccountResourceTypes{Container: true, Object: true}).String(),
	}.SignWithSharedKey(cred)
	require.NoError(t, err)

	forms := []struct {
		name string
		cfg  func(container string) config.AzureStorage
		env  azurekv.Environ
		kind string
	}{
		{"workload identity from the webhook's variables", func(c string) config.AzureStorage {
			return config.AzureStorage{Container: c}
		}, p.env, "entra/workload-identity"},
		{"workload identity by client id", func(c string) config.AzureStorage {
			return config.AzureStorage{Container: c, WorkloadIdentityClientID: p.id.ClientID}
		}, p.env, "entra/workload-identity"},
		{"connection string", func(c string) config.AzureStorage {
			return config.AzureStorage{Container: c, ConnectionString: config.NewSecret(p.acct.ConnectionString())}
		}, nil, azureblob.KindConnectionString},
		{"shared key", func(c string) config.AzureStorage {
			return config.AzureStorage{Container: c, SharedKeyAccountName: p.acct.Name(), SharedKeyAccountAccessKey: config.NewSecret(p.acct.Key())}
		}, nil, azureblob.KindSharedKey},
		{"sas token", func(c string) config.AzureStorage {
			return config.AzureStorage{Container: c, SasToken: config.NewSecret("?" + qp.Encode())}
		}, nil, azureblob.KindSAS},
	}
	for i, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			n := 0
			storagetest.Exercise(t, func(t *testing.T) storage.Storage {
				n++
				s := p.open(t, f.cfg(containerName(i, n)), f.env)
				require.Equal(t, f.kind, s.Kind())
				return s
			}, storagetest.Options{LargeSize: 3<<20 + 7})
		})
	}
	require.Positive(t, p.acct.CountBy("PutBlock", p.id.ObjectID), "large files went up in blocks through the workload identity")
	require.Positive(t, p.acct.CountBy("PutBlob", "sharedkey"))
	require.Positive(t, p.acct.CountBy("GetBlob", "sas"))
}

// containerName gives each sub-test a container of its own.
func containerName(form, n int) string { return fmt.Sprintf("c%d-%03d", form, n) }

func TestLayout(t *testing.T) {
	t.Parallel()
	p := newPod(t, azurefake.RoleBlobDataContributor)
	s := p.open(t, config.AzureStorage{Container: "flows"}, p.env)
	_, err := s.Put(t.Context(), "kestra:///acme/team/flow/executions/E/inputs/in/a.csv", strings.NewReader("x"))
	require.NoError(t, err)
	var paths []string
	for _, r := range p.acct.Requests() {
		if r.Operation == "PutBlob" {
			paths = append(paths, r.Path)
		}
	}
	require.Equal(t, []string{"/ospreyfiles/flows/main/acme/team/flow/executions/E/inputs/in/a.csv"}, paths)
}

func TestAzureRefusalsSayWhatToChange(t *testing.T) {
	t.Parallel()
	p := newPod(t, "")
	s, err := azureblob.New(azureblob.Options{Config: config.AzureStorage{Container: "flows", Endpoint: p.acct.URL()}, Environ: p.env, Transport: p.emu.HTTPClient()})
	require.NoError(t, err)
	err = s.Check(t.Context())
	require.ErrorContains(t, err, "Storage Blob Data Contributor")
	require.ErrorContains(t, err, p.id.ClientID)

	p.acct.Assign(azurefake.RoleBlobDataReader, p.id.ObjectID)
	err = s.Check(t.Context())
	require.ErrorContains(t, err, `container "flows" does not exist`)

	p.acct.Assign(azurefake.RoleBlobDataContributor, p.id.ObjectID)
	require.NoError(t, p.open(t, config.AzureStorage{Container: "flows"}, p.env).Check(t.Context()))
	_, err = s.Get(t.Context(), "/no/such")
	require.ErrorIs(t, err, storage.ErrNotFound)

	bad, err := azureblob.New(azureblob.Options{Config: config.AzureStorage{Container: "flows", Endpoint: p.acct.URL(),
		SharedKeyAccountName: p.acct.Name(), SharedKeyAccountAccessKey: config.NewSecret("d3Jvbmcga2V5")}, Transport: p.emu.HTTPClient()})
	require.NoError(t, err)
	_, err = bad.Put(t.Context(), "/a/b", strings.NewReader("x"))
	require.ErrorContains(t, err, "AuthenticationFailed")
	require.NotContains(t, err.Error(), "d3Jvbmcga2V5")

	_, err = azureblob.New(azureblob.Options{Config: config.AzureStorage{Container: "flows", Endpoint: p.acct.URL(), WorkloadIdentityClientID: p.id.ClientID}})
	require.ErrorContains(t, err, "AZURE_FEDERATED_TOKEN_FILE")
	_, err = azureblob.New(azureblob.Options{Config: config.AzureStorage{Container: "flows", ConnectionString: config.NewSecret("nonsense=key")}})
	require.ErrorContains(t, err, "connection-string")
	require.NotContains(t, err.Error(), "nonsense")
}
