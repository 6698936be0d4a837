package server

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
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
			e.mem.setPingErr(tc.pingErr)
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

func TestPprofOnlyWhenConfigured(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{false, true} {
		e := newEnv(t, func(o *Options) { o.Pprof = on })
		rec := httptest.NewRecorder()
		e.srv.ManagementHandler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", "/debug/pprof/heap?debug=1", nil))
		if on {
			require.Equal(t, http.StatusOK, rec.Code)
			require.Contains(t, rec.Body.String(), "heap profile")
		} else {
			require.Equal(t, http.StatusNotFound, rec.Code, "the profiler is off unless osprey.pprof is set")
		}
	}
}
