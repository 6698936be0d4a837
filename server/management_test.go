package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/store"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		path    string
		pingErr error
		status  int
		want    string
	}{
		{"health up", "/health", nil, 200, `"status":"UP"`},
		{"readiness up", "/health/readiness", nil, 200, `"status":"UP"`},
		{"readiness down", "/health/readiness", errors.New("dial tcp: refused"), 503, `"status":"DOWN"`},
		{"health down", "/health", errors.New("dial tcp: refused"), 503, `"store":{"details"`},
		{"liveness ignores the store", "/health/liveness", errors.New("dial tcp: refused"), 200, `"status":"UP"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.probe.setPingErr(tc.pingErr)
			rec := httptest.NewRecorder()
			e.srv.ManagementHandler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", tc.path, nil))
			require.Equal(t, tc.status, rec.Code)
			require.Contains(t, rec.Body.String(), tc.want)
			require.NotContains(t, rec.Body.String(), "refused", "the store's error stays in the log")
		})
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	extra := prometheus.NewCounter(prometheus.CounterOpts{Name: "osprey_test_extra_total", Help: "caller's own"})
	reg.MustRegister(extra)
	e := newEnv(t, func(o *Options) { o.Registry = reg })
	e.createFlow(t, helloFlow)
	e.do(t, req{method: "GET", path: "/api/v1/main/flows/company.team/nope"})

	rec := httptest.NewRecorder()
	e.srv.ManagementHandler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", "/metrics", nil))
	require.Equal(t, 200, rec.Code)
	body, _ := io.ReadAll(rec.Body)
	require.Contains(t, string(body), `osprey_http_requests_total{code="200",method="POST",route="POST /api/v1/main/flows"} 1`)
	require.Contains(t, string(body), `osprey_http_requests_total{code="404",method="GET",route="GET /api/v1/main/flows/{namespace}/{id}"} 1`)
	require.Contains(t, string(body), `osprey_http_request_duration_seconds_bucket{code="200",method="POST",route="POST /api/v1/main/flows"`)
	require.Contains(t, string(body), "osprey_test_extra_total 0")
}

func TestServerErrorsAreGenericAndLogged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.Handle("GET /boom", func(http.ResponseWriter, *http.Request) error {
		return errors.New("pq: relation secret_table does not exist")
	})
	e.srv.Handle("GET /panic", func(http.ResponseWriter, *http.Request) error { panic("oops") })
	e.h = e.srv.Handler()

	rec := e.do(t, req{method: "GET", path: "/api/v1/main/boom"})
	requireError(t, rec, 500, "internal server error")
	require.NotContains(t, rec.Body.String(), "secret_table")
	require.Contains(t, e.logs.String(), "secret_table", "the cause is logged for the operator")

	rec = e.do(t, req{method: "GET", path: "/api/v1/panic"})
	requireError(t, rec, 500, "internal server error")
	require.NotContains(t, rec.Body.String(), "goroutine")
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.MaxBodyBytes = 64 })
	big := helloFlow + "# " + string(make([]byte, 100))
	requireError(t, e.do(t, req{method: "POST", path: "/api/v1/main/flows", body: big, contentType: "application/x-yaml"}), 413, "too large")
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := e.do(t, req{method: "PATCH", path: "/api/v1/main/flows/a/b"})
	requireError(t, rec, http.StatusMethodNotAllowed, "method PATCH is not allowed")
	require.Contains(t, rec.Header().Get("Allow"), "PUT")
	requireError(t, e.do(t, req{method: "GET", path: "/api/v1/main/nothing/here"}), http.StatusNotFound, "no such endpoint")
}

// TestManagementLiveness: a loop that has not turned within the window is
// wedged (liveness and /health 503, readiness unaffected); once draining,
// readiness fails and stopped loops no longer count as wedged.
func TestManagementLiveness(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	last := now
	m := NewManagement(ManagementOptions{
		Store: e.st, Window: time.Minute, Now: func() time.Time { return now },
		Loops: []Loop{{Name: "worker", LastPass: func() time.Time { return last }}},
	})
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", path, nil))
		return rec.Code, rec.Body.String()
	}
	tests := []struct {
		name     string
		age      time.Duration
		drain    bool
		path     string
		wantCode int
		want     string
	}{
		{name: "fresh loop", age: 59 * time.Second, path: "/health/liveness", wantCode: 200, want: `"worker":{"name":"worker","status":"UP"}`},
		{name: "wedged loop", age: 61 * time.Second, path: "/health/liveness", wantCode: 503, want: "the worker loop has not turned for 1m1s (window 1m0s)"},
		{name: "wedged loop fails /health", age: 61 * time.Second, path: "/health", wantCode: 503, want: `"status":"DOWN"`},
		{name: "wedged loop leaves readiness", age: 61 * time.Second, path: "/health/readiness", wantCode: 200, want: `"store"`},
		{name: "draining fails readiness", drain: true, path: "/health/readiness", wantCode: 503, want: "draining"},
		{name: "draining loops are not wedged", drain: true, age: time.Hour, path: "/health/liveness", wantCode: 200, want: `"status":"UP"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			last = now.Add(-tt.age)
			if tt.drain {
				m.Drain()
			}
			code, body := get(tt.path)
			require.Equal(t, tt.wantCode, code, body)
			require.Contains(t, body, tt.want)
		})
	}
}

func TestManagementAddr(t *testing.T) {
	t.Parallel()
	require.Equal(t, "127.0.0.1:8081", ManagementAddr("", 8081), "loopback unless configured")
	require.Equal(t, "0.0.0.0:8081", ManagementAddr("0.0.0.0", 8081))
}

// fakeQueue reports a fixed queue depth, or an error.
type fakeQueue struct {
	st  store.QueueStats
	err error
}

func (f fakeQueue) Stats(context.Context) (store.QueueStats, error) { return f.st, f.err }

func TestManagementQueueMetrics(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		queue fakeQueue
		want  []string
		code  int
	}{
		{name: "waiting jobs", code: 200, queue: fakeQueue{st: store.QueueStats{JobsQueued: 7, JobsRunning: 3, OldestQueued: now.Add(-90 * time.Second), ExecutionsPending: 2}},
			want: []string{`osprey_queue_jobs{state="queued"} 7`, `osprey_queue_jobs{state="running"} 3`, "osprey_queue_oldest_job_age_seconds 90", "osprey_queue_executions_pending 2"}},
		{name: "empty queue", code: 200, queue: fakeQueue{},
			want: []string{`osprey_queue_jobs{state="queued"} 0`, "osprey_queue_oldest_job_age_seconds 0"}},
		{name: "store down leaves the rest", code: 200, queue: fakeQueue{err: errors.New("dial tcp: refused")}, want: []string{"go_goroutines"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := NewManagement(ManagementOptions{Store: newEnv(t).st, Queue: tt.queue, Now: func() time.Time { return now }})
			rec := httptest.NewRecorder()
			m.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", "/metrics", nil))
			require.Equal(t, tt.code, rec.Code)
			for _, w := range tt.want {
				require.Contains(t, rec.Body.String(), w)
			}
			require.NotContains(t, rec.Body.String(), "refused")
			if tt.queue.err != nil {
				require.NotContains(t, rec.Body.String(), "osprey_queue_jobs{")
			}
		})
	}
}

func TestPprofOnlyWhenConfigured(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{false, true} {
		m := NewManagement(ManagementOptions{Store: newEnv(t).st, Pprof: on})
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", "/debug/pprof/heap?debug=1", nil))
		if on {
			require.Equal(t, http.StatusOK, rec.Code)
			require.Contains(t, rec.Body.String(), "heap profile")
		} else {
			require.Equal(t, http.StatusNotFound, rec.Code, "the profiler is off unless osprey.pprof is set")
		}
	}
}
