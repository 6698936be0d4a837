package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The bad inputs of one issue: each gets a clear 4xx and loses nothing.

const filesBase = "/api/v1/main/namespaces/company.team/files"

// putFiles stores files by path and returns a check that they are all
// still there, unchanged.
func putFiles(t *testing.T, e *env, paths ...string) func() {
	t.Helper()
	for _, p := range paths {
		rec := e.do(t, req{method: "POST", path: filesBase + "?path=" + p, body: "content of " + p})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	}
	return func() {
		t.Helper()
		for _, p := range paths {
			rec := e.do(t, req{method: "GET", path: filesBase + "?path=" + p})
			require.Equal(t, http.StatusOK, rec.Code, "%s is still there", p)
			require.Equal(t, "content of "+p, rec.Body.String())
		}
	}
}

func TestMoveRefusesWhatWouldLoseFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	intact := putFiles(t, e, "/a/x.txt", "/a/sub/y.txt", "/b.txt", "/c/z.txt")
	for _, tc := range []struct {
		from, to string
		status   int
		msg      string
	}{
		{"/a", "/a/b", http.StatusBadRequest, "cannot move /a into itself"},
		{"/a", "/a/sub/deeper", http.StatusBadRequest, "into itself"},
		{"/a", "/a", http.StatusBadRequest, "the same path"},
		{"/", "/elsewhere", http.StatusBadRequest, "whole namespace"},
		{"/a", "/", http.StatusBadRequest, "root directory"},
		{"/b.txt", "/a/x.txt", http.StatusConflict, "already exists"},
		{"/b.txt", "/c", http.StatusConflict, "/c is a directory"},
		{"/a", "/b.txt/a", http.StatusConflict, "/b.txt is a file"},
		{"/nothing", "/else", http.StatusNotFound, "/nothing"},
	} {
		rec := e.do(t, req{method: "PUT", path: filesBase + "?from=" + tc.from + "&to=" + tc.to})
		requireError(t, rec, tc.status, tc.msg)
		intact()
	}
	// A legal move still works.
	rec := e.do(t, req{method: "PUT", path: filesBase + "?from=/a&to=/moved/a"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, http.StatusOK, e.do(t, req{method: "GET", path: filesBase + "?path=/moved/a/sub/y.txt"}).Code)
}

func TestFilePlacesThatBreakTheTreeAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	intact := putFiles(t, e, "/dir/f.txt", "/file.txt")
	for _, tc := range []struct {
		path   string
		status int
		msg    string
	}{
		{"/", http.StatusBadRequest, "path / is the namespace's root directory"},
		{"/dir", http.StatusConflict, "/dir is a directory"},
		{"/file.txt/inner.txt", http.StatusConflict, "/file.txt is a file"},
	} {
		rec := e.do(t, req{method: "POST", path: filesBase + "?path=" + tc.path, body: "x"})
		requireError(t, rec, tc.status, tc.msg)
		intact()
	}
	// The listing of the root still works.
	require.Len(t, decode[[]fileAttributes](t, e.do(t, req{method: "GET", path: filesBase + "/directory"})), 2)
}

// TestEveryRouteFollowsTheNamespaceRule: the flow rule, checked in one
// place, for every route that takes a namespace.
func TestEveryRouteFollowsTheNamespaceRule(t *testing.T) {
	t.Parallel()
	e, _ := secretsEnv(t, false)
	routes := []struct{ method, path string }{
		{"GET", "/namespaces/%s/kv"},
		{"PUT", "/namespaces/%s/kv/key"},
		{"GET", "/namespaces/%s/files?path=/a"},
		{"POST", "/namespaces/%s/files?path=/a"},
		{"GET", "/namespaces/%s/files/directory"},
		{"GET", "/namespaces/%s/secrets"},
		{"PUT", "/namespaces/%s/secrets"},
		{"GET", "/flows/%s"},
		{"POST", "/executions/%s/hello"},
	}
	for _, ns := range []string{"a..b", "my team", "Company", "a.", strings.Repeat("a", 151)} {
		for _, r := range routes {
			path := "/api/v1/main" + fmt.Sprintf(r.path, url.PathEscape(ns))
			code, body := call(t, e, r.method, path, `{"key":"K","value":"v"}`)
			require.Equal(t, http.StatusBadRequest, code, "%s %s: %s", r.method, path, body)
			require.Contains(t, body, "namespace", "%s %s", r.method, path)
		}
	}
	// A well-formed namespace passes the rule on the same routes.
	code, body := call(t, e, "PUT", "/api/v1/main/namespaces/company.team/kv/key", `"v"`)
	require.Equal(t, http.StatusOK, code, body)
}

func TestKeysHaveOneLengthLimit(t *testing.T) {
	t.Parallel()
	e, _ := secretsEnv(t, false)
	long := strings.Repeat("k", 256)
	code, body := call(t, e, "PUT", "/api/v1/main/namespaces/company.team/kv/"+long, `"v"`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "the limit is 255")
	code, body = call(t, e, "PUT", "/api/v1/main/namespaces/company.team/secrets", `{"key":"`+long+`","value":"v"}`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "the limit is 255")
	code, _ = call(t, e, "PUT", "/api/v1/main/namespaces/company.team/kv/"+long[:255], `"v"`)
	require.Equal(t, http.StatusOK, code)
}

func TestOversizedKVBodyIs413(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.MaxBodyBytes = 64 })
	rec := e.do(t, req{method: "PUT", path: "/api/v1/main/namespaces/company.team/kv/big", body: `"` + strings.Repeat("x", 100) + `"`, contentType: "application/json"})
	requireError(t, rec, http.StatusRequestEntityTooLarge, "the limit is 64 bytes")
	requireError(t, e.do(t, req{method: "GET", path: "/api/v1/main/namespaces/company.team/kv/big"}), http.StatusNotFound, "big")
}

// TestFlowsNamedLikeActionsCanBeStarted: POST /executions/{ns}/resume
// starts a flow named resume when no execution has the id {ns}.
func TestFlowsNamedLikeActionsCanBeStarted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, id := range []string{"resume", "restart", "replay", "pause", "force-run", "change-status", "state"} {
		e.createFlow(t, strings.Replace(helloFlow, "id: hello\n", "id: "+id+"\n", 1))
		rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/" + id})
		require.Equal(t, http.StatusOK, rec.Code, "%s: %s", id, rec.Body.String())
		got := decode[struct {
			FlowID    string `json:"flowId"`
			Namespace string `json:"namespace"`
		}](t, rec)
		require.Equal(t, id, got.FlowID)
		require.Equal(t, "company.team", got.Namespace)
	}
	// Without such a flow, the action answers (this server's runner cannot
	// steer executions: 501).
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/other.team/resume"})
	requireError(t, rec, http.StatusNotImplemented, "cannot resume")
}

func TestSecretLimitsAre400NamingTheLimit(t *testing.T) {
	t.Parallel()
	e, m := secretsEnv(t, false)
	big := strings.Repeat("v", 25*1024+1)
	code, body := call(t, e, "PUT", "/api/v1/main/namespaces/company.team/secrets", `{"key":"BIG","value":"`+big+`"}`)
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, "the limit is 25600 bytes (25 KB")
	var tags []string
	for i := range 10 {
		tags = append(tags, fmt.Sprintf(`{"key":"t%d","value":"v"}`, i))
	}
	code, body = call(t, e, "PUT", "/api/v1/main/namespaces/company.team/secrets", `{"key":"TAGGED","value":"v","tags":[`+strings.Join(tags, ",")+`]}`)
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, "at most 9 of yours")
	code, body = call(t, e, "PATCH", "/api/v1/main/namespaces/company.team/secrets/TAGGED", `{"tags":[`+strings.Join(tags, ",")+`]}`)
	require.Equal(t, http.StatusBadRequest, code, body)
	list, err := m.List(t.Context(), "company.team")
	require.NoError(t, err)
	require.Empty(t, list, "nothing was written")
	// At the limits, both are accepted.
	code, body = call(t, e, "PUT", "/api/v1/main/namespaces/company.team/secrets", `{"key":"OK","value":"`+big[1:]+`","tags":[`+strings.Join(tags[1:], ",")+`]}`)
	require.Equal(t, http.StatusOK, code, body)
}

// TestServedFilesAreNeverSniffed: every response says nosniff, and a
// namespace file is served as a type that runs nothing.
func TestServedFilesAreNeverSniffed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct{ path, ct string }{
		{"/page.html", "text/plain; charset=utf-8"},
		{"/logo.svg", "text/plain; charset=utf-8"},
		{"/app.js", "text/plain; charset=utf-8"},
		{"/feed.xml", "text/plain; charset=utf-8"},
		{"/etl.py", "text/plain; charset=utf-8"},
		{"/conf.yml", "text/plain; charset=utf-8"},
		{"/data.json", "application/json"},
		{"/photo.png", "image/png"},
		{"/blob.bin", "application/octet-stream"},
		{"/noext", "application/octet-stream"},
	} {
		rec := e.do(t, req{method: "POST", path: filesBase + "?path=" + tc.path, body: "<script>alert(1)</script>"})
		require.Equal(t, http.StatusOK, rec.Code)
		rec = e.do(t, req{method: "GET", path: filesBase + "?path=" + tc.path})
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, tc.ct, rec.Header().Get("Content-Type"), tc.path)
		require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), tc.path)
		require.Contains(t, rec.Header().Get("Content-Security-Policy"), "sandbox", tc.path)
		require.Contains(t, rec.Header().Get("Content-Disposition"), "attachment", tc.path)
	}
	for _, path := range []string{"/api/v1/main/flows/search", "/api/v1/nope", "/api/v1/main/logs/none/download"} {
		rec := e.do(t, req{method: "GET", path: path})
		require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), path)
	}
}
