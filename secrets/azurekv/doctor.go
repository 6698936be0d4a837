package azurekv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/secrets"
)

// Check is one line of `osprey secrets doctor`.
type Check struct {
	Name   string
	Status Status
	Detail string
	// Fix says what to change when Status is Fail or Warn.
	Fix string
}

// Status of a check.
type Status string

// Statuses.
const (
	Pass Status = "PASS"
	Warn Status = "WARN"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// Diagnose walks a Workload Identity set-up from the configuration to the
// vault's permissions, one check at a time, stopping where a later check
// could only fail for the same reason. It runs inside the pod with the
// pod's own environment and needs no Azure CLI.
func Diagnose(ctx context.Context, cfg config.SecretManager, env Environ, transport policy.Transporter, now time.Time) []Check {
	var out []Check
	add := func(c Check) { out = append(out, c) }
	az := cfg.Azure
	uri := az.URI()
	if uri == "" {
		add(Check{Name: "config", Status: Fail, Detail: "kestra.secret.azure-key-vault.vault-name is not set", Fix: "set vault-name to your vault's name (az keyvault list -o table)"})
		return out
	}
	plan, planErr := Plan(az, env)
	add(Check{Name: "config", Status: Pass, Detail: fmt.Sprintf("vault %s, credential %s, read-only %t", uri, plan.Kind, cfg.ReadOnly)})

	if plan.Kind == KindWorkloadIdentity || az.WorkloadIdentityClientID != "" {
		var missing []string
		for _, k := range []string{EnvClientID, EnvTenantID, EnvTokenFile, EnvAuthorityHost} {
			if env[k] == "" {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			add(Check{Name: "environment", Status: Fail, Detail: strings.Join(missing, ", ") + " not set", Fix: podFix})
		} else {
			add(Check{Name: "environment", Status: Pass, Detail: "AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST set by the webhook"})
		}
		for _, w := range plan.Warnings {
			add(Check{Name: "client id", Status: Warn, Detail: w, Fix: "set workload-identity-client-id to the service account's azure.workload.identity/client-id, or federate the configured identity too"})
		}
		if file := env[EnvTokenFile]; file != "" {
			add(tokenFileCheck(file, now))
		}
	}
	if planErr != nil {
		add(Check{Name: "credential", Status: Fail, Detail: planErr.Error()})
		return out
	}
	b, err := New(Options{Config: az, ReadOnly: cfg.ReadOnly, Environ: env, Transport: transport, MaxRetries: 1, RetryDelay: 100 * time.Millisecond})
	if err != nil {
		add(Check{Name: "credential", Status: Fail, Detail: err.Error()})
		return out
	}
	if _, err := b.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}, TenantID: plan.TenantID}); err != nil {
		add(Check{Name: "token exchange", Status: Fail, Detail: b.explainToken(err)})
		return out
	}
	add(Check{Name: "token exchange", Status: Pass, Detail: fmt.Sprintf("Entra issued a Key Vault token to %s with the %s credential", plan.ClientID, plan.Kind)})
	add(b.challengeCheck(ctx))
	out = append(out, b.permissionChecks(ctx)...)
	return out
}

func tokenFileCheck(file string, now time.Time) Check {
	c := Check{Name: "token file"}
	claims, err := ReadTokenClaims(file)
	if err != nil {
		c.Status, c.Detail, c.Fix = Fail, err.Error(), "mount the projected service account token (the webhook adds the azure-identity-token volume to pods labelled azure.workload.identity/use: \"true\")"
		return c
	}
	left := claims.Expires.Sub(now).Round(time.Second)
	c.Detail = fmt.Sprintf("iss %s, sub %s, aud %s, expires in %s", claims.Issuer, claims.Subject, strings.Join(claims.Audiences, ","), left)
	switch {
	case left <= 0:
		c.Status, c.Fix = Fail, "the token has expired: the kubelet is not refreshing the projected volume; check the node and the pod's volume"
	case !slices.Contains(claims.Audiences, "api://AzureADTokenExchange"):
		c.Status, c.Fix = Fail, "the token's audience must be api://AzureADTokenExchange (the webhook's projected volume sets it)"
	default:
		c.Status = Pass
	}
	return c
}

var challengeTenant = regexp.MustCompile(`authorization(?:_uri)?="https://[^/"]+/([^/"]+)`)

// challengeCheck asks the vault, unauthenticated, which tenant it trusts.
func (b *Backend) challengeCheck(ctx context.Context) Check {
	c := Check{Name: "vault challenge"}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(b.uri, "/")+"/secrets?api-version=7.5", nil)
	if err != nil {
		c.Status, c.Detail = Fail, err.Error()
		return c
	}
	do := http.DefaultClient.Do
	if b.hc != nil {
		do = b.hc.Do
	}
	resp, err := do(req)
	if err != nil {
		c.Status, c.Detail, c.Fix = Fail, fmt.Sprintf("cannot reach %s: %v", b.uri, err), "check the vault URI, DNS and egress from the pod (vault firewall, private endpoint)"
		return c
	}
	resp.Body.Close()
	m := challengeTenant.FindStringSubmatch(resp.Header.Get("WWW-Authenticate"))
	if resp.StatusCode != http.StatusUnauthorized || m == nil {
		c.Status, c.Detail = Warn, fmt.Sprintf("the vault answered %d without a Bearer challenge", resp.StatusCode)
		return c
	}
	tenant := m[1]
	allowed := strings.EqualFold(tenant, b.plan.TenantID) || slices.ContainsFunc(b.cfg.AdditionallyAllowedTenants, func(t string) bool { return t == "*" || strings.EqualFold(t, tenant) })
	if !allowed {
		c.Status, c.Detail = Fail, fmt.Sprintf("the vault trusts tenant %s but the identity is in %s", tenant, b.plan.TenantID)
		c.Fix = "use an identity of the vault's tenant (AZURE_TENANT_ID), or add the tenant to kestra.secret.azure-key-vault.additionally-allowed-tenants"
		return c
	}
	c.Status, c.Detail = Pass, "the vault trusts tenant "+tenant
	return c
}

// permissionChecks tries list, get and (unless read-only) update, on
// names that do not exist where possible, so nothing is changed.
func (b *Backend) permissionChecks(ctx context.Context) []Check {
	var out []Check
	probe := "osprey-doctor-probe-" + fmt.Sprint(time.Now().UnixNano())
	perm := func(name, role string, err error) Check {
		if err == nil || errors.Is(err, secrets.ErrNotFound) {
			return Check{Name: name, Status: Pass, Detail: "allowed"}
		}
		fix := fmt.Sprintf("az role assignment create --role %q --assignee %s --scope $(az keyvault show -n %s --query id -o tsv)", role, b.plan.ClientID, b.vault)
		if errors.Is(err, secrets.ErrForbidden) {
			return Check{Name: name, Status: Fail, Detail: fmt.Sprintf("refused: assign %q", role), Fix: fix}
		}
		return Check{Name: name, Status: Fail, Detail: err.Error()}
	}
	out = append(out, perm("list permission", "Key Vault Secrets User", b.Check(ctx)))
	_, err := b.client.GetSecret(ctx, probe, "", nil)
	out = append(out, perm("get permission", "Key Vault Secrets User", b.explain(err, opRead, probe)))
	if b.readOnly {
		out = append(out, Check{Name: "set permission", Status: Skip, Detail: "read-only: Osprey will not write (Key Vault Secrets User is enough)"})
		return out
	}
	_, err = b.client.UpdateSecretProperties(ctx, probe, "", azsecrets.UpdateSecretPropertiesParameters{}, nil)
	c := perm("set permission", "Key Vault Secrets Officer", b.explain(err, opWrite, probe))
	if c.Status == Fail {
		c.Fix += "; or set kestra.secret.read-only: true if Osprey should only read"
	}
	return append(out, c)
}
