package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/internal/seal"
	"github.com/ospreyhq/osprey/secrets"
	"github.com/ospreyhq/osprey/secrets/embedded"
	envsecrets "github.com/ospreyhq/osprey/secrets/env"
)

const apiValue = "api-s3cret-VALUE/+1"

func secretsEnv(t *testing.T, readOnly bool) (*env, *secrets.Manager) {
	t.Helper()
	st := openStore(t)
	key, err := seal.DeriveKey("a test key that is long enough to derive")
	require.NoError(t, err)
	b, err := embedded.New(st.Secrets(), key)
	require.NoError(t, err)
	m := secrets.New(secrets.Options{Backend: b, ReadOnly: readOnly, CacheSize: 10})
	e := newEnvOn(t, st)
	e.srv.MountSecrets(m)
	return e, m
}

func call(t *testing.T, e *env, method, path, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	Contract(t, e.srv).ServeHTTP(rec, req)
	out := rec.Body.String()
	require.NotContains(t, out, apiValue, "%s %s returned a secret value", method, path)
	return rec.Code, out
}

func TestSecretsAPI(t *testing.T) {
	t.Parallel()
	e, m := secretsEnv(t, false)
	put := `{"key":"DB_PASSWORD","value":"` + apiValue + `","description":"primary db","tags":[{"key":"team","value":"data"}]}`
	code, body := call(t, e, "PUT", "/api/v1/main/namespaces/company.team/secrets", put)
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `[{"namespace":"company.team","key":"DB_PASSWORD","description":"primary db","tags":[{"key":"team","value":"data"}]}]`, body,
		"a list, as Kestra's spec says of putSecrets")
	v, err := m.Get(t.Context(), "company.team.etl", "DB_PASSWORD")
	require.NoError(t, err)
	require.Equal(t, apiValue, v, "the value landed in the backend")

	code, _ = call(t, e, "PUT", "/api/v1/main/namespaces/company/secrets", `{"key":"GLOBAL_TOKEN","value":"tok-123456"}`)
	require.Equal(t, http.StatusOK, code)

	code, body = call(t, e, "GET", "/api/v1/main/secrets?size=1&page=1", "")
	require.Equal(t, http.StatusOK, code)
	var list secretListJSON
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	require.Equal(t, 2, list.Total)
	require.Len(t, list.Results, 1)
	require.False(t, list.ReadOnly)
	require.Equal(t, "company", list.Results[0].Namespace)

	code, body = call(t, e, "GET", "/api/v1/main/secrets?namespace=company.team&q=db", "")
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	require.Equal(t, 1, list.Total)
	require.Equal(t, "DB_PASSWORD", list.Results[0].Key)

	code, body = call(t, e, "GET", "/api/v1/main/namespaces/company.team.etl/inherited-secrets", "")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"company.team":["DB_PASSWORD"],"company":["GLOBAL_TOKEN"]}`, body)

	code, body = call(t, e, "PATCH", "/api/v1/main/namespaces/company.team/secrets/DB_PASSWORD", `{"key":"DB_PASSWORD","description":"replica","tags":[{"key":"team","value":"platform"}]}`)
	require.Equal(t, http.StatusOK, code, body)
	require.True(t, strings.HasPrefix(body, "["), "a list, as the spec says of patchSecret: %s", body)
	require.Contains(t, body, `"description":"replica"`)
	require.Contains(t, body, `"platform"`, "the patch's tags replace the old ones")

	code, _ = call(t, e, "DELETE", "/api/v1/namespaces/company.team/secrets/DB_PASSWORD", "")
	require.Equal(t, http.StatusNoContent, code)
	code, body = call(t, e, "DELETE", "/api/v1/main/namespaces/company.team/secrets/DB_PASSWORD", "")
	require.Equal(t, http.StatusNotFound, code, body)
	require.NotContains(t, e.logs.String(), apiValue)
}

func TestSecretsAPIRejects(t *testing.T) {
	t.Parallel()
	e, _ := secretsEnv(t, false)
	cases := []struct {
		name, method, path, body string
		status                   int
		msg                      string
	}{
		{name: "bad key", method: "PUT", path: "/api/v1/main/namespaces/a/secrets", body: `{"key":"no spaces","value":"x"}`, status: 400, msg: "DB_PASSWORD"},
		{name: "no value", method: "PUT", path: "/api/v1/main/namespaces/a/secrets", body: `{"key":"K"}`, status: 400, msg: "value is required"},
		{name: "bad namespace", method: "PUT", path: "/api/v1/main/namespaces/..a/secrets", body: `{"key":"K","value":"x"}`, status: 400, msg: "namespace"},
		{name: "unknown field does not echo the body", method: "PUT", path: "/api/v1/main/namespaces/a/secrets", body: `{"key":"K","value":"` + apiValue + `","bogus":1}`, status: 400, msg: "JSON object"},
		{name: "patch missing", method: "PATCH", path: "/api/v1/main/namespaces/a/secrets/NOPE", body: `{"description":"d"}`, status: 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := call(t, e, tc.method, tc.path, tc.body)
			require.Equal(t, tc.status, code, body)
			require.Contains(t, body, tc.msg)
		})
	}
}

func TestSecretsAPIReadOnly(t *testing.T) {
	t.Parallel()
	for name, m := range map[string]*secrets.Manager{
		"configured":  nil,
		"env backend": secrets.New(secrets.Options{Backend: envsecrets.New(envsecrets.Options{Environ: []string{"SECRET_K=dmFsdWU="}})}),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, rw := secretsEnv(t, true)
			if m != nil {
				e = newEnv(t)
				e.srv.MountSecrets(m)
			} else {
				m = rw
			}
			code, body := call(t, e, "PUT", "/api/v1/main/namespaces/a/secrets", `{"key":"K","value":"`+apiValue+`"}`)
			require.Equal(t, http.StatusMethodNotAllowed, code)
			require.Contains(t, body, "read-only")
			code, _ = call(t, e, "DELETE", "/api/v1/main/namespaces/a/secrets/K", "")
			require.Equal(t, http.StatusMethodNotAllowed, code)
			code, body = call(t, e, "GET", "/api/v1/main/secrets", "")
			require.Equal(t, http.StatusOK, code)
			require.Contains(t, body, `"readOnly":true`)
		})
	}
}
