package azurekv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/ospreyhq/osprey/config"
)

// Credential kinds, in the order Kestra documents and Osprey tries them.
const (
	KindClientSecret     = "client-secret"
	KindManagedIdentity  = "managed-identity"
	KindWorkloadIdentity = "workload-identity"
	KindDefault          = "default-chain"
)

// Environ is the subset of the process environment the credentials read,
// injected so that tests and `osprey secrets doctor` see exactly what the
// server sees.
type Environ map[string]string

// ParseEnviron reads KEY=VALUE pairs.
func ParseEnviron(kv []string) Environ {
	env := Environ{}
	for _, s := range kv {
		if k, v, ok := strings.Cut(s, "="); ok {
			env[k] = v
		}
	}
	return env
}

// Webhook variables, injected by the Azure Workload Identity webhook into
// pods labelled azure.workload.identity/use: "true".
const (
	EnvClientID      = "AZURE_CLIENT_ID"
	EnvTenantID      = "AZURE_TENANT_ID"
	EnvTokenFile     = "AZURE_FEDERATED_TOKEN_FILE"
	EnvAuthorityHost = "AZURE_AUTHORITY_HOST"
)

// podFix is what a pod needs for the webhook to inject its variables.
const podFix = `the pod needs the label azure.workload.identity/use: "true" and a service account annotated azure.workload.identity/client-id: <client id> (Helm: serviceAccount.annotations and podLabels), so the Azure Workload Identity webhook injects AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST`

// CredentialPlan is the credential chosen from the configuration and the
// environment, before any network call.
type CredentialPlan struct {
	Kind      string
	ClientID  string
	TenantID  string
	TokenFile string
	// DisableInstanceDiscovery is set for authority hosts MSAL does not
	// know (sovereign or private clouds, a local emulator), so it does
	// not ask login.microsoftonline.com to vouch for them.
	DisableInstanceDiscovery bool
	// Warnings are non-fatal findings (e.g. a client id that differs from
	// the webhook's).
	Warnings []string
}

// Plan picks the credential in Kestra's order (client secret, managed
// identity, workload identity, Azure's default chain) and checks what it
// needs, failing fast with the fix spelled out.
func Plan(cfg config.AzureKeyVault, env Environ) (CredentialPlan, error) {
	p, err := plan(cfg, env)
	p.DisableInstanceDiscovery = unknownAuthority(env[EnvAuthorityHost])
	return p, err
}

// knownAuthorities are the Entra hosts MSAL validates by itself.
var knownAuthorities = []string{"login.microsoftonline.com", "login.chinacloudapi.cn", "login.microsoftonline.us", "login.microsoftonline.de"}

func unknownAuthority(host string) bool {
	if host == "" {
		return false
	}
	u, err := url.Parse(host)
	if err != nil {
		return true
	}
	return !slices.Contains(knownAuthorities, strings.ToLower(u.Hostname()))
}

func plan(cfg config.AzureKeyVault, env Environ) (CredentialPlan, error) {
	switch {
	case cfg.ClientSecret.Set():
		cs := cfg.ClientSecret
		var missing []string
		if cs.TenantID == "" {
			missing = append(missing, "tenant-id")
		}
		if cs.ClientID == "" {
			missing = append(missing, "client-id")
		}
		if cs.ClientSecret.IsZero() {
			missing = append(missing, "client-secret")
		}
		if len(missing) > 0 {
			return CredentialPlan{}, fmt.Errorf("kestra.secret.azure-key-vault.client-secret needs %s as well: set all three (az ad sp create-for-rbac prints them), or remove the block to use workload identity", strings.Join(missing, ", "))
		}
		return CredentialPlan{Kind: KindClientSecret, ClientID: cs.ClientID, TenantID: cs.TenantID}, nil
	case cfg.ManagedIdentityClientID != "" || cfg.ManagedIdentityResourceID != "":
		if cfg.ManagedIdentityClientID != "" && cfg.ManagedIdentityResourceID != "" {
			return CredentialPlan{}, errors.New("set only one of kestra.secret.azure-key-vault.managed-identity-client-id and managed-identity-resource-id")
		}
		return CredentialPlan{Kind: KindManagedIdentity, ClientID: cfg.ManagedIdentityClientID}, nil
	case cfg.WorkloadIdentityClientID != "":
		p := CredentialPlan{Kind: KindWorkloadIdentity, ClientID: cfg.WorkloadIdentityClientID, TenantID: env[EnvTenantID], TokenFile: env[EnvTokenFile]}
		if err := checkWorkload(p, env); err != nil {
			return p, err
		}
		if c := env[EnvClientID]; c != "" && !strings.EqualFold(c, p.ClientID) {
			p.Warnings = append(p.Warnings, fmt.Sprintf("workload-identity-client-id %s differs from AZURE_CLIENT_ID %s set by the webhook from the service account annotation; Osprey uses the configured one, which needs its own federated credential for this service account", p.ClientID, c))
		}
		return p, nil
	case env[EnvTokenFile] != "" && env[EnvClientID] != "":
		p := CredentialPlan{Kind: KindWorkloadIdentity, ClientID: env[EnvClientID], TenantID: env[EnvTenantID], TokenFile: env[EnvTokenFile]}
		return p, checkWorkload(p, env)
	}
	return CredentialPlan{Kind: KindDefault, ClientID: env[EnvClientID], TenantID: env[EnvTenantID]}, nil
}

func checkWorkload(p CredentialPlan, env Environ) error {
	if p.TokenFile == "" {
		return fmt.Errorf("workload identity is configured but AZURE_FEDERATED_TOKEN_FILE is not set: %s", podFix)
	}
	if p.TenantID == "" {
		return fmt.Errorf("workload identity is configured but AZURE_TENANT_ID is not set: %s", podFix)
	}
	if _, err := os.Stat(p.TokenFile); err != nil {
		return fmt.Errorf("AZURE_FEDERATED_TOKEN_FILE %s cannot be read (%v): the projected service account token volume (azure-identity-token) is not mounted; %s", p.TokenFile, errors.Unwrap(err), podFix)
	}
	return nil
}

// NewCredential builds the planned credential. Workload identity reads the
// token file on every token request, so a token the kubelet rotated is
// always the one presented (azidentity's own credential keeps an assertion
// for ten minutes).
func NewCredential(p CredentialPlan, cfg config.AzureKeyVault, opts azcore.ClientOptions) (azcore.TokenCredential, error) {
	tenants := cfg.AdditionallyAllowedTenants
	switch p.Kind {
	case KindClientSecret:
		return azidentity.NewClientSecretCredential(p.TenantID, p.ClientID, cfg.ClientSecret.ClientSecret.Reveal(),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, AdditionallyAllowedTenants: tenants, DisableInstanceDiscovery: p.DisableInstanceDiscovery})
	case KindManagedIdentity:
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		if cfg.ManagedIdentityClientID != "" {
			o.ID = azidentity.ClientID(cfg.ManagedIdentityClientID)
		} else {
			o.ID = azidentity.ResourceID(cfg.ManagedIdentityResourceID)
		}
		return azidentity.NewManagedIdentityCredential(o)
	case KindWorkloadIdentity:
		file := p.TokenFile
		read := func(context.Context) (string, error) {
			b, err := os.ReadFile(file)
			if err != nil {
				return "", fmt.Errorf("read the service account token %s: %w", file, err)
			}
			return strings.TrimSpace(string(b)), nil
		}
		return azidentity.NewClientAssertionCredential(p.TenantID, p.ClientID, read,
			&azidentity.ClientAssertionCredentialOptions{ClientOptions: opts, AdditionallyAllowedTenants: tenants, DisableInstanceDiscovery: p.DisableInstanceDiscovery})
	default:
		return azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{ClientOptions: opts, AdditionallyAllowedTenants: tenants, DisableInstanceDiscovery: p.DisableInstanceDiscovery})
	}
}
