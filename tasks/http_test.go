package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/render"
	"github.com/ospreyhq/osprey/worker"
)

// fakeEnv is a run context with the real expression engine and a log
// recorder.
type fakeEnv struct {
	r    worker.Renderer
	vars map[string]any

	mu   sync.Mutex
	logs []logLine
}

type logLine struct{ level, msg string }

func newEnv(vars map[string]any) *fakeEnv {
	r := &render.Renderer{Expr: expr.New(expr.Options{})}
	return &fakeEnv{r: r.ForJob(func(string) {}), vars: vars}
}

func (e *fakeEnv) Render(ctx context.Context, s string) (string, error) {
	return e.r.Render(ctx, s, e.vars)
}

func (e *fakeEnv) RenderValue(ctx context.Context, v any) (any, error) {
	return e.r.RenderValue(ctx, v, e.vars)
}

func (e *fakeEnv) Log(level, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logs = append(e.logs, logLine{level, msg})
}

func (e *fakeEnv) lines(level string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, l := range e.logs {
		if l.level == level {
			out = append(out, l.msg)
		}
	}
	return out
}

// parseTask parses a one-task flow through the registry and returns the
// task's decoded implementation, so tests see what a worker would run.
func parseTask[T any](t testing.TB, body string) *T {
	t.Helper()
	src := "id: f\nnamespace: n\ntasks:\n  - id: t\n" + indent(body, "    ")
	reg := New()
	f, err := flow.Parse([]byte(src), flow.ParseOptions{Types: reg})
	require.NoError(t, err, src)
	spec, ok := reg.Spec(f.Tasks[0].Type)
	require.True(t, ok)
	impl, errs := spec.Decode(f.Tasks[0])
	require.Empty(t, errs)
	x, ok := impl.(*T)
	require.True(t, ok, "%T", impl)
	return x
}

func parseErr(t *testing.T, body string) string {
	t.Helper()
	src := "id: f\nnamespace: n\ntasks:\n  - id: t\n" + indent(body, "    ")
	_, err := flow.Parse([]byte(src), flow.ParseOptions{Types: New()})
	require.Error(t, err)
	return err.Error()
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = pre + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// echoServer answers with what it received, as JSON, and serves a few
// special paths.
func echoServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			_ = r.ParseMultipartForm(1 << 20)
		} else {
			body, _ = io.ReadAll(r.Body)
		}
		form := map[string]string{}
		if r.MultipartForm != nil {
			for k, v := range r.MultipartForm.Value {
				form[k] = v[0]
			}
			for k, fh := range r.MultipartForm.File {
				f, _ := fh[0].Open()
				b, _ := io.ReadAll(f)
				form[k] = fh[0].Filename + ":" + string(b)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "contentType": r.Header.Get("Content-Type"), "token": r.Header.Get("X-Token"),
			"auth": r.Header.Get("Authorization"), "body": string(body), "form": form, "query": r.URL.RawQuery,
		})
	})
	mux.HandleFunc("/status/", func(w http.ResponseWriter, r *http.Request) {
		var code int
		_, _ = fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/status/"), "%d", &code)
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "status body")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/status/200", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 4096))
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func echoed(t *testing.T, out map[string]any) map[string]any {
	t.Helper()
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(out["body"].(string)), &got))
	return got
}

func TestHTTPRequestSendsWhatTheFlowSays(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	vars := map[string]any{"vars": map[string]any{"base": srv.URL, "token": "tok-1", "name": "Ada"}}
	tests := []struct {
		name string
		yaml string
		want map[string]any
	}{
		{"GET by default", `
type: io.kestra.plugin.core.http.Request
uri: "{{ vars.base }}/echo?q=1"`,
			map[string]any{"method": "GET", "query": "q=1", "body": ""}},
		{"JSON body with headers, rendered", `
type: io.kestra.plugin.core.http.Request
uri: "{{ vars.base }}/echo"
method: POST
headers:
  X-Token: "{{ vars.token }}"
body: '{"name": "{{ vars.name }}"}'`,
			map[string]any{"method": "POST", "contentType": "application/json", "token": "tok-1", "body": `{"name": "Ada"}`}},
		// Kestra serialises a YAML map body with Jackson, keys as written.
		{"YAML map body, sent as JSON in its order", `
type: io.kestra.plugin.core.http.Request
uri: "{{ vars.base }}/echo"
method: POST
body:
  zeta: "{{ vars.name }}"
  alpha: {y: 1, x: [2]}`,
			map[string]any{"method": "POST", "body": `{"zeta":"Ada","alpha":{"y":1,"x":[2]}}`}},
		{"content type from the flow", `
type: io.kestra.plugin.core.http.Request
uri: "{{ vars.base }}/echo"
method: put
contentType: text/plain
body: hello`,
			map[string]any{"method": "PUT", "contentType": "text/plain", "body": "hello"}},
		{"URL-encoded form", `
type: io.kestra.plugin.core.http.Request
uri: "{{ vars.base }}/echo"
method: POST
formData:
  user: "{{ vars.name }}"
  n: 2`,
			map[string]any{"contentType": "application/x-www-form-urlencoded", "body": "n=2&user=Ada"}},
		{"multipart form with a file part", `
type: io.kestra.plugin.core.http.Request
uri: "{{ vars.base }}/echo"
method: POST
contentType: multipart/form-data
formData:
  user: John Doe
  upload:
    name: a.txt
    content: "hi {{ vars.name }}"`,
			map[string]any{"form": map[string]any{"user": "John Doe", "upload": "a.txt:hi Ada"}}},
		{"basic auth, legacy name", `
type: io.kestra.plugin.fs.http.Request
uri: "{{ vars.base }}/echo"
options:
  basicAuthUser: admin
  basicAuthPassword: "{{ vars.token }}"`,
			map[string]any{"auth": "Basic YWRtaW46dG9rLTE="}},
		{"bearer auth", `
type: io.kestra.plugin.core.http.Request
uri: "{{ vars.base }}/echo"
options:
  auth:
    type: BEARER
    token: "{{ vars.token }}"`,
			map[string]any{"auth": "Bearer tok-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x := parseTask[HTTPRequest](t, tt.yaml)
			out, err := x.run(context.Background(), newEnv(vars))
			require.NoError(t, err)
			got := echoed(t, out)
			for k, v := range tt.want {
				if k == "contentType" {
					require.True(t, strings.HasPrefix(got[k].(string), v.(string)), "%s: %v", k, got[k])
					continue
				}
				require.Equal(t, v, got[k], k)
			}
		})
	}
}

func TestHTTPRequestOutputs(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	x := parseTask[HTTPRequest](t, "type: io.kestra.plugin.core.http.Request\nuri: "+srv.URL+"/echo")
	env := newEnv(nil)
	out, err := x.run(context.Background(), env)
	require.NoError(t, err)
	require.Equal(t, 200, out["code"])
	require.Equal(t, srv.URL+"/echo", out["uri"])
	hdrs := out["headers"].(map[string]any)
	require.Equal(t, []any{"application/json"}, hdrs["Content-Type"])
	require.Equal(t, []any{"a", "b"}, hdrs["X-Multi"])
	require.IsType(t, "", out["body"])
	// outputs must survive the JSON round trip the worker does
	_, err = json.Marshal(out)
	require.NoError(t, err)
	require.Contains(t, env.lines("DEBUG"), fmt.Sprintf("Request 'GET %s/echo' with response code '200'", srv.URL))
}

func TestHTTPRequestStatusCodes(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	tests := []struct {
		name, extra string
		code        int
		wantErr     string
	}{
		{"2xx succeeds", "", 204, ""},
		{"404 fails", "", 404, "response code '404'"},
		{"500 fails", "", 500, "response code '500'"},
		{"allowFailed keeps a 500", "allowFailed: true", 500, ""},
		{"options.allowFailed keeps a 404", "options:\n  allowFailed: true", 404, ""},
		{"allowedResponseCodes accepts a listed 404", "options:\n  allowedResponseCodes: [404]", 404, ""},
		{"allowedResponseCodes refuses an unlisted 200", "options:\n  allowedResponseCodes: [201]", 200, "response code '200'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x := parseTask[HTTPRequest](t, fmt.Sprintf("type: io.kestra.plugin.core.http.Request\nuri: %s/status/%d\n%s", srv.URL, tt.code, tt.extra))
			out, err := x.run(context.Background(), newEnv(nil))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.code, out["code"])
		})
	}
}

func TestHTTPRequestRedirects(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	x := parseTask[HTTPRequest](t, "type: io.kestra.plugin.core.http.Request\nuri: "+srv.URL+"/redirect")
	out, err := x.run(context.Background(), newEnv(nil))
	require.NoError(t, err)
	require.Equal(t, 200, out["code"])
	require.Equal(t, "status body", out["body"])

	x = parseTask[HTTPRequest](t, "type: io.kestra.plugin.core.http.Request\nuri: "+srv.URL+"/redirect\noptions:\n  followRedirects: false")
	out, err = x.run(context.Background(), newEnv(nil))
	require.NoError(t, err)
	require.Equal(t, 302, out["code"])
	require.Equal(t, []any{"/status/200"}, out["headers"].(map[string]any)["Location"])
}

func TestHTTPRequestLimits(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)

	x := parseTask[HTTPRequest](t, "type: io.kestra.plugin.core.http.Request\nuri: "+srv.URL+"/slow\noptions:\n  readTimeout: PT0.2S")
	start := time.Now()
	_, err := x.run(context.Background(), newEnv(nil))
	require.ErrorContains(t, err, "timeout awaiting response headers")
	require.Less(t, time.Since(start), 4*time.Second)

	x = parseTask[HTTPRequest](t, "type: io.kestra.plugin.core.http.Request\nuri: "+srv.URL+"/slow")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 200*time.Millisecond, fmt.Errorf("task t timed out after PT0.2S"))
	defer cancel()
	_, err = x.run(ctx, newEnv(nil))
	require.EqualError(t, err, "task t timed out after PT0.2S")

	x = parseTask[HTTPRequest](t, "type: io.kestra.plugin.core.http.Request\nuri: "+srv.URL+"/big\noptions:\n  maxContentLength: 1000")
	_, err = x.run(context.Background(), newEnv(nil))
	require.ErrorIs(t, err, errTooLarge)
}

func TestHTTPRequestRefusesBadDefinitions(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, yaml, want string }{
		{"no uri", "type: io.kestra.plugin.core.http.Request", `property "uri" is required`},
		{"unknown option", "type: io.kestra.plugin.core.http.Request\nuri: http://127.0.0.1/\noptions:\n  bogus: 1", `unknown property "bogus"`},
		{"bad duration", "type: io.kestra.plugin.core.http.Request\nuri: http://127.0.0.1/\noptions:\n  readTimeout: soon", "options.readTimeout"},
		{"body and form", "type: io.kestra.plugin.core.http.Request\nuri: http://127.0.0.1/\nbody: x\nformData:\n  a: b", "cannot both be set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, parseErr(t, tt.yaml), tt.want)
		})
	}
	x := parseTask[HTTPRequest](t, "type: io.kestra.plugin.core.http.Request\nuri: http://127.0.0.1:1/\nmethod: POST\ncontentType: multipart/form-data\nformData:\n  file: kestra:///n/f/file.txt")
	_, err := x.run(context.Background(), newEnv(nil))
	require.ErrorContains(t, err, `form field "file": kestra:///n/f/file.txt is a file in internal storage`)

	x = parseTask[HTTPRequest](t, "type: io.kestra.plugin.core.http.Request\nuri: ftp://127.0.0.1/x")
	_, err = x.run(context.Background(), newEnv(nil))
	require.ErrorContains(t, err, "not an http(s) URL")
}

// BenchmarkHTTPRequest measures one GET against a loopback server, client
// set-up included (each task run builds its own transport).
func BenchmarkHTTPRequest(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	x := &HTTPRequest{URI: srv.URL}
	for b.Loop() {
		if _, err := x.run(context.Background(), newEnv(nil)); err != nil {
			b.Fatal(err)
		}
	}
}
