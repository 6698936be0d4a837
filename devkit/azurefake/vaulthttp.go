package azurefake

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Key Vault's data-plane limits on secrets.
const (
	maxValueBytes     = 25 * 1024
	maxTags           = 15
	maxTagNameLen     = 512
	maxTagValueLen    = 512
	maxContentTypeLen = 255
	maxPageSize       = 25
	maxBodyBytes      = 1 << 20
)

// apiVersions are the data-plane versions the emulator answers.
var apiVersions = []string{"7.4", "7.5", "7.6", "2025-07-01", "2026-04-01"}

var secretNameRE = regexp.MustCompile(`^[0-9a-zA-Z-]{1,127}$`)

// kvError is a Key Vault error answer:
// {"error":{"code":…,"message":…,"innererror":{"code":…}}}.
type kvError struct {
	status int
	code   string
	inner  string
	msg    string
}

func (err *kvError) Error() string { return err.code + ": " + err.msg }

func writeKVError(w http.ResponseWriter, status int, code, inner, msg string) {
	body := map[string]any{"code": code, "message": msg}
	if inner != "" {
		body["innererror"] = map[string]any{"code": inner}
	}
	writeJSON(w, status, map[string]any{"error": body})
}

// vaultAppID is Key Vault's application id, the other audience it accepts.
const vaultAppID = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"

// caller is the principal behind a validated access token.
type caller struct {
	appID, objectID, tenantID, issuer string
}

// call is one authenticated, authorised request being served.
type call struct {
	r       *http.Request
	caller  *caller
	now     time.Time
	name    string // secret name from the path, "" for collection operations
	version string
}

type opFunc func(c *call) (status int, body any, err *kvError)

func (v *Vault) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /secrets/{name}", v.op("SetSecret", actionSetSecret, v.setSecret))
	mux.HandleFunc("GET /secrets", v.op("GetSecrets", actionReadMetadata, v.listSecrets))
	mux.HandleFunc("GET /secrets/{name}", v.op("GetSecret", actionGetSecret, v.getSecret))
	mux.HandleFunc("GET /secrets/{name}/{version...}", v.op("GetSecret", actionGetSecret, v.getSecret))
	mux.HandleFunc("GET /secrets/{name}/versions", v.op("GetSecretVersions", actionReadMetadata, v.listVersions))
	mux.HandleFunc("PATCH /secrets/{name}", v.op("UpdateSecret", actionUpdate, v.updateSecret))
	mux.HandleFunc("PATCH /secrets/{name}/{version...}", v.op("UpdateSecret", actionUpdate, v.updateSecret))
	mux.HandleFunc("DELETE /secrets/{name}", v.op("DeleteSecret", actionDelete, v.deleteSecret))
	mux.HandleFunc("GET /deletedsecrets", v.op("GetDeletedSecrets", actionReadMetadata, v.listDeleted))
	mux.HandleFunc("GET /deletedsecrets/{name}", v.op("GetDeletedSecret", actionReadMetadata, v.getDeleted))
	mux.HandleFunc("DELETE /deletedsecrets/{name}", v.op("PurgeDeletedSecret", actionPurge, v.purgeDeleted))
	mux.HandleFunc("POST /deletedsecrets/{name}/recover", v.op("RecoverDeletedSecret", actionRecover, v.recoverDeleted))
	mux.HandleFunc("POST /secrets/{name}/backup", v.op("BackupSecret", actionBackup, v.backupSecret))
	mux.HandleFunc("POST /secrets/restore", v.op("RestoreSecret", actionRestore, v.restoreSecret))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeKVError(w, http.StatusNotFound, "NotFound", "", "The requested resource "+r.URL.Path+" was not found.")
	})
	return mux
}

// op wraps a secret operation with what every Key Vault request goes
// through, in Key Vault's order: injected faults, authentication (401 with
// the challenge), api-version, throttling, name rules, RBAC.
func (v *Vault) op(name, action string, fn opFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := v.e.clock.Now()
		entry := &Request{Time: now, Service: "vault/" + v.opts.Name, Operation: name, Method: r.Method, Path: r.URL.Path}
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
			v.journal.record(*entry)
			v.e.log.Debug("vault request", "vault", v.opts.Name, "operation", name, "caller", entry.Caller, "status", entry.Status, "error_code", entry.ErrorCode)
		}()
		fail := func(err *kvError) {
			entry.ErrorCode = err.code
			if err.inner != "" {
				entry.ErrorCode = err.inner
			}
			writeKVError(rec, err.status, err.code, err.inner, err.msg)
		}
		if handled, code := v.faults.inject(rec, r, func(w http.ResponseWriter, status int, code, msg string) {
			writeKVError(w, status, code, "", msg)
		}); handled {
			entry.ErrorCode = code
			if code == "ConnectionReset" {
				v.journal.record(*entry)
				recorded = true
				resetConnection(rec)
			}
			return
		}
		c, err := v.authenticate(r, now)
		if err != nil {
			rec.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization="%s%s", resource="%s"`, v.e.AuthorityHost(), v.opts.TenantID, VaultResource))
			fail(err)
			return
		}
		entry.Caller = c.objectID
		if err := checkAPIVersion(r.URL.Query().Get("api-version")); err != nil {
			fail(err)
			return
		}
		if wait, limit := v.throttle(now, name == "SetSecret"); wait > 0 {
			rec.Header().Set("Retry-After", strconv.Itoa(retrySeconds(wait)))
			v.e.log.Debug("vault throttled", "vault", v.opts.Name, "limit", limit, "window", v.opts.Limits.Window)
			fail(&kvError{status: http.StatusTooManyRequests, code: "Throttled",
				msg: "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached"})
			return
		}
		secret := r.PathValue("name")
		if secret != "" && !secretNameRE.MatchString(secret) {
			fail(&kvError{status: http.StatusBadRequest, code: "BadParameter", msg: "The request URI contains an invalid name: " + secret})
			return
		}
		if !v.allowed(c.objectID, action, secret) {
			resource := "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/osprey-local/providers/microsoft.keyvault/vaults/" + v.opts.Name
			if secret != "" {
				resource += "/secrets/" + secret
			}
			fail(&kvError{status: http.StatusForbidden, code: "Forbidden", inner: "ForbiddenByRbac", msg: forbiddenMessage(c, action, resource, v.opts.Name)})
			return
		}
		r.Body = http.MaxBytesReader(rec, r.Body, maxBodyBytes)
		status, body, err := fn(&call{r: r, caller: c, now: now, name: secret, version: r.PathValue("version")})
		if err != nil {
			fail(err)
			return
		}
		if body == nil {
			rec.WriteHeader(status)
			return
		}
		writeJSON(rec, status, body)
	}
}

func unauthorized(msg string) *kvError {
	return &kvError{status: http.StatusUnauthorized, code: "Unauthorized", msg: msg}
}

// authenticate validates the bearer token: Entra's signature, the vault
// audience, the vault's tenant and the time window on the emulator's clock.
func (v *Vault) authenticate(r *http.Request, now time.Time) (*caller, *kvError) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, unauthorized("AKV10000: Request is missing a Bearer or PoP token.")
	}
	claims, err := v.e.entra.verify(token)
	if err != nil {
		return nil, unauthorized("AKV10046: Unable to resolve the key used for signature validation.")
	}
	auds := audiences(claims)
	if !slices.Contains(auds, VaultResource) && !slices.Contains(auds, vaultAppID) {
		return nil, unauthorized(fmt.Sprintf("AKV10022: Invalid audience. Expected %s or %s, found: %s.", VaultResource, vaultAppID, strings.Join(auds, ",")))
	}
	iss, _ := claims["iss"].(string)
	want := "https://sts.windows.net/" + v.opts.TenantID + "/"
	if !strings.EqualFold(iss, want) {
		return nil, unauthorized(fmt.Sprintf("AKV10032: Invalid issuer. Expected one of %s, found %s.", want, iss))
	}
	exp, hasExp := numericTime(claims, "exp")
	nbf, _ := numericTime(claims, "nbf")
	if !hasExp || now.Unix() >= exp {
		return nil, unauthorized(fmt.Sprintf("AKV10021: Token is expired. Expiry time %s, current time %s.", time.Unix(exp, 0).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	}
	if now.Unix() < nbf {
		return nil, unauthorized("AKV10021: Token is not yet valid.")
	}
	c := &caller{issuer: iss}
	c.appID, _ = claims["appid"].(string)
	c.objectID, _ = claims["oid"].(string)
	c.tenantID, _ = claims["tid"].(string)
	return c, nil
}

func checkAPIVersion(ver string) *kvError {
	if ver == "" {
		return &kvError{status: http.StatusBadRequest, code: "BadParameter", msg: "The api-version query parameter is required."}
	}
	if !slices.Contains(apiVersions, ver) {
		return &kvError{status: http.StatusBadRequest, code: "BadParameter",
			msg: fmt.Sprintf("The specified version (%s) is not recognized. Consider using the latest supported version (%s).", ver, apiVersions[len(apiVersions)-1])}
	}
	return nil
}

func badParameter(msg string) *kvError {
	return &kvError{status: http.StatusBadRequest, code: "BadParameter", msg: msg}
}

func secretNotFound(name string) *kvError {
	return &kvError{status: http.StatusNotFound, code: "SecretNotFound",
		msg: fmt.Sprintf("A secret with (name/id) %s was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182", name)}
}

func deletedNotFound(name string) *kvError {
	return &kvError{status: http.StatusNotFound, code: "SecretNotFound", msg: "Deleted Secret not found: " + name}
}

func conflict(inner, msg string) *kvError {
	return &kvError{status: http.StatusConflict, code: "Conflict", inner: inner, msg: msg}
}

// stateConflict is the answer to writing a name that is not active.
func stateConflict(s *secretEntry) *kvError {
	switch s.state {
	case stateDeleted:
		return conflict("ObjectIsDeletedButRecoverable", fmt.Sprintf("Secret %s is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.", s.name))
	case stateRecovering:
		return conflict("ObjectIsBeingRecovered", fmt.Sprintf("Secret %s is currently being recovered.", s.name))
	default:
		return conflict("ObjectIsBeingDeleted", fmt.Sprintf("Secret %s is currently being deleted.", s.name))
	}
}
