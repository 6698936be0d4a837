package azurefake

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// VaultResource is the resource (audience) of Key Vault access tokens.
const VaultResource = "https://vault.azure.net"

const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Identity is an application registration or user-assigned managed identity
// known to Entra: the client id a workload authenticates as, the object id
// role assignments name, and its tenant.
type Identity struct {
	Name     string
	ClientID string
	ObjectID string
	TenantID string
	e        *Emulator
}

// FederatedCredential trusts tokens from an external issuer for an identity.
// All three fields are compared exactly as Entra does: the issuer including
// any trailing slash, the subject case-sensitively, and one of the audiences.
type FederatedCredential struct {
	Name      string
	Issuer    string
	Subject   string
	Audiences []string
}

type identityRecord struct {
	id      Identity
	feds    []FederatedCredential
	secrets []string
}

// AddIdentity registers an identity. Empty ids are generated; an empty
// tenant means the default tenant, and the tenant becomes known.
func (e *Emulator) AddIdentity(id Identity) *Identity {
	if id.ClientID == "" {
		id.ClientID = uuid.NewString()
	}
	if id.ObjectID == "" {
		id.ObjectID = uuid.NewString()
	}
	if id.TenantID == "" {
		id.TenantID = e.opts.TenantID
	}
	id.e = e
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tenants[strings.ToLower(id.TenantID)] = true
	e.identities[strings.ToLower(id.ClientID)] = &identityRecord{id: id}
	out := id
	return &out
}

// AddFederatedCredential adds a federated identity credential. Audiences
// defaults to [ServiceAccountAudience].
func (id *Identity) AddFederatedCredential(fc FederatedCredential) {
	if len(fc.Audiences) == 0 {
		fc.Audiences = []string{ServiceAccountAudience}
	}
	id.e.mu.Lock()
	defer id.e.mu.Unlock()
	rec := id.e.identities[strings.ToLower(id.ClientID)]
	rec.feds = append(rec.feds, fc)
}

// AddClientSecret adds a client secret the identity may authenticate with.
func (id *Identity) AddClientSecret(secret string) {
	id.e.mu.Lock()
	defer id.e.mu.Unlock()
	rec := id.e.identities[strings.ToLower(id.ClientID)]
	rec.secrets = append(rec.secrets, secret)
}

// entraError is an Entra ID error answer.
type entraError struct {
	status int
	kind   string // OAuth error: invalid_request, invalid_client …
	code   int    // AADSTS number
	msg    string // text after "AADSTSnnnn: "
}

func (err *entraError) Error() string { return fmt.Sprintf("AADSTS%d: %s", err.code, err.msg) }

func (e *Emulator) writeEntraError(w http.ResponseWriter, err *entraError) {
	now := e.clock.Now().UTC()
	trace, corr := uuid.NewString(), uuid.NewString()
	writeJSON(w, err.status, map[string]any{
		"error": err.kind,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			err.code, err.msg, trace, corr, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":    []int{err.code},
		"timestamp":      now.Format("2006-01-02 15:04:05Z"),
		"trace_id":       trace,
		"correlation_id": corr,
		"error_uri":      e.base + "/error?code=" + fmt.Sprint(err.code),
	})
}

func (e *Emulator) entraRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /common/discovery/instance", e.observe("discovery", e.instanceDiscovery))
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", e.observe("openid-configuration", e.openIDConfiguration))
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", e.observe("keys", func(w http.ResponseWriter, r *http.Request, _ *Request) {
		writeJSON(w, http.StatusOK, map[string]any{"keys": []jwk{e.entra.jwk()}})
	}))
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", e.observe("token", e.token))
}

// observe wraps an Entra handler with fault injection (token endpoint only),
// counting and the request log.
func (e *Emulator) observe(op string, h func(http.ResponseWriter, *http.Request, *Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		entry := &Request{Time: e.clock.Now(), Service: "entra", Operation: op, Method: r.Method, Path: r.URL.Path}
		rec := &statusRecorder{ResponseWriter: w}
		recorded := false
		defer func() {
			if recorded {
				return
			}
			if rec.status == 0 && entry.ErrorCode != "ConnectionReset" && entry.ErrorCode != "ClientGone" {
				rec.status = http.StatusOK // nothing written explicitly; hijacked connections keep 0
			}
			entry.Status = rec.status
			e.journal.record(*entry)
			e.log.Debug("entra request", "operation", op, "caller", entry.Caller, "status", entry.Status, "error_code", entry.ErrorCode)
		}()
		if op == "token" {
			r.Body = http.MaxBytesReader(rec, r.Body, maxBodyBytes)
			_ = r.ParseForm()
			entry.Caller = r.PostForm.Get("client_id")
			handled, code := e.faults.inject(rec, r, func(w http.ResponseWriter, status int, code, msg string) {
				kind := "temporarily_unavailable"
				if status >= 500 {
					kind = "server_error"
				}
				e.writeEntraError(w, &entraError{status: status, kind: kind, code: 90033, msg: msg})
			})
			if handled {
				entry.ErrorCode = code
				if code == "ConnectionReset" {
					e.journal.record(*entry)
					recorded = true
					resetConnection(rec)
				}
				return
			}
		}
		h(rec, r, entry)
	}
}

func (e *Emulator) tenantKnown(t string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tenants[strings.ToLower(t)]
}

func errTenantNotFound(t string) *entraError {
	return &entraError{status: http.StatusBadRequest, kind: "invalid_request", code: 90002,
		msg: fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", t)}
}

func (e *Emulator) instanceDiscovery(w http.ResponseWriter, r *http.Request, _ *Request) {
	tenant := "common"
	if ae, err := url.Parse(r.URL.Query().Get("authorization_endpoint")); err == nil {
		if parts := strings.Split(strings.Trim(ae.Path, "/"), "/"); len(parts) > 0 && parts[0] != "" {
			tenant = parts[0]
		}
	}
	host := strings.TrimPrefix(e.base, "https://")
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": e.base + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": host, "preferred_cache": host, "aliases": []string{host},
		}},
	})
}

func (e *Emulator) openIDConfiguration(w http.ResponseWriter, r *http.Request, entry *Request) {
	t := r.PathValue("tenant")
	if !e.tenantKnown(t) && t != "common" && t != "organizations" {
		ee := errTenantNotFound(t)
		entry.ErrorCode = fmt.Sprintf("AADSTS%d", ee.code)
		e.writeEntraError(w, ee)
		return
	}
	root := e.base + "/" + t
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        root + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              root + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                root + "/v2.0",
		"authorization_endpoint":                root + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         root + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  root + "/oauth2/v2.0/logout",
		"tenant_region_scope":                   "NA",
		"cloud_instance_name":                   "microsoftonline.com",
	})
}

// token implements POST /{tenant}/oauth2/v2.0/token for the client
// credentials grant, with a client secret or a federated client assertion.
func (e *Emulator) token(w http.ResponseWriter, r *http.Request, entry *Request) {
	resp, err := e.issueToken(r, entry)
	if err != nil {
		entry.ErrorCode = fmt.Sprintf("AADSTS%d", err.code)
		e.writeEntraError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	writeJSON(w, http.StatusOK, resp)
}

func missingParam(name string) *entraError {
	return &entraError{status: http.StatusBadRequest, kind: "invalid_request", code: 900144,
		msg: fmt.Sprintf("The request body must contain the following parameter: '%s'.", name)}
}

func (e *Emulator) issueToken(r *http.Request, entry *Request) (map[string]any, *entraError) {
	tenant := r.PathValue("tenant")
	if !e.tenantKnown(tenant) {
		return nil, errTenantNotFound(tenant)
	}
	f := r.PostForm
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		if gt == "" {
			return nil, missingParam("grant_type")
		}
		return nil, &entraError{status: http.StatusBadRequest, kind: "unsupported_grant_type", code: 70003,
			msg: "The app requested an unsupported grant type '" + gt + "'."}
	}
	clientID := f.Get("client_id")
	if clientID == "" {
		return nil, missingParam("client_id")
	}
	// MSAL adds the OpenID scopes to every request; Entra ignores them here.
	scopes := slices.DeleteFunc(strings.Fields(f.Get("scope")), func(s string) bool {
		return s == "openid" || s == "offline_access" || s == "profile" || s == "email"
	})
	if len(scopes) == 0 {
		return nil, missingParam("scope")
	}
	if len(scopes) != 1 || !strings.HasSuffix(scopes[0], "/.default") {
		return nil, &entraError{status: http.StatusBadRequest, kind: "invalid_scope", code: 1002012,
			msg: fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", f.Get("scope"))}
	}
	e.mu.Lock()
	rec, ok := e.identities[strings.ToLower(clientID)]
	var snapshot identityRecord
	if ok {
		snapshot = identityRecord{id: rec.id, feds: slices.Clone(rec.feds), secrets: slices.Clone(rec.secrets)}
	}
	e.mu.Unlock()
	if !ok || !strings.EqualFold(snapshot.id.TenantID, tenant) {
		return nil, &entraError{status: http.StatusBadRequest, kind: "unauthorized_client", code: 700016,
			msg: fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenant)}
	}
	var acr string
	switch {
	case f.Has("client_secret"):
		if !slices.Contains(snapshot.secrets, f.Get("client_secret")) {
			return nil, &entraError{status: http.StatusUnauthorized, kind: "invalid_client", code: 7000215,
				msg: fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID)}
		}
		acr = "1"
	case f.Has("client_assertion"):
		if t := f.Get("client_assertion_type"); t != jwtBearer {
			return nil, &entraError{status: http.StatusBadRequest, kind: "invalid_request", code: 50027,
				msg: "Invalid client_assertion_type '" + t + "'; expected '" + jwtBearer + "'."}
		}
		jti, err := e.checkAssertion(f.Get("client_assertion"), snapshot)
		entry.AssertionID = jti
		if err != nil {
			return nil, err
		}
		acr = "2"
	default:
		return nil, &entraError{status: http.StatusUnauthorized, kind: "invalid_client", code: 7000216,
			msg: "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type."}
	}
	resource := strings.TrimSuffix(scopes[0], "/.default")
	now := e.clock.Now().Truncate(time.Second)
	life := e.opts.AccessTokenLifetime
	at, err := e.entra.sign(jwt.MapClaims{
		"aud":      resource,
		"iss":      "https://sts.windows.net/" + snapshot.id.TenantID + "/",
		"iat":      now.Unix(),
		"nbf":      now.Unix(),
		"exp":      now.Add(life).Unix(),
		"appid":    snapshot.id.ClientID,
		"appidacr": acr,
		"idtyp":    "app",
		"oid":      snapshot.id.ObjectID,
		"sub":      snapshot.id.ObjectID,
		"tid":      snapshot.id.TenantID,
		"ver":      "1.0",
		"uti":      uuid.NewString(),
	})
	if err != nil {
		return nil, &entraError{status: http.StatusInternalServerError, kind: "server_error", code: 90033, msg: "token signing failed"}
	}
	secs := int(life / time.Second)
	return map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   at,
	}, nil
}

// checkAssertion validates a federated client assertion the way Entra does:
// a matching federated credential (issuer, subject, audience), a signature
// from the issuer's keys, and the time window. It returns the assertion's jti.
func (e *Emulator) checkAssertion(assertion string, rec identityRecord) (string, *entraError) {
	claims, err := unverified(assertion)
	if err != nil {
		return "", &entraError{status: http.StatusBadRequest, kind: "invalid_request", code: 50027,
			msg: "JWT token is invalid or malformed."}
	}
	jti, _ := claims["jti"].(string)
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	auds := audiences(claims)
	// Entra answers a federated-credential mismatch with 401 invalid_client
	// (400 invalid_request before 2023).
	mismatch := func(code int, msg string) *entraError {
		return &entraError{status: http.StatusUnauthorized, kind: "invalid_client", code: code, msg: msg}
	}
	const check = "Check your federated identity credential Subject, Audience and Issuer against the presented assertion."
	const doc = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
	if len(rec.feds) == 0 {
		return jti, mismatch(70021, fmt.Sprintf("No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'. %s", iss, sub, strings.Join(auds, ","), doc))
	}
	var byIssuer, bySubject []FederatedCredential
	foldedSubject := false
	for _, fc := range rec.feds {
		if fc.Issuer == iss {
			byIssuer = append(byIssuer, fc)
		}
	}
	for _, fc := range byIssuer {
		switch {
		case fc.Subject == sub:
			bySubject = append(bySubject, fc)
		case strings.EqualFold(fc.Subject, sub):
			foldedSubject = true
		}
	}
	matched := slices.ContainsFunc(bySubject, func(fc FederatedCredential) bool {
		return slices.ContainsFunc(auds, func(a string) bool { return slices.Contains(fc.Audiences, a) })
	})
	switch {
	case len(byIssuer) == 0:
		return jti, mismatch(700211, fmt.Sprintf("No matching federated identity record found for presented assertion issuer '%s'. %s %s", iss, check, doc))
	case len(bySubject) == 0 && foldedSubject:
		return jti, mismatch(7002138, fmt.Sprintf("No matching federated identity record found for presented assertion subject '%s'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. %s See documentation at: %s.", sub, check, doc))
	case len(bySubject) == 0:
		return jti, mismatch(700213, fmt.Sprintf("No matching federated identity record found for presented assertion subject '%s'. %s %s", sub, check, doc))
	case !matched:
		return jti, mismatch(700212, fmt.Sprintf("No matching federated identity record found for presented assertion audience '%s'. %s %s", strings.Join(auds, ","), check, doc))
	}
	if iss != e.issuer.url {
		return jti, &entraError{status: http.StatusUnauthorized, kind: "invalid_client", code: 50166,
			msg: fmt.Sprintf("Request to External OIDC endpoint failed. The issuer '%s' is not reachable from this emulator.", iss)}
	}
	if _, err := e.issuer.signer.verify(assertion); err != nil {
		return jti, &entraError{status: http.StatusUnauthorized, kind: "invalid_client", code: 700027,
			msg: "Client assertion failed signature validation."}
	}
	now := e.clock.Now()
	nbf, hasNbf := numericTime(claims, "nbf")
	exp, hasExp := numericTime(claims, "exp")
	from, until := time.Unix(nbf, 0).UTC(), time.Unix(exp, 0).UTC()
	skew := e.opts.AssertionSkew
	if !hasExp || (hasNbf && now.Add(skew).Before(from)) || !now.Add(-skew).Before(until) {
		return jti, &entraError{status: http.StatusUnauthorized, kind: "invalid_client", code: 700024,
			msg: fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
				now.UTC().Format("2006-01-02T15:04:05.0000000Z"), from.Format("2006-01-02T15:04:05.0000000Z"), until.Format("2006-01-02T15:04:05.0000000Z"))}
	}
	return jti, nil
}
