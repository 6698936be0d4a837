package azurekv

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ospreyhq/osprey/secrets"
)

// TokenClaims are the parts of a service account token that a federated
// credential must match.
type TokenClaims struct {
	Issuer    string
	Subject   string
	Audiences []string
	Expires   time.Time
}

// ReadTokenClaims decodes (without verifying) the token in path.
func ReadTokenClaims(path string) (TokenClaims, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return TokenClaims{}, fmt.Errorf("read token file: %w", err)
	}
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(strings.TrimSpace(string(raw)), &claims); err != nil {
		return TokenClaims{}, fmt.Errorf("decode token file %s: %w", path, err)
	}
	tc := TokenClaims{Issuer: claims.Issuer, Subject: claims.Subject, Audiences: claims.Audience}
	if claims.ExpiresAt != nil {
		tc.Expires = claims.ExpiresAt.Time
	}
	return tc, nil
}

var (
	aadsts      = regexp.MustCompile(`AADSTS(\d+)`)
	otherTenant = regexp.MustCompile(`isn't configured to acquire tokens for tenant "([^"]+)"`)
)

// op says what Osprey was doing, to name the role that grants it.
type op int

const (
	opRead op = iota
	opList
	opWrite
)

// explain translates an Azure error into what to change in Azure, wrapping
// the secrets sentinel callers branch on. It never includes a secret value:
// Azure's error bodies carry none, and only status, codes and messages are
// kept.
func (b *Backend) explain(err error, o op, name string) error {
	if err == nil {
		return nil
	}
	var authErr *azidentity.AuthenticationFailedError
	if errors.As(err, &authErr) || aadsts.MatchString(err.Error()) {
		return fmt.Errorf("%w: %s", secrets.ErrUnavailable, b.explainToken(err))
	}
	if m := otherTenant.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%w: Key Vault %s belongs to tenant %s but the identity is in %s: use an identity of the vault's tenant (AZURE_TENANT_ID), or add %s to kestra.secret.azure-key-vault.additionally-allowed-tenants",
			secrets.ErrUnavailable, b.vault, m[1], b.plan.TenantID, m[1])
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return fmt.Errorf("%w: cannot reach Key Vault %s: %v — check the vault URI, DNS and network egress from the pod (the vault's firewall or private endpoint)", secrets.ErrUnavailable, b.uri, shorten(err))
	}
	msg := shorten(err)
	switch {
	case re.StatusCode == http.StatusNotFound:
		return fmt.Errorf("vault secret %s: %w", name, secrets.ErrNotFound)
	case re.StatusCode == http.StatusForbidden && strings.Contains(err.Error(), "SecretDisabled"):
		return fmt.Errorf("%w: vault secret %s is disabled in %s; enable it (az keyvault secret set-attributes --vault-name %s --name %s --enabled true)", secrets.ErrForbidden, name, b.vault, b.vault, name)
	case re.StatusCode == http.StatusForbidden:
		role, action := "Key Vault Secrets User", "read secrets"
		if o == opWrite {
			role, action = "Key Vault Secrets Officer", "create, update and delete secrets"
		}
		return fmt.Errorf("%w: Key Vault %s refused identity %s (%s): to %s, assign the role %q: az role assignment create --role %q --assignee %s --scope $(az keyvault show -n %s --query id -o tsv); or set kestra.secret.read-only: true if Osprey should only read",
			secrets.ErrForbidden, b.vault, b.plan.ClientID, re.ErrorCode, action, role, role, b.plan.ClientID, b.vault)
	case re.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%w: Key Vault %s did not accept the access token (%s): the vault trusts one tenant; check AZURE_TENANT_ID (%s) matches az keyvault show -n %s --query properties.tenantId, or list the vault's tenant in kestra.secret.azure-key-vault.additionally-allowed-tenants",
			secrets.ErrUnavailable, b.vault, msg, b.plan.TenantID, b.vault)
	case re.StatusCode == http.StatusConflict:
		return fmt.Errorf("%w: vault secret %s: %s", secrets.ErrConflict, name, msg)
	case re.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("%w: Key Vault %s is throttling (429) after %d retries honouring Retry-After: the vault allows 4,000 operations per 10 seconds across all clients; raise kestra.secret.cache.expire-after-write, or look for other heavy users of the vault",
			secrets.ErrUnavailable, b.vault, b.retries)
	case re.StatusCode >= 500:
		return fmt.Errorf("%w: Key Vault %s answered %d (%s) after %d retries; see https://status.azure.com", secrets.ErrUnavailable, b.vault, re.StatusCode, re.ErrorCode, b.retries)
	}
	return fmt.Errorf("key vault %s: %s", b.vault, msg)
}

// explainToken says which federated credential field (or which variable) to
// fix for an Entra refusal.
func (b *Backend) explainToken(err error) string {
	code := ""
	if m := aadsts.FindStringSubmatch(err.Error()); m != nil {
		code = m[1]
	}
	p := b.plan
	claims := TokenClaims{Issuer: "<issuer>", Subject: "<subject>", Audiences: []string{"api://AzureADTokenExchange"}}
	if p.TokenFile != "" {
		if c, err := ReadTokenClaims(p.TokenFile); err == nil {
			claims = c
		}
	}
	create := fmt.Sprintf("az identity federated-credential create --name osprey --identity-name <identity> --resource-group <group> --issuer %s --subject %s --audiences %s",
		claims.Issuer, claims.Subject, strings.Join(claims.Audiences, ","))
	switch code {
	case "70021", "700211", "700212", "700213":
		field := map[string]string{"70021": "issuer, subject and audience", "700211": "issuer", "700212": "audience", "700213": "subject"}[code]
		return fmt.Sprintf("Entra refused the federated token (AADSTS%s): no federated credential of identity %s matches its %s (token issuer %s, subject %s, audience %s). Fix the federated credential's %s — the issuer is az aks show -n <cluster> -g <group> --query oidcIssuerProfile.issuerUrl (exact, with its trailing slash) and the subject is system:serviceaccount:<namespace>:<service account> — e.g. %s",
			code, p.ClientID, field, claims.Issuer, claims.Subject, strings.Join(claims.Audiences, ","), field, create)
	case "700016":
		return fmt.Sprintf("Entra does not know client id %s in tenant %s (AADSTS700016): set workload-identity-client-id (and the service account annotation azure.workload.identity/client-id) to the identity's client id (az identity show -n <identity> -g <group> --query clientId), and AZURE_TENANT_ID to its tenant", p.ClientID, p.TenantID)
	case "90002":
		return fmt.Sprintf("Entra does not know tenant %s (AADSTS90002): set AZURE_TENANT_ID (or client-secret.tenant-id) to az account show --query tenantId", p.TenantID)
	case "700024":
		return fmt.Sprintf("Entra refused an expired service account token (AADSTS700024) read from %s: the kubelet is not refreshing the projected token; check the azure-identity-token volume and the node's clock", p.TokenFile)
	case "50166", "700027":
		return fmt.Sprintf("Entra could not validate the service account token (AADSTS%s): the cluster's OIDC issuer must be enabled and publicly reachable (az aks update --enable-oidc-issuer), and the federated credential's issuer must be that issuer URL", code)
	case "7000215", "7000222":
		return fmt.Sprintf("Entra refused the client secret (AADSTS%s): set kestra.secret.azure-key-vault.client-secret.client-secret to a current secret value of app %s (az ad app credential reset --id %s)", code, p.ClientID, p.ClientID)
	}
	return fmt.Sprintf("could not get a Key Vault token with %s credential for client %s: %s", p.Kind, p.ClientID, shorten(err))
}

// shorten keeps the first line of an Azure error that matters, dropping
// the SDK's multi-line dumps.
func shorten(err error) string {
	s := err.Error()
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "AADSTS") || strings.Contains(line, "\"message\"") {
			return strings.Trim(line, `",`)
		}
	}
	if i := strings.IndexByte(s, '\n'); i > 0 {
		s = s[:i]
	}
	return s
}
