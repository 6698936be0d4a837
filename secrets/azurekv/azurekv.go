// Package azurekv keeps Osprey's secrets in Azure Key Vault, reached with
// one credential and one client per vault, reused for the life of the
// process: a client secret, a managed identity, the pod's federated
// service-account token (Workload Identity), or Azure's default chain, in
// the order Kestra documents.
//
// Secrets Osprey writes get a deterministic name (see Name) and the tags
// namespace, key, tenant, prefix and managed-by=osprey; Osprey never
// modifies or deletes a vault secret without that marker. Secrets created
// outside Osprey are discovered by tags (filter-on-tags) or name prefix
// (filter-on-prefix), and in read-only mode all of the vault's enabled
// secrets are visible, minus excluded tags. Azure's refusals are
// translated into what to change in Azure (see explain.go).
package azurekv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/secrets"
)

// tenant is Osprey's only tenant, written in the tenant tag.
const tenant = "main"

// Options configures a Backend.
type Options struct {
	Config   config.AzureKeyVault
	ReadOnly bool
	// Environ is the process environment (AZURE_* variables).
	Environ Environ
	// Transport replaces the HTTP transport (tests; a corporate proxy).
	Transport policy.Transporter
	// MaxRetries bounds retries of throttled (429, honouring Retry-After)
	// and failed requests; default 3. RetryDelay is the first backoff;
	// default 800ms.
	MaxRetries int
	RetryDelay time.Duration
	Logger     *slog.Logger
}

// Backend is a Key Vault secret backend. It is safe for concurrent use.
type Backend struct {
	client   *azsecrets.Client
	cred     azcore.TokenCredential
	plan     CredentialPlan
	cfg      config.AzureKeyVault
	uri      string
	vault    string
	readOnly bool
	purge    bool
	retries  int
	log      *slog.Logger
	env      Environ
	hc       policy.Transporter

	mu       sync.Mutex
	external map[[2]string]string // (namespace, key) → name of a discovered secret
}

var (
	_ secrets.Backend = (*Backend)(nil)
	_ secrets.Writer  = (*Backend)(nil)
)

// New plans the credential, checks what it needs and builds the client.
// It makes no network call; Check does.
func New(o Options) (*Backend, error) {
	cfg := o.Config
	if err := checkPrefix(cfg.Prefix); err != nil {
		return nil, err
	}
	uri := cfg.URI()
	if uri == "" {
		return nil, errors.New("kestra.secret.azure-key-vault.vault-name (or key-vault-uri) is required")
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("kestra.secret.azure-key-vault.key-vault-uri %q: write https://<vault-name>.vault.azure.net/", uri)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Environ == nil {
		o.Environ = Environ{}
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 3
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = 800 * time.Millisecond
	}
	plan, err := Plan(cfg, o.Environ)
	if err != nil {
		return nil, err
	}
	log := o.Logger.With("component", "secrets", "backend", "azure-key-vault")
	for _, w := range plan.Warnings {
		log.Warn(w)
	}
	copts := azcore.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: int32(o.MaxRetries), RetryDelay: o.RetryDelay, MaxRetryDelay: 30 * time.Second, TryTimeout: 30 * time.Second},
		Cloud: cloud.AzurePublic,
	}
	if h := o.Environ[EnvAuthorityHost]; h != "" {
		copts.Cloud.ActiveDirectoryAuthorityHost = h
	}
	if o.Transport != nil {
		copts.Transport = o.Transport
	}
	cred, err := NewCredential(plan, cfg, copts)
	if err != nil {
		return nil, fmt.Errorf("azure credential (%s): %w", plan.Kind, err)
	}
	client, err := azsecrets.NewClient(uri, cred, &azsecrets.ClientOptions{
		ClientOptions: copts,
		// Key Vault's challenge names its resource host; the SDK checks
		// the vault URI ends in it, which a loopback test vault cannot.
		DisableChallengeResourceVerification: isLoopback(u.Hostname()),
	})
	if err != nil {
		return nil, fmt.Errorf("key vault client for %s: %w", uri, err)
	}
	vault := cfg.VaultName
	if vault == "" {
		vault = strings.Split(u.Hostname(), ".")[0]
	}
	log.Info("key vault secrets", "vault", uri, "credential", plan.Kind, "client_id", plan.ClientID, "read_only", o.ReadOnly)
	return &Backend{
		client: client, cred: cred, plan: plan, cfg: cfg, uri: uri, vault: vault,
		readOnly: o.ReadOnly, purge: cfg.PurgeOnDelete, retries: o.MaxRetries, log: log, env: o.Environ, hc: o.Transport,
		external: map[[2]string]string{},
	}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Plan returns the credential plan in use.
func (b *Backend) Plan() CredentialPlan { return b.plan }

// Credential returns the shared credential (the doctor reuses it).
func (b *Backend) Credential() azcore.TokenCredential { return b.cred }

// URI returns the vault URI.
func (b *Backend) URI() string { return b.uri }

// Check lists one page of the vault: it proves the token exchange, the
// vault's tenant and the list permission at start-up, so a broken set-up
// fails before the first flow instead of in it.
func (b *Backend) Check(ctx context.Context) error {
	pager := b.client.NewListSecretPropertiesPager(nil)
	if _, err := pager.NextPage(ctx); err != nil {
		return b.explain(err, opList, "")
	}
	return nil
}

// NameOf returns the vault name for (namespace, key): a discovered
// secret's own name, or Osprey's naming scheme.
func (b *Backend) NameOf(namespace, key string) string {
	b.mu.Lock()
	n, ok := b.external[[2]string{namespace, key}]
	b.mu.Unlock()
	if ok {
		return n
	}
	return Name(b.cfg.Prefix, namespace, key)
}

// Get implements secrets.Backend with one GetSecret.
func (b *Backend) Get(ctx context.Context, namespace, key string) (string, error) {
	name := b.NameOf(namespace, key)
	resp, err := b.client.GetSecret(ctx, name, "", nil)
	if err != nil {
		err = b.explain(err, opRead, name)
		if errors.Is(err, secrets.ErrNotFound) {
			if alt := b.fallbackName(namespace, key); alt != "" && alt != name {
				resp, err = b.client.GetSecret(ctx, alt, "", nil)
				if err == nil {
					return deref(resp.Value), nil
				}
				err = b.explain(err, opRead, alt)
			}
		}
		return "", fmt.Errorf("secret %q in %s: %w", key, displayNS(namespace), err)
	}
	if !b.visible(name, resp.Tags) {
		return "", fmt.Errorf("secret %q in %s: %w", key, displayNS(namespace), secrets.ErrNotFound)
	}
	return deref(resp.Value), nil
}

// fallbackName is the name a secret created outside Osprey would have
// under filter-on-prefix, for lookups made before any listing.
func (b *Backend) fallbackName(namespace, key string) string {
	fp := b.cfg.FilterOnPrefix
	if namespace != "" || fp.Prefix == "" || fp.KeepPrefix {
		return ""
	}
	return fp.Prefix + strings.ReplaceAll(key, "_", "-")
}

// visible reports whether a vault secret read by name may be served: an
// Osprey secret of this prefix and tenant, or a discovered one.
func (b *Backend) visible(name string, tags map[string]*string) bool {
	if _, ok := b.classify(name, tags); ok {
		return true
	}
	return false
}

func displayNS(ns string) string {
	if ns == "" {
		return "the global namespace"
	}
	return "namespace " + ns
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func tagMap(t map[string]*string) map[string]string {
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = deref(v)
	}
	return out
}

// managed reports whether Osprey created the secret.
func managed(tags map[string]string) bool { return tags[ManagedByTag] == ManagedByValue }

// classify maps a vault secret onto a Kestra (namespace, key) when it is
// visible to this Osprey.
func (b *Backend) classify(name string, raw map[string]*string) (secrets.Meta, bool) {
	tags := tagMap(raw)
	if managed(tags) {
		if tags[TagTenant] != tenant || tags[TagPrefix] != b.cfg.Prefix || tags[TagKey] == "" {
			return secrets.Meta{}, false
		}
		return secrets.Meta{Namespace: tags[TagNamespace], Key: tags[TagKey], Description: tags[TagDescription], Tags: userTags(tags, b.cfg.Tags)}, true
	}
	for _, t := range b.cfg.ExcludedTags {
		if _, ok := tags[t]; ok {
			return secrets.Meta{}, false
		}
	}
	ft, fp := b.cfg.FilterOnTags.Tags, b.cfg.FilterOnPrefix
	if len(ft) == 0 && fp.Prefix == "" && !b.readOnly {
		return secrets.Meta{}, false
	}
	for k, v := range ft {
		if got, ok := tags[k]; !ok || got != v {
			return secrets.Meta{}, false
		}
	}
	if fp.Prefix != "" && !strings.HasPrefix(strings.ToLower(name), strings.ToLower(fp.Prefix)) {
		return secrets.Meta{}, false
	}
	key := tags[TagKey]
	if key == "" {
		key = externalKey(name, fp.Prefix, fp.KeepPrefix)
	}
	return secrets.Meta{Namespace: tags[TagNamespace], Key: key, Description: tags[TagDescription], Tags: tags}, true
}

// userTags drops Osprey's own and the configured tags, leaving the user's.
func userTags(tags, configured map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range tags {
		if reserved[k] {
			continue
		}
		if cv, ok := configured[k]; ok && cv == v {
			continue
		}
		out[k] = v
	}
	return out
}

// List implements secrets.Backend: it pages through the vault's secret
// properties (no values) and remembers where discovered secrets live.
func (b *Backend) List(ctx context.Context, namespace string) ([]secrets.Meta, error) {
	pager := b.client.NewListSecretPropertiesPager(nil)
	var out []secrets.Meta
	ext := map[[2]string]string{}
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, b.explain(err, opList, "")
		}
		for _, p := range page.Value {
			if p == nil || p.ID == nil {
				continue
			}
			if p.Attributes != nil && p.Attributes.Enabled != nil && !*p.Attributes.Enabled {
				continue
			}
			name := p.ID.Name()
			m, ok := b.classify(name, p.Tags)
			if !ok {
				continue
			}
			if p.Attributes != nil && p.Attributes.Updated != nil {
				m.Updated = *p.Attributes.Updated
			}
			if !managed(tagMap(p.Tags)) {
				ext[[2]string{m.Namespace, m.Key}] = name
			}
			if namespace == secrets.AllNamespaces || namespace == m.Namespace {
				out = append(out, m)
			}
		}
	}
	b.mu.Lock()
	if namespace == secrets.AllNamespaces {
		b.external = ext
	} else {
		maps.Copy(b.external, ext)
	}
	b.mu.Unlock()
	return out, nil
}
