// Package azureblob keeps internal storage files in an Azure Blob Storage
// container, reached with the official azblob SDK. Credentials are chosen in
// the order of Kestra's storage-azure factory — connection string, Shared
// Key, SAS token — and otherwise through Entra ID, where the pod's Workload
// Identity comes first (see Plan).
//
// A file's blob is named main/<path without its leading slash>, so
// kestra:///acme/flow/executions/E/… is the blob main/acme/flow/executions/E/….
// Uploads are streamed in blocks (BlockSize × Concurrency bytes of memory at
// most); downloads are streamed and resumed by the SDK's retry reader.
package azureblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/secrets/azurekv"
	"github.com/ospreyhq/osprey/storage"
)

// Credential kinds, in the order they are tried.
const (
	KindConnectionString = "connection-string"
	KindSharedKey        = "shared-key"
	KindSAS              = "sas-token"
	KindClientSecret     = "client-secret"
	KindEntra            = "entra" // workload identity, managed identity or the default chain
)

// Options configures a Storage.
type Options struct {
	Config config.AzureStorage
	// Environ is the process environment (the AZURE_* variables the
	// Workload Identity webhook injects).
	Environ azurekv.Environ
	// Transport replaces the HTTP transport (tests; a proxy).
	Transport policy.Transporter
	// BlockSize of staged uploads; 8 MiB when zero. Concurrency of block
	// uploads; 4 when zero.
	BlockSize   int64
	Concurrency int
	// CreateContainer creates the container at Check when it is missing.
	CreateContainer bool
	Logger          *slog.Logger
	// ClientSecret is a service principal's credential, tried after the
	// SAS token and before the pod's identity (the Azure tasks' tenantId,
	// clientId and clientSecret properties; the storage keys have none).
	ClientSecret *ClientSecret
}

// ClientSecret is a service principal: tenant, client id and secret.
type ClientSecret struct {
	TenantID, ClientID, Secret string
}

// Storage is a Blob container. It is safe for concurrent use.
type Storage struct {
	client *container.Client
	kind   string
	plan   azurekv.CredentialPlan
	opts   Options
	log    *slog.Logger
}

var _ storage.Storage = (*Storage)(nil)

// New builds the client from the configuration; it makes no network call.
func New(o Options) (*Storage, error) {
	if o.Config.Container == "" {
		return nil, errors.New("kestra.storage.azure.container is required: set it to the Blob container that holds flows' files")
	}
	if o.BlockSize <= 0 {
		o.BlockSize = 8 << 20
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := NewClient(o)
	if err != nil {
		return nil, fmt.Errorf("kestra.storage.azure: %w", err)
	}
	return &Storage{
		client: c.Service.ServiceClient().NewContainerClient(o.Config.Container),
		kind:   c.Kind, plan: c.Plan, opts: o,
		log: o.Logger.With("component", "storage", "backend", "azure"),
	}, nil
}

// Client is a Blob service client with the credential it was built with.
type Client struct {
	Service *azblob.Client
	// Kind is the credential kind (KindConnectionString …, KindEntra).
	Kind string
	// Plan is the Entra credential's plan when Kind is KindEntra.
	Plan azurekv.CredentialPlan
}

// NewClient builds a Blob service client, choosing the credential in the
// order of Kestra's storage-azure factory: connection string, Shared Key,
// SAS token, then (after a client secret, when given) Entra ID with the
// pod's Workload Identity first. It makes no network call.
func NewClient(o Options) (*Client, error) {
	cfg := o.Config
	if o.Environ == nil {
		o.Environ = azurekv.Environ{}
	}
	copts := azcore.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: 4, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 30 * time.Second},
		Cloud: cloud.AzurePublic,
	}
	if h := o.Environ[azurekv.EnvAuthorityHost]; h != "" {
		copts.Cloud.ActiveDirectoryAuthorityHost = h
	}
	if o.Transport != nil {
		copts.Transport = o.Transport
	}
	bopts := &azblob.ClientOptions{ClientOptions: copts}
	c := &Client{}
	var err error
	endpoint := strings.TrimSuffix(cfg.Endpoint, "/") + "/"
	switch {
	case !cfg.ConnectionString.IsZero():
		c.Kind = KindConnectionString
		c.Service, err = azblob.NewClientFromConnectionString(cfg.ConnectionString.Reveal(), bopts)
		if err != nil {
			// The SDK's message may quote the string, key included.
			return nil, errors.New("the connection string is not a storage connection string: copy it from az storage account show-connection-string -n <account>")
		}
	case cfg.SharedKeyAccountName != "" && !cfg.SharedKeyAccountAccessKey.IsZero():
		c.Kind = KindSharedKey
		cred, cerr := azblob.NewSharedKeyCredential(cfg.SharedKeyAccountName, cfg.SharedKeyAccountAccessKey.Reveal())
		if cerr != nil {
			return nil, errors.New("the shared key access key is not a base64 account key: copy it from az storage account keys list -n <account>")
		}
		c.Service, err = azblob.NewClientWithSharedKeyCredential(endpoint, cred, bopts)
	case !cfg.SasToken.IsZero():
		c.Kind = KindSAS
		c.Service, err = azblob.NewClientWithNoCredential(endpoint+"?"+strings.TrimPrefix(cfg.SasToken.Reveal(), "?"), bopts)
	case o.ClientSecret != nil:
		c.Kind = KindClientSecret
		cs := o.ClientSecret
		cred, cerr := azidentity.NewClientSecretCredential(cs.TenantID, cs.ClientID, cs.Secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions: copts, AdditionallyAllowedTenants: cfg.AdditionallyAllowedTenants,
			DisableInstanceDiscovery: unknownAuthority(copts.Cloud.ActiveDirectoryAuthorityHost),
		})
		if cerr != nil {
			return nil, fmt.Errorf("client secret credential: %w", cerr)
		}
		c.Service, err = azblob.NewClient(endpoint, cred, bopts)
	default:
		c.Kind = KindEntra
		kv := config.AzureKeyVault{
			ManagedIdentityClientID:    cfg.ManagedIdentityClientID,
			ManagedIdentityResourceID:  cfg.ManagedIdentityResourceID,
			WorkloadIdentityClientID:   cfg.WorkloadIdentityClientID,
			AdditionallyAllowedTenants: cfg.AdditionallyAllowedTenants,
		}
		if kv.WorkloadIdentityClientID == "" && o.Environ[azurekv.EnvTokenFile] != "" && o.Environ[azurekv.EnvClientID] != "" {
			// Workload identity is first-class: a pod the webhook set up
			// uses its federated token even when a managed identity is
			// also named, as Azure's default chain would.
			kv.WorkloadIdentityClientID = o.Environ[azurekv.EnvClientID]
		}
		if kv.WorkloadIdentityClientID != "" {
			kv.ManagedIdentityClientID, kv.ManagedIdentityResourceID = "", ""
		}
		if c.Plan, err = azurekv.Plan(kv, o.Environ); err != nil {
			return nil, err
		}
		cred, cerr := azurekv.NewCredential(c.Plan, kv, copts)
		if cerr != nil {
			return nil, fmt.Errorf("build the %s credential: %w", c.Plan.Kind, cerr)
		}
		c.Service, err = azblob.NewClient(endpoint, cred, bopts)
	}
	if err != nil {
		// The endpoint may carry a SAS in its query: name the rest.
		ep := cfg.Endpoint
		if u, perr := url.Parse(ep); perr == nil {
			u.RawQuery = ""
			ep = u.String()
		}
		return nil, fmt.Errorf("endpoint %q: %w", ep, err)
	}
	return c, nil
}

// unknownAuthority reports an authority host MSAL cannot vouch for (a
// sovereign or private cloud, the local emulator).
func unknownAuthority(host string) bool {
	return host != "" && !strings.Contains(host, "login.microsoftonline.") && !strings.Contains(host, "login.chinacloudapi.cn")
}

// Kind returns the credential kind in use, and for Entra the plan's kind
// (workload-identity, managed-identity, default-chain).
func (s *Storage) Kind() string {
	if s.kind == KindEntra {
		return s.kind + "/" + s.plan.Kind
	}
	return s.kind
}

// Check reaches the container once, creating it when asked to, and turns
// Azure's refusal into what to change in Azure.
func (s *Storage) Check(ctx context.Context) error {
	_, err := s.client.GetProperties(ctx, nil)
	if err != nil && bloberror.HasCode(err, bloberror.ContainerNotFound) && s.opts.CreateContainer {
		_, err = s.client.Create(ctx, nil)
		if bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
			err = nil
		}
	}
	if err != nil {
		return s.explain("check container", err)
	}
	return nil
}

func blobName(p string) string { return storage.Tenant + p }

func (s *Storage) name(p string) (string, string, error) {
	clean, err := storage.Clean(p)
	if err != nil {
		return "", "", err
	}
	return clean, blobName(clean), nil
}

// Put uploads in blocks; a failed upload commits nothing.
func (s *Storage) Put(ctx context.Context, p string, r io.Reader) (int64, error) {
	_, name, err := s.name(p)
	if err != nil {
		return 0, err
	}
	cr := &countingReader{r: r}
	_, err = s.client.NewBlockBlobClient(name).UploadStream(ctx, cr, &azblob.UploadStreamOptions{
		BlockSize: s.opts.BlockSize, Concurrency: s.opts.Concurrency,
	})
	if err != nil {
		return 0, s.explain("put "+p, err)
	}
	return cr.n, nil
}

// Get streams the blob; a dropped connection is resumed from where it
// stopped, on the same version of the blob.
func (s *Storage) Get(ctx context.Context, p string) (io.ReadCloser, error) {
	_, name, err := s.name(p)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.NewBlobClient(name).DownloadStream(ctx, nil)
	if err != nil {
		return nil, s.explain("get "+p, err)
	}
	return resp.NewRetryReader(ctx, &azblob.RetryReaderOptions{MaxRetries: 5}), nil
}

// Stat reads the blob's properties.
func (s *Storage) Stat(ctx context.Context, p string) (storage.Info, error) {
	clean, name, err := s.name(p)
	if err != nil {
		return storage.Info{}, err
	}
	props, err := s.client.NewBlobClient(name).GetProperties(ctx, nil)
	if err != nil {
		return storage.Info{}, s.explain("stat "+p, err)
	}
	info := storage.Info{Path: clean}
	if props.ContentLength != nil {
		info.Size = *props.ContentLength
	}
	if props.LastModified != nil {
		info.Modified = props.LastModified.UTC()
	}
	return info, nil
}

// List pages through the blobs under the prefix.
func (s *Storage) List(ctx context.Context, prefix string) ([]storage.Info, error) {
	clean, name, err := s.name(prefix)
	if err != nil {
		return nil, err
	}
	var out []storage.Info
	pager := s.client.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: to.Ptr(name + "/")})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, s.explain("list "+clean, err)
		}
		for _, b := range page.Segment.BlobItems {
			if b.Name == nil {
				continue
			}
			info := storage.Info{Path: strings.TrimPrefix(*b.Name, storage.Tenant)}
			if b.Properties != nil {
				if b.Properties.ContentLength != nil {
					info.Size = *b.Properties.ContentLength
				}
				if b.Properties.LastModified != nil {
					info.Modified = b.Properties.LastModified.UTC()
				}
			}
			out = append(out, info)
		}
	}
	return out, nil
}

// Delete removes one blob.
func (s *Storage) Delete(ctx context.Context, p string) (bool, error) {
	_, name, err := s.name(p)
	if err != nil {
		return false, err
	}
	if _, err := s.client.NewBlobClient(name).Delete(ctx, nil); err != nil {
		if bloberror.HasCode(err, bloberror.BlobNotFound) {
			return false, nil
		}
		return false, s.explain("delete "+p, err)
	}
	return true, nil
}

// DeleteTree removes every blob under the prefix, one request each (Blob
// batch is not used: it needs a multipart body most proxies mishandle).
func (s *Storage) DeleteTree(ctx context.Context, prefix string) (int, error) {
	files, err := s.List(ctx, prefix)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range files {
		ok, err := s.Delete(ctx, f.Path)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// explain maps Azure's answer to storage's sentinels or to what to change
// in Azure.
func (s *Storage) explain(op string, err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return fmt.Errorf("%s: %w", op, err)
	}
	c := s.opts.Config
	switch bloberror.Code(re.ErrorCode) {
	case bloberror.BlobNotFound:
		return fmt.Errorf("%s: %w", op, storage.ErrNotFound)
	case bloberror.ContainerNotFound:
		return fmt.Errorf("%s: container %q does not exist in %s: create it (az storage container create -n %s --account-name <account> --auth-mode login) or fix kestra.storage.azure.container", op, c.Container, c.Endpoint, c.Container)
	case bloberror.AuthorizationPermissionMismatch, bloberror.AuthorizationFailure:
		who := "the identity"
		if s.plan.ClientID != "" {
			who = "identity " + s.plan.ClientID
		}
		return fmt.Errorf("%s: Azure refused (%s): %s needs the role Storage Blob Data Contributor on container %s (az role assignment create --role \"Storage Blob Data Contributor\" --assignee %s --scope <storage account id>/blobServices/default/containers/%s)", op, re.ErrorCode, who, c.Container, orPlaceholder(s.plan.ClientID), c.Container)
	case bloberror.AuthenticationFailed:
		return fmt.Errorf("%s: Azure refused the %s credential (AuthenticationFailed): the account key or SAS token is wrong, expired or revoked — take a fresh one from the storage account", op, s.kind)
	case bloberror.NoAuthenticationInformation, bloberror.InvalidAuthenticationInfo:
		return fmt.Errorf("%s: Azure did not accept the token (%s): check that the identity's tenant is the storage account's", op, re.ErrorCode)
	case "KeyBasedAuthenticationNotPermitted":
		return fmt.Errorf("%s: the storage account forbids key-based access (allowSharedKeyAccess=false): use workload identity instead of a key or SAS token", op)
	}
	if re.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s: %w", op, storage.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func orPlaceholder(s string) string {
	if s == "" {
		return "<client id>"
	}
	return s
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
