package server

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKVAPI sets, reads, lists and deletes KV entries through Kestra's
// namespace KV endpoints.
func TestKVAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const base = "/api/v1/main/namespaces/company.team/kv/"
	puts := []struct {
		key, body, contentType string
		header                 http.Header
		wantType               string
		want                   any
	}{
		{"greeting", "hello world", "text/plain", nil, "STRING", "hello world"},
		{"quoted", `"hello"`, "application/json", nil, "STRING", "hello"},
		{"count", "42", "application/json", nil, "NUMBER", float64(42)},
		{"flag", "true", "text/plain", nil, "BOOLEAN", true},
		{"conf", `{"env":"prod","ports":[80,443]}`, "application/json", nil, "JSON", map[string]any{"env": "prod", "ports": []any{float64(80), float64(443)}}},
		{"session", "abc", "text/plain", http.Header{"Ttl": {"PT1H"}}, "STRING", "abc"},
	}
	for _, p := range puts {
		rec := e.do(t, req{method: "PUT", path: base + p.key, body: p.body, contentType: p.contentType, header: p.header})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		rec = e.do(t, req{method: "GET", path: base + p.key})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var got kvValue
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
		require.Equal(t, kvValue{Type: p.wantType, Value: p.want}, got, p.key)
	}

	rec := e.do(t, req{method: "GET", path: "/api/v1/main/namespaces/company.team/kv"})
	require.Equal(t, http.StatusOK, rec.Code)
	var list []kvEntry
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &list))
	var keys []string
	for _, l := range list {
		keys = append(keys, l.Key)
		if l.Key == "session" {
			require.NotNil(t, l.ExpirationDate, "the ttl header sets an expiry")
		}
	}
	require.Equal(t, []string{"conf", "count", "flag", "greeting", "quoted", "session"}, keys)

	rec = e.do(t, req{method: "DELETE", path: base + "greeting"})
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, "true", rec.Body.String())
	rec = e.do(t, req{method: "DELETE", path: base + "greeting"})
	require.JSONEq(t, "false", rec.Body.String(), "nothing left to delete")
	requireError(t, e.do(t, req{method: "GET", path: base + "greeting"}), http.StatusNotFound, "greeting")

	requireError(t, e.do(t, req{method: "PUT", path: base + "bad%20key", body: "x"}), http.StatusBadRequest, "is invalid")
	requireError(t, e.do(t, req{method: "PUT", path: base + "j", body: "{", contentType: "application/json"}), http.StatusBadRequest, "not valid JSON")
	requireError(t, e.do(t, req{method: "PUT", path: base + "t", body: "x", header: http.Header{"Ttl": {"soon"}}}), http.StatusBadRequest, "ttl")
}

// A namespace's allowedNamespaces are read and replaced through Kestra
// EE's namespace resource.
func TestNamespaceAllowedNamespaces(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := e.do(t, req{method: "GET", path: "/api/v1/main/namespaces/company.payroll"})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.JSONEq(t, `{"id":"company.payroll","allowedNamespaces":[],"deleted":false}`, rec.Body.String(), "no settings: no restriction")

	rec = e.do(t, req{method: "PUT", path: "/api/v1/main/namespaces/company.payroll", contentType: "application/json",
		body: `{"id":"company.payroll","allowedNamespaces":[{"namespace":"company.hr"},{"namespace":"company.finance"}],"deleted":false}`})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	rec = e.do(t, req{method: "GET", path: "/api/v1/namespaces/company.payroll"})
	require.JSONEq(t, `{"id":"company.payroll","allowedNamespaces":[{"namespace":"company.hr"},{"namespace":"company.finance"}],"deleted":false}`, rec.Body.String())

	for _, bad := range []struct{ body, want string }{
		{`{"id":"other","allowedNamespaces":[]}`, "is not the namespace of the path"},
		{`{"allowedNamespaces":[{"namespace":"Bad Name"}]}`, `allowedNamespaces[0]: \"Bad Name\" is not a namespace`},
		{`[1]`, "the body must be a namespace"},
	} {
		rec = e.do(t, req{method: "PUT", path: "/api/v1/main/namespaces/company.payroll", contentType: "application/json", body: bad.body})
		require.Contains(t, []int{400, 422}, rec.Code, bad.body)
		require.Contains(t, rec.Body.String(), bad.want)
	}
}

// TestKVListings: GET /kv lists every namespace's entries, paged (Kestra's
// listAllKeys); GET /namespaces/{ns}/kv/inheritance lists the parents'
// entries, nearest parent first.
func TestKVListings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range []string{"company/kv/root", "company.team/kv/mid", "company.team.etl/kv/own", "other/kv/elsewhere"} {
		rec := e.do(t, req{method: "PUT", path: "/api/v1/main/namespaces/" + p, body: `"v"`, contentType: "text/plain"})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	}
	type entry struct {
		Namespace string `json:"namespace"`
		Key       string `json:"key"`
	}
	rec := e.do(t, req{method: "GET", path: "/api/v1/main/kv?size=3"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var page struct {
		Results []entry `json:"results"`
		Total   int     `json:"total"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &page))
	require.Equal(t, 4, page.Total)
	require.Equal(t, []entry{{"company", "root"}, {"company.team", "mid"}, {"company.team.etl", "own"}}, page.Results)

	rec = e.do(t, req{method: "GET", path: "/api/v1/main/namespaces/company.team.etl/kv/inheritance"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var inherited []entry
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &inherited))
	require.Equal(t, []entry{{"company.team", "mid"}, {"company", "root"}}, inherited)
}
