package azurefake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

// blobAPIVersion is the x-ms-version the emulator answers with; requests may
// carry any version from 2019-02-02 on (the SDK sends its own).
const blobAPIVersion = "2026-12-06"

// blobError is a Blob service error answer: an XML body
// <Error><Code>…</Code><Message>…</Message></Error> and x-ms-error-code.
type blobError struct {
	status int
	code   string
	msg    string
	extra  map[string]string // additional elements (AuthenticationErrorDetail …)
}

func (err *blobError) Error() string { return err.code + ": " + err.msg }

func newBlobError(status int, code, msg string) *blobError {
	return &blobError{status: status, code: code, msg: msg}
}

var (
	errContainerNotFound = func() *blobError {
		return newBlobError(http.StatusNotFound, "ContainerNotFound", "The specified container does not exist.")
	}
	errBlobNotFound = func() *blobError {
		return newBlobError(http.StatusNotFound, "BlobNotFound", "The specified blob does not exist.")
	}
	errConditionNotMet = func() *blobError {
		return newBlobError(http.StatusPreconditionFailed, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met.")
	}
	errPermissionMismatch = func() *blobError {
		return newBlobError(http.StatusForbidden, "AuthorizationPermissionMismatch", "This request is not authorized to perform this operation using this permission.")
	}
)

func writeBlobError(w http.ResponseWriter, r *http.Request, reqID string, now time.Time, err *blobError) {
	w.Header().Set("x-ms-error-code", err.code)
	w.Header().Set("Content-Type", "application/xml")
	if r.Method == http.MethodHead {
		w.WriteHeader(err.status)
		return
	}
	var extra strings.Builder
	keys := make([]string, 0, len(err.extra))
	for k := range err.extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&extra, "<%s>%s</%s>", k, xmlEscape(err.extra[k]), k)
	}
	w.WriteHeader(err.status)
	fmt.Fprintf(w, "\ufeff<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code><Message>%s\nRequestId:%s\nTime:%s</Message>%s</Error>",
		err.code, xmlEscape(err.msg), reqID, now.UTC().Format("2006-01-02T15:04:05.0000000Z"), extra.String())
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// blobCall is one authenticated request being served.
type blobCall struct {
	w         http.ResponseWriter
	r         *http.Request
	now       time.Time
	caller    string // object id, "sharedkey", "sas"
	oauth     bool
	container string
	blob      string
	sas       *sasGrant
}

// operation names a request the way the REST reference does, and the
// action RBAC checks for it.
func blobOperation(r *http.Request, containerName, blobName string) (op, action string) {
	q := r.URL.Query()
	comp, restype := q.Get("comp"), q.Get("restype")
	switch {
	case containerName == "" && comp == "list":
		return "ListContainers", actionContainerRead
	case containerName == "" && restype == "service" && comp == "properties":
		return "GetBlobServiceProperties", actionContainerRead
	case containerName == "":
		return "Unknown", ""
	case blobName == "" && restype == "container":
		switch {
		case comp == "list" && r.Method == http.MethodGet:
			return "ListBlobs", actionBlobRead
		case comp == "metadata" && r.Method == http.MethodPut:
			return "SetContainerMetadata", actionContainerWrite
		case comp == "" && r.Method == http.MethodPut:
			return "CreateContainer", actionContainerWrite
		case comp == "" && r.Method == http.MethodDelete:
			return "DeleteContainer", actionContainerDelete
		case comp == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			return "GetContainerProperties", actionContainerRead
		}
		return "Unknown", ""
	case blobName == "":
		return "Unknown", ""
	}
	switch {
	case r.Method == http.MethodPut && comp == "block":
		if r.Header.Get("x-ms-copy-source") != "" {
			return "PutBlockFromURL", actionBlobWrite
		}
		return "PutBlock", actionBlobWrite
	case r.Method == http.MethodPut && comp == "blocklist":
		return "PutBlockList", actionBlobWrite
	case r.Method == http.MethodGet && comp == "blocklist":
		return "GetBlockList", actionBlobRead
	case r.Method == http.MethodPut && comp == "metadata":
		return "SetBlobMetadata", actionBlobWrite
	case r.Method == http.MethodPut && comp == "properties":
		return "SetBlobProperties", actionBlobWrite
	case r.Method == http.MethodPut && comp == "" && r.Header.Get("x-ms-copy-source") != "":
		if strings.EqualFold(r.Header.Get("x-ms-requires-sync"), "true") {
			return "CopyBlobFromURL", actionBlobWrite
		}
		return "CopyBlob", actionBlobWrite
	case r.Method == http.MethodPut && comp == "":
		return "PutBlob", actionBlobWrite
	case r.Method == http.MethodGet && comp == "":
		return "GetBlob", actionBlobRead
	case r.Method == http.MethodHead && comp == "":
		return "GetBlobProperties", actionBlobRead
	case r.Method == http.MethodDelete && comp == "":
		return "DeleteBlob", actionBlobDelete
	}
	return "Unknown", ""
}

func (a *StorageAccount) handler() http.Handler {
	return http.HandlerFunc(a.serve)
}

// serve routes every request: path-style /ACCOUNT/CONTAINER/BLOB, then
// what every Blob request goes through in the service's order: injected
// faults, authentication, RBAC (OAuth only; Shared Key is the account's
// own key and SAS carries its permissions), the operation.
func (a *StorageAccount) serve(w http.ResponseWriter, r *http.Request) {
	now := a.e.clock.Now()
	reqID := uuid.NewString()
	w.Header().Set("x-ms-request-id", reqID)
	w.Header().Set("x-ms-version", blobAPIVersion)
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	w.Header().Set("Server", "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0")
	if id := r.Header.Get("x-ms-client-request-id"); id != "" {
		w.Header().Set("x-ms-client-request-id", id)
	}
	rawPath := strings.TrimPrefix(r.URL.Path, "/")
	account, rest, _ := strings.Cut(rawPath, "/")
	containerName, blobName, _ := strings.Cut(rest, "/")
	op, action := blobOperation(r, containerName, blobName)
	entry := &Request{Time: now, Service: "blob/" + a.opts.Name, Operation: op, Method: r.Method, Path: r.URL.Path}
	rec := &statusRecorder{ResponseWriter: w}
	recorded := false
	defer func() {
		if recorded {
			return
		}
		if rec.status == 0 && entry.ErrorCode != "ConnectionReset" && entry.ErrorCode != "ClientGone" {
			rec.status = http.StatusOK
		}
		entry.Status = rec.status
		a.journal.record(*entry)
		a.e.log.Debug("blob request", "account", a.opts.Name, "operation", op, "caller", entry.Caller, "status", entry.Status, "error_code", entry.ErrorCode)
	}()
	fail := func(err *blobError) {
		entry.ErrorCode = err.code
		writeBlobError(rec, r, reqID, now, err)
	}
	if handled, code := a.faults.inject(rec, r, func(w http.ResponseWriter, status int, code, msg string) {
		if code == "Throttled" {
			code = "ServerBusy"
		}
		writeBlobError(w, r, reqID, now, newBlobError(status, code, msg))
	}); handled {
		entry.ErrorCode = code
		if code == "ConnectionReset" {
			a.journal.record(*entry)
			recorded = true
			resetConnection(rec)
		}
		return
	}
	if account != a.opts.Name {
		fail(newBlobError(http.StatusBadRequest, "InvalidUri", "The requested URI does not represent any resource on the server."))
		return
	}
	c := &blobCall{w: rec, r: r, now: now, container: containerName, blob: blobName}
	if err := a.authenticate(c); err != nil {
		if err.status == http.StatusUnauthorized {
			rec.Header().Set("WWW-Authenticate", fmt.Sprintf("Bearer authorization_uri=%s%s/oauth2/authorize resource_id=%s", a.e.AuthorityHost(), a.opts.TenantID, StorageResource))
		}
		fail(err)
		return
	}
	entry.Caller = c.caller
	if op == "Unknown" {
		fail(newBlobError(http.StatusBadRequest, "UnsupportedHttpVerb", "The resource doesn't support the specified HTTP verb, or the operation is not known to this emulator."))
		return
	}
	if c.oauth && !a.allowed(c.caller, action, containerName) {
		fail(errPermissionMismatch())
		return
	}
	if c.sas != nil {
		if err := c.sas.permits(r, a, op, containerName, blobName, now); err != nil {
			fail(err)
			return
		}
	}
	if err := a.dispatch(op, c); err != nil {
		fail(err)
	}
}

// authenticate accepts an Entra bearer token for Azure Storage, the
// account's Shared Key, or a SAS signed with it.
func (a *StorageAccount) authenticate(c *blobCall) *blobError {
	r := c.r
	h := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return a.authBearer(c, cred)
	case strings.EqualFold(scheme, "SharedKey"):
		if a.opts.DisableSharedKey {
			return newBlobError(http.StatusForbidden, "KeyBasedAuthenticationNotPermitted", "Key based authentication is not permitted on this storage account.")
		}
		name, sig, _ := strings.Cut(cred, ":")
		want := a.sign(a.stringToSign(r))
		if name != a.opts.Name || !hmac.Equal([]byte(sig), []byte(want)) {
			e := newBlobError(http.StatusForbidden, "AuthenticationFailed", "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.")
			e.extra = map[string]string{"AuthenticationErrorDetail": "The MAC signature found in the HTTP request '" + sig + "' is not the same as any computed signature. Server used following string to sign: '" + a.stringToSign(r) + "'."}
			return e
		}
		c.caller = "sharedkey"
		return nil
	case r.URL.Query().Get("sig") != "":
		if a.opts.DisableSharedKey {
			return newBlobError(http.StatusForbidden, "KeyBasedAuthenticationNotPermitted", "Key based authentication is not permitted on this storage account.")
		}
		g, err := a.checkSAS(r.URL.Query(), c.now)
		if err != nil {
			return err
		}
		c.caller, c.sas = "sas", g
		return nil
	}
	return newBlobError(http.StatusUnauthorized, "NoAuthenticationInformation", "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.")
}

func (a *StorageAccount) authBearer(c *blobCall, token string) *blobError {
	invalid := func(detail string) *blobError {
		e := newBlobError(http.StatusUnauthorized, "InvalidAuthenticationInfo", "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.")
		e.extra = map[string]string{"AuthenticationErrorDetail": detail}
		return e
	}
	claims, err := a.e.entra.verify(token)
	if err != nil {
		return invalid("Signature validation failed. Signature is invalid.")
	}
	auds := audiences(claims)
	okAud := slices.ContainsFunc(auds, func(s string) bool {
		s = strings.TrimSuffix(s, "/")
		return s == StorageResource || strings.EqualFold(s, "https://"+a.opts.Name+".blob.core.windows.net")
	})
	if !okAud {
		return invalid("Audience validation failed. Audience did not match.")
	}
	iss, _ := claims["iss"].(string)
	if !strings.EqualFold(iss, "https://sts.windows.net/"+a.opts.TenantID+"/") {
		return invalid("Issuer validation failed. Issuer did not match.")
	}
	exp, hasExp := numericTime(claims, "exp")
	nbf, _ := numericTime(claims, "nbf")
	if !hasExp || c.now.Unix() >= exp {
		return invalid("Lifetime validation failed. The token is expired.")
	}
	if c.now.Unix() < nbf {
		return invalid("Lifetime validation failed. The token is not yet valid.")
	}
	oid, _ := claims["oid"].(string)
	c.caller, c.oauth = oid, true
	return nil
}

// stringToSign is Shared Key's string for the Blob service (version
// 2009-09-19 and later).
func (a *StorageAccount) stringToSign(r *http.Request) string {
	h := func(k string) string { return r.Header.Get(k) }
	length := h("Content-Length")
	if length == "" && r.ContentLength > 0 {
		length = fmt.Sprint(r.ContentLength)
	}
	if length == "0" {
		length = ""
	}
	var names []string
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-ms-") {
			names = append(names, lk)
		}
	}
	sort.Strings(names)
	var canon strings.Builder
	for _, n := range names {
		canon.WriteString(n + ":" + strings.TrimSpace(strings.Join(r.Header.Values(n), ",")) + "\n")
	}
	res := "/" + a.opts.Name + r.URL.EscapedPath()
	lower := map[string][]string{}
	for k, v := range r.URL.Query() {
		lower[strings.ToLower(k)] = append(lower[strings.ToLower(k)], v...)
	}
	params := make([]string, 0, len(lower))
	for k := range lower {
		params = append(params, k)
	}
	sort.Strings(params)
	for _, p := range params {
		vals := slices.Clone(lower[p])
		sort.Strings(vals)
		res += "\n" + p + ":" + strings.Join(vals, ",")
	}
	return strings.Join([]string{
		r.Method, h("Content-Encoding"), h("Content-Language"), length, h("Content-MD5"), h("Content-Type"),
		"", h("If-Modified-Since"), h("If-Match"), h("If-None-Match"), h("If-Unmodified-Since"), h("Range"),
		canon.String() + res,
	}, "\n")
}

func (a *StorageAccount) sign(s string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
