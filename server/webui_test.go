package server

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/secrets"
	envsecrets "github.com/ospreyhq/osprey/secrets/env"
	"github.com/ospreyhq/osprey/server/ui"
)

// TestUIRoutes checks the UI is served at /ui/ with Kestra's deep links
// loading the page, / sending there, and assets cached by their hash.
func TestUIRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.BasicAuth = &BasicAuth{Username: "admin", Password: "pw"} })
	var asset string
	require.NoError(t, fs.WalkDir(ui.Assets(), "assets", func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".js") && asset == "" {
			asset = p
		}
		return err
	}))
	require.NotEmpty(t, asset, "the build holds no script: run npm ci && npm run build in ui/")

	tests := []struct {
		name, path string
		status     int
		location   string
		body       string
		cache      string
	}{
		{"root redirects", "/", http.StatusFound, "/ui/", "", ""},
		{"ui without slash", "/ui", http.StatusFound, "/ui/", "", ""},
		{"index", "/ui/", 200, "", `<div id="app">`, "no-cache"},
		{"flow editor deep link", "/ui/main/flows/edit/company.team/hello", 200, "", `<div id="app">`, "no-cache"},
		{"execution logs deep link", "/ui/main/executions/company.team/hello/4bTqy1/logs", 200, "", `<div id="app">`, "no-cache"},
		{"namespaces", "/ui/main/namespaces", 200, "", `<div id="app">`, "no-cache"},
		{"hashed asset", "/ui/" + asset, 200, "", "", "public, max-age=31536000, immutable"},
		{"missing asset is a 404, not the page", "/ui/assets/nope-123.js", 404, "", "", ""},
		{"api still answers json 404", "/api/v1/main/nope", 404, "", "no such endpoint", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.do(t, req{method: "GET", path: tc.path})
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.location != "" {
				require.Equal(t, tc.location, rec.Header().Get("Location"))
			}
			require.Contains(t, rec.Body.String(), tc.body)
			if tc.cache != "" {
				require.Equal(t, tc.cache, rec.Header().Get("Cache-Control"))
			}
		})
	}
}

// TestUIAuthNoChallenge checks that the UI's calls, marked with
// X-Requested-With, get a 401 without the challenge that would open the
// browser's own dialog over the UI's login form.
func TestUIAuthNoChallenge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.BasicAuth = &BasicAuth{Username: "admin", Password: "pw"} })
	h := http.Header{}
	h.Set("X-Requested-With", "XMLHttpRequest")
	rec := e.do(t, req{method: "GET", path: "/api/v1/main/flows/search", header: h})
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Empty(t, rec.Header().Get("WWW-Authenticate"))
	rec = e.do(t, req{method: "GET", path: "/api/v1/main/flows/search"})
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.NotEmpty(t, rec.Header().Get("WWW-Authenticate"))
}

// TestSecretListNamesBackend checks the listing names the backend the UI
// shows, and only when the server was told it.
func TestSecretListNamesBackend(t *testing.T) {
	t.Parallel()
	m := secrets.New(secrets.Options{Backend: envsecrets.New(envsecrets.Options{Environ: []string{"SECRET_K=dmFsdWU="}})})
	for _, tc := range []struct {
		name    string
		backend SecretBackend
		want    string
	}{
		{"vault", SecretBackend{Type: "azure-key-vault", Location: "https://team.vault.azure.net"}, `"backend":{"type":"azure-key-vault","location":"https://team.vault.azure.net"}`},
		{"unnamed", SecretBackend{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.MountSecretsOf(m, tc.backend)
			e.h = e.srv.Handler()
			code, body := call(t, e, "GET", "/api/v1/main/namespaces/company/secrets", "")
			require.Equal(t, 200, code, body)
			require.Contains(t, body, `"readOnly":true`)
			if tc.want == "" {
				require.NotContains(t, body, `"backend"`)
			} else {
				require.Contains(t, body, tc.want)
			}
			require.NotContains(t, body, "value", "no value, not even the word")
		})
	}
}

// TestUIAssetsSize keeps the UI's share of the binary small: its files,
// each gzip-compressed, stay under 2 MB.
func TestUIAssetsSize(t *testing.T) {
	t.Parallel()
	var raw, packed int
	require.NoError(t, fs.WalkDir(ui.Assets(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(ui.Assets(), p)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(b)
		require.NoError(t, zw.Close())
		raw += len(b)
		packed += buf.Len()
		return nil
	}))
	t.Logf("UI assets: %d bytes, %d gzip-compressed", raw, packed)
	require.Less(t, packed, 2<<20)
	require.Greater(t, packed, 10<<10, "the build is there")
}
