package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/cli"
	"github.com/ospreyhq/osprey/devkit/testkit"
)

// process is an Osprey command running in-process, as `osprey ARGS…`.
type process struct {
	cancel context.CancelFunc
	done   chan int
	logs   *testkit.SyncBuffer
	once   sync.Once
	code   int
}

// start runs `osprey args…` until stop; environ is the process environment.
func start(t testing.TB, environ []string, args ...string) *process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{cancel: cancel, done: make(chan int, 1), logs: &testkit.SyncBuffer{}}
	go func() { p.done <- cli.Main(ctx, args, strings.NewReader(""), io.Discard, p.logs, environ) }()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop cancels the command and returns its exit code; it is idempotent.
func (p *process) stop(t testing.TB) int {
	p.once.Do(func() {
		p.cancel()
		select {
		case p.code = <-p.done:
		case <-time.After(30 * time.Second):
			p.code = -1
			t.Errorf("osprey did not stop within 30s; logs:\n%s", p.logs.String())
		}
	})
	return p.code
}

// api is a small client of the Kestra API.
type api struct {
	t    testing.TB
	base string
	user string
	pass string
}

func (a api) do(method, path, contentType string, body io.Reader) (int, []byte) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, body)
	require.NoError(a.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if a.user != "" {
		req.SetBasicAuth(a.user, a.pass)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	return res.StatusCode, out
}

// waitUp polls /api/v1/main/flows/search until the API answers, and until
// p's log says it is p that listens there: a port picked for p may have
// been taken first by another package's server, whose answers the test
// would otherwise read as p's (p then fails to bind and exits, and the
// test fails saying so).
func (a api) waitUp(p *process) {
	a.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, a.base+"/api/v1/main/flows/search", nil)
		if a.user != "" {
			req.SetBasicAuth(a.user, a.pass)
		}
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK && listensOn(p, a.base) {
				return
			}
		}
		select {
		case code := <-p.done:
			a.t.Fatalf("osprey exited with %d before serving; logs:\n%s", code, p.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	a.t.Fatalf("API at %s did not come up; logs:\n%s", a.base, p.logs.String())
}

// listensOn reports whether p's log says its API listens on base's port
// (on whichever address: [::] when it binds every interface).
func listensOn(p *process, base string) bool {
	addr, err := testkit.APIAddr(p.logs, nil, 0)
	if err != nil {
		return false
	}
	_, port, _ := net.SplitHostPort(addr)
	u, err := url.Parse(base)
	return err == nil && port != "" && port == u.Port()
}

func (a api) createFlow(src string) {
	a.t.Helper()
	code, body := a.do(http.MethodPost, "/api/v1/main/flows", "application/x-yaml", strings.NewReader(src))
	require.Equal(a.t, http.StatusOK, code, string(body))
}

// run starts an execution with form inputs and waits for its end.
func (a api) run(ns, id string, inputs map[string]string) map[string]any {
	a.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range inputs {
		require.NoError(a.t, mw.WriteField(k, v))
	}
	require.NoError(a.t, mw.Close())
	code, body := a.do(http.MethodPost, fmt.Sprintf("/api/v1/main/executions/%s/%s?wait=true", ns, id), mw.FormDataContentType(), &buf)
	require.Equal(a.t, http.StatusOK, code, string(body))
	var ex map[string]any
	require.NoError(a.t, json.Unmarshal(body, &ex))
	return ex
}

func (a api) getJSON(path string, v any) {
	a.t.Helper()
	code, body := a.do(http.MethodGet, path, "", nil)
	require.Equal(a.t, http.StatusOK, code, string(body))
	require.NoError(a.t, json.Unmarshal(body, v))
}

func state(ex map[string]any) string {
	s, _ := ex["state"].(map[string]any)
	c, _ := s["current"].(string)
	return c
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

func newGet(ctx context.Context, url string) (*http.Request, error) {
	return http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
}
