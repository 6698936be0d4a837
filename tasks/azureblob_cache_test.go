package tasks

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/devkit/azurefake"
	"github.com/ospreyhq/osprey/storage/azureblob"
)

// blobHost is a worker's Azure host pointed at the emulator, with a
// storage account and a service principal allowed to use it.
func blobHost(t testing.TB) (*AzureHost, *azurefake.StorageAccount, *azurefake.Identity, *azurefake.Emulator) {
	t.Helper()
	emu := azurefake.Start(t)
	acct, err := emu.AddStorageAccount(azurefake.StorageAccountOptions{Name: "cached"})
	require.NoError(t, err)
	id := emu.AddIdentity(azurefake.Identity{Name: "app"})
	id.AddClientSecret("app-secret-1")
	acct.Assign(azurefake.RoleBlobDataContributor, id.ObjectID)
	return &AzureHost{Environ: map[string]string{"AZURE_AUTHORITY_HOST": emu.AuthorityHost()}, Transport: emu.HTTPClient(),
		clients: newClientCache()}, acct, id, emu
}

// A worker keeps the client of a flow's explicit credentials: the second
// task run with them exchanges no token; other credentials get a client of
// their own.
func TestBlobClientsAreKeptPerCredentials(t *testing.T) {
	t.Parallel()
	host, acct, id, emu := blobHost(t)
	conn := azureConn{Endpoint: acct.URL(), TenantID: id.TenantID, ClientID: id.ClientID, ClientSecret: "app-secret-1", host: host}
	env := newEnv(nil)
	for i := range 3 {
		c, err := conn.client(t.Context(), env)
		require.NoError(t, err)
		require.Equal(t, azureblob.KindClientSecret, c.Kind)
		_, err = c.Service.CreateContainer(t.Context(), fmt.Sprintf("run%d", i), nil)
		require.NoError(t, err)
	}
	require.Len(t, emu.TokenRequests(), 1, "one token for three task runs")

	first, err := conn.client(t.Context(), env)
	require.NoError(t, err)
	id.AddClientSecret("app-secret-2")
	rotated := conn
	rotated.ClientSecret = "app-secret-2"
	second, err := rotated.client(t.Context(), env)
	require.NoError(t, err)
	require.NotSame(t, first, second, "other credentials, another client")
	sas := conn
	sas.ClientSecret, sas.SasToken = "", "sv=2024-08-04&sig=abc"
	third, err := sas.client(t.Context(), env)
	require.NoError(t, err)
	require.Equal(t, azureblob.KindSAS, third.Kind)
}

// The cache holds clients under an HMAC of their connection, never the
// credentials; an unused client is dropped after clientIdle, and no more
// than maxClients are kept.
func TestBlobClientCacheForgets(t *testing.T) {
	t.Parallel()
	c := newClientCache()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	opts := func(secret string) azureblob.Options {
		return azureblob.Options{Config: config.AzureStorage{Endpoint: "https://acct.blob.core.windows.net"},
			ClientSecret: &azureblob.ClientSecret{TenantID: "t", ClientID: "app", Secret: secret}}
	}
	a, err := c.client(opts("s3cret-value-A"))
	require.NoError(t, err)
	for k := range c.m {
		require.NotContains(t, k, "s3cret-value-A")
		require.Len(t, k, 32)
	}
	now = now.Add(clientIdle - time.Second)
	again, err := c.client(opts("s3cret-value-A"))
	require.NoError(t, err)
	require.Same(t, a, again, "used within clientIdle: kept")
	now = now.Add(clientIdle)
	_, err = c.client(opts("another-secret"))
	require.NoError(t, err)
	require.Len(t, c.m, 1, "the idle client is dropped")
	after, err := c.client(opts("s3cret-value-A"))
	require.NoError(t, err)
	require.NotSame(t, a, after)

	for i := range 2 * maxClients {
		now = now.Add(time.Second)
		_, err := c.client(opts(strings.Repeat("k", i+1)))
		require.NoError(t, err)
	}
	require.Len(t, c.m, maxClients)
}

// BenchmarkBlobClient is what a Blob task with explicit credentials (a
// client secret) pays for its client and one request: built per task run
// (a token exchange each time), or kept by the worker.
func BenchmarkBlobClient(b *testing.B) {
	for _, kept := range []bool{false, true} {
		name := "built per run"
		if kept {
			name = "kept"
		}
		b.Run(name, func(b *testing.B) {
			host, acct, id, _ := blobHost(b)
			if !kept {
				host.clients = nil
			}
			conn := azureConn{Endpoint: acct.URL(), TenantID: id.TenantID, ClientID: id.ClientID, ClientSecret: "app-secret-1", host: host}
			env := newEnv(nil)
			c, err := conn.client(b.Context(), env)
			require.NoError(b, err)
			_, err = c.Service.CreateContainer(b.Context(), "files", nil)
			require.NoError(b, err)
			for b.Loop() {
				c, err := conn.client(b.Context(), env)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Service.ServiceClient().NewContainerClient("files").GetProperties(b.Context(), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
