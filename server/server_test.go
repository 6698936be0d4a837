package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
)

// env is one server on a real SQLite store, a fake runner and a fake
// parser.
type env struct {
	srv    *Server
	st     store.Store
	probe  *probeStore
	runner *fakeRunner
	h      http.Handler
	logs   *bytes.Buffer
}

// openStore opens the real SQLite store in a temporary directory, closed
// with the test.
func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// newEnv builds a server on a fresh SQLite store.
func newEnv(t *testing.T, mods ...func(*Options)) *env {
	t.Helper()
	return newEnvOn(t, openStore(t), mods...)
}

// probeStore wraps a store to let tests see what the server does with it
// (subscriptions held open) and make its health check fail.
type probeStore struct {
	store.Store
	mu      sync.Mutex
	pingErr error
	subs    int
	states  int
}

func (p *probeStore) Executions() store.ExecutionStore {
	return probeExecutions{p.Store.Executions(), p}
}

// stateReads is how many times an execution's state alone was read.
func (p *probeStore) stateReads() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.states
}

type probeExecutions struct {
	store.ExecutionStore
	p *probeStore
}

func (x probeExecutions) State(ctx context.Context, id string) (flow.State, error) {
	x.p.mu.Lock()
	x.p.states++
	x.p.mu.Unlock()
	return x.ExecutionStore.State(ctx, id)
}

func (p *probeStore) Ping(ctx context.Context) error {
	p.mu.Lock()
	err := p.pingErr
	p.mu.Unlock()
	if err != nil {
		return err
	}
	return p.Store.Ping(ctx)
}

func (p *probeStore) setPingErr(err error) {
	p.mu.Lock()
	p.pingErr = err
	p.mu.Unlock()
}

// openSubs is how many queue subscriptions are still open.
func (p *probeStore) openSubs() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.subs
}

func (p *probeStore) Queue() store.QueueStore { return probeQueue{p.Store.Queue(), p} }

type probeQueue struct {
	store.QueueStore
	p *probeStore
}

// Subscribe counts the subscription until ctx ends, which is when the
// store releases it.
func (q probeQueue) Subscribe(ctx context.Context, topic string) (<-chan struct{}, error) {
	ch, err := q.QueueStore.Subscribe(ctx, topic)
	if err != nil {
		return nil, err
	}
	q.p.mu.Lock()
	q.p.subs++
	q.p.mu.Unlock()
	context.AfterFunc(ctx, func() {
		q.p.mu.Lock()
		q.p.subs--
		q.p.mu.Unlock()
	})
	return ch, nil
}

func newEnvOn(t testing.TB, st store.Store, mods ...func(*Options)) *env {
	t.Helper()
	probe := &probeStore{Store: st}
	st = probe
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
	return &env{srv: srv, st: st, probe: probe, runner: runner, h: Contract(t, srv), logs: logs}
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
