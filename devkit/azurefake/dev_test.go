package azurefake_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/ospreyhq/osprey/devkit/azurefake"
)

// printed collects RunDev's output and signals once the banner is complete.
type printed struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	once  sync.Once
}

func (p *printed) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, err := p.buf.Write(b)
	if strings.Contains(p.buf.String(), "workload-identity-client-id:") {
		p.once.Do(func() { close(p.ready) })
	}
	return n, err
}

func (p *printed) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

func TestRunDev(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	out := &printed{ready: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- azurefake.RunDev(ctx, azurefake.DevOptions{
			Dir: dir, Namespace: "flows", ServiceAccount: "osprey-worker",
			Secrets: map[string]string{"DB-PASSWORD": "local-only"},
		}, out)
	}()
	select {
	case <-out.ready:
	case err := <-done:
		t.Fatalf("RunDev returned early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("RunDev printed nothing")
	}
	text := out.String()
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^export (\w+)=(.+)$`).FindAllStringSubmatch(text, -1) {
		env[m[1]] = m[2]
	}
	for _, k := range []string{"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST", "SSL_CERT_FILE"} {
		require.NotEmpty(t, env[k], k)
	}
	var cfg struct {
		Kestra struct {
			Storage struct {
				Type  string `yaml:"type"`
				Azure struct {
					Endpoint  string `yaml:"endpoint"`
					Container string `yaml:"container"`
				} `yaml:"azure"`
			} `yaml:"storage"`
			Secret struct {
				Type          string `yaml:"type"`
				AzureKeyVault struct {
					URI      string `yaml:"key-vault-uri"`
					ClientID string `yaml:"workload-identity-client-id"`
				} `yaml:"azure-key-vault"`
			} `yaml:"secret"`
		} `yaml:"kestra"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(text[strings.Index(text, "kestra:"):]), &cfg))
	require.Equal(t, "azure-key-vault", cfg.Kestra.Secret.Type)
	require.Equal(t, env["AZURE_CLIENT_ID"], cfg.Kestra.Secret.AzureKeyVault.ClientID)
	vaultURL := cfg.Kestra.Secret.AzureKeyVault.URI
	require.True(t, strings.HasPrefix(vaultURL, "https://127.0.0.1:"), vaultURL)

	// A workload configured only from what was printed.
	for k, v := range env {
		if k != "SSL_CERT_FILE" { // read once per process by crypto/x509; trusted explicitly below
			t.Setenv(k, v)
		}
	}
	pem, err := os.ReadFile(env["SSL_CERT_FILE"])
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	transport := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	t.Cleanup(transport.CloseIdleConnections)
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: azcore.ClientOptions{Transport: transport}, DisableInstanceDiscovery: true,
	})
	require.NoError(t, err)
	c, err := azsecrets.NewClient(vaultURL, cred, &azsecrets.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: transport}, DisableChallengeResourceVerification: true,
	})
	require.NoError(t, err)
	got, err := c.GetSecret(ctx, "db-password", "", nil)
	require.NoError(t, err)
	require.Equal(t, "local-only", *got.Value)
	_, err = c.SetSecret(ctx, "api-key", azsecrets.SetSecretParameters{Value: ptr("k")}, nil)
	require.NoError(t, err, "Secrets Officer by default")
	require.NotContains(t, text, "local-only", "secret values are never printed")

	// Internal storage as printed: the container is there and the identity
	// may write to it.
	require.Equal(t, "azure", cfg.Kestra.Storage.Type)
	bc, err := azblob.NewClient(cfg.Kestra.Storage.Azure.Endpoint, cred, &azblob.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: transport}})
	require.NoError(t, err)
	_, err = bc.UploadBuffer(ctx, cfg.Kestra.Storage.Azure.Container, "main/hello.txt", []byte("hi"), nil)
	require.NoError(t, err)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("RunDev did not stop with its context")
	}
	u, err := url.Parse(vaultURL)
	require.NoError(t, err)
	_, err = net.DialTimeout("tcp", u.Host, time.Second)
	require.Error(t, err, "the vault stopped listening")
}

func TestRunDevNeedsADirectory(t *testing.T) {
	t.Parallel()
	err := azurefake.RunDev(t.Context(), azurefake.DevOptions{}, &bytes.Buffer{})
	require.ErrorContains(t, err, "no directory")
}

func ptr[T any](v T) *T { return &v }
