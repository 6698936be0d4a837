package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
)

// env is one server on a store, a fake runner and a fake parser.
type env struct {
	srv    *Server
	st     store.Store
	mem    *memStore // nil on SQLite
	runner *fakeRunner
	h      http.Handler
	logs   *bytes.Buffer
}

// newEnv builds a server on the in-memory fake store.
func newEnv(t *testing.T, mods ...func(*Options)) *env {
	t.Helper()
	m := newMemStore()
	e := newEnvOn(t, m, mods...)
	e.mem = m
	return e
}

// backends are the stores the route tests run against: the small fake,
// and the real SQLite driver in a temporary file.
var backends = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"mem", func(*testing.T) store.Store { return newMemStore() }},
	{"sqlite", func(t *testing.T) store.Store {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		return st
	}},
}

// eachBackend runs fn once per store, as parallel subtests.
func eachBackend(t *testing.T, fn func(t *testing.T, open func(*testing.T) store.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.open)
		})
	}
}

func newEnvOn(t testing.TB, st store.Store, mods ...func(*Options)) *env {
	t.Helper()
	runner := &fakeRunner{st: st, finish: true}
	logs := &bytes.Buffer{}
	o := Options{
		Store: st, Parse: fakeParse, Runner: runner,
		Logger:       slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, nil)),
		PollInterval: 10 * time.Millisecond,
		Addr:         "127.0.0.1:0",
	}
	for _, m := range mods {
		m(&o)
	}
	srv := New(o)
	return &env{srv: srv, st: st, runner: runner, h: Contract(t, srv.Handler()), logs: logs}
}

// lockedWriter lets the test read what concurrent handlers log.
type lockedWriter struct {
	w io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) { return l.w.Write(p) }

type req struct {
	method, path, body, contentType string
	header                          http.Header
}

func (e *env) do(t *testing.T, r req) *httptest.ResponseRecorder {
	t.Helper()
	hr := httptest.NewRequestWithContext(t.Context(), r.method, r.path, strings.NewReader(r.body))
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	}
	for k, v := range r.header {
		hr.Header[k] = v
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, hr)
	return rec
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), rec.Body.String())
	return v
}

const helloFlow = `id: hello
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: Hello {{ inputs.name }}
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: inner
        type: io.kestra.plugin.core.debug.Return
        format: "{{ flow.id }}"
`

const inputFlow = `id: greet
namespace: company.team
inputs:
  - id: name
    type: STRING
  - id: count
    type: INT
    required: false
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: Hello {{ inputs.name }}
`

func (e *env) createFlow(t *testing.T, src string) {
	t.Helper()
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/flows", body: src, contentType: "application/x-yaml"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}

// errorShape is what every error response must look like.
type errorShape struct {
	Message string   `json:"message"`
	Details []detail `json:"details"`
}

// detail is one positioned problem of an error or a validation.
type detail struct {
	Path    string `json:"path"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

func requireError(t *testing.T, rec *httptest.ResponseRecorder, status int, msgContains string) errorShape {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	body := decode[errorShape](t, rec)
	require.Contains(t, body.Message, msgContains)
	return body
}
