package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/store"
)

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.BasicAuth = &BasicAuth{Username: "admin", Password: "s3cret-pass"} })
	e.srv.HandlePublic("POST /executions/webhook/{namespace}/{id}/{key}", func(w http.ResponseWriter, _ *http.Request) error {
		w.WriteHeader(http.StatusTeapot)
		return nil
	})
	e.h = e.srv.Handler()
	basic := func(u, p string) http.Header {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(u, p)
		return r.Header
	}
	tests := []struct {
		name   string
		r      req
		status int
	}{
		{"no credentials", req{method: "GET", path: "/api/v1/main/flows/search"}, 401},
		{"wrong password", req{method: "GET", path: "/api/v1/main/flows/search", header: basic("admin", "nope")}, 401},
		{"wrong user", req{method: "GET", path: "/api/v1/flows/search", header: basic("root", "s3cret-pass")}, 401},
		{"right credentials", req{method: "GET", path: "/api/v1/main/flows/search", header: basic("admin", "s3cret-pass")}, 200},
		{"alias is protected too", req{method: "GET", path: "/api/v1/flows/search"}, 401},
		{"public route", req{method: "POST", path: "/api/v1/main/executions/webhook/n/f/k"}, http.StatusTeapot},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.do(t, tc.r)
			require.Equal(t, tc.status, rec.Code)
			if tc.status == 401 {
				require.Equal(t, `Basic realm="osprey", charset="UTF-8"`, rec.Header().Get("WWW-Authenticate"))
				requireError(t, rec, 401, "authentication required")
			}
		})
	}
}

func TestListenAddr(t *testing.T) {
	t.Parallel()
	auth := &BasicAuth{Username: "u", Password: "p"}
	tests := []struct {
		name       string
		host       string
		auth       *BasicAuth
		allow      bool
		wantAddr   string
		wantNotice string
	}{
		{"no auth binds loopback", "0.0.0.0", nil, false, "127.0.0.1:8080", "listens on 127.0.0.1 only"},
		{"no auth, empty host", "", nil, false, "127.0.0.1:8080", "to listen on every interface"},
		{"auth keeps the host", "0.0.0.0", auth, false, "0.0.0.0:8080", ""},
		{"explicitly unauthenticated", "0.0.0.0", nil, true, "0.0.0.0:8080", "has no authentication"},
		{"explicitly unauthenticated on loopback", "127.0.0.1", nil, true, "127.0.0.1:8080", ""},
		{"ipv6 host", "::", auth, false, "[::]:8080", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, notice := ListenAddr(tc.host, 8080, tc.auth, tc.allow)
			require.Equal(t, tc.wantAddr, addr)
			if tc.wantNotice == "" {
				require.Empty(t, notice)
			} else {
				require.Contains(t, notice, tc.wantNotice)
			}
		})
	}
}

func TestStartRefusesExposedUnauthenticatedAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.Addr = "0.0.0.0:0" })
	err := e.srv.Start(t.Context())
	require.ErrorContains(t, err, "basic auth is not configured")
}

func TestStartAndStop(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.Addr = "127.0.0.1:0"
		o.ManagementAddr = "127.0.0.1:0"
		o.BasicAuth = &BasicAuth{Username: "admin", Password: "pw"}
	})
	require.NoError(t, e.srv.Start(t.Context()))
	api, mgmt := e.srv.Addr().String(), e.srv.ManagementAddr().String()
	require.NotEqual(t, api, mgmt)

	r, _ := http.NewRequestWithContext(t.Context(), "GET", fmt.Sprintf("http://%s/api/v1/main/flows/search", api), nil)
	r.SetBasicAuth("admin", "pw")
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)

	resp = get(t, t.Context(), "http://"+mgmt+"/health/liveness")
	require.Equal(t, 200, resp.StatusCode, "management needs no credentials")

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, e.srv.Stop(ctx))
	require.NoError(t, e.srv.Stop(ctx), "Stop is idempotent")
	_, err = http.Get("http://" + api + "/api/v1/main/flows/search")
	require.Error(t, err, "the API no longer listens")
}

func TestCredentialsAndInputsStayOutOfLogs(t *testing.T) {
	t.Parallel()
	logs := &bytes.Buffer{}
	e := newEnv(t, func(o *Options) {
		o.BasicAuth = &BasicAuth{Username: "admin", Password: "pw-do-not-log"}
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	e.runner.finish = false
	hdr := http.Header{}
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth("admin", "pw-do-not-log")
	hdr.Set("Authorization", r.Header.Get("Authorization"))
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/flows", body: inputFlow, contentType: "application/x-yaml", header: hdr})
	require.Equal(t, 200, rec.Code)
	form, ct := multipartBody(t, map[string]string{"name": "input-do-not-log"}, "")
	rec = e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/greet", body: form, contentType: ct, header: hdr})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	e.srv.HandlePublic("POST /executions/webhook/{namespace}/{id}/{key}", func(http.ResponseWriter, *http.Request) error {
		return errors.New("webhook store down")
	})
	e.h = e.srv.Handler()
	rec = e.do(t, req{method: "POST", path: "/api/v1/main/executions/webhook/n/f/key-do-not-log"})
	require.Equal(t, 500, rec.Code)
	require.Contains(t, logs.String(), "webhook store down", "the server error is logged")
	e.do(t, req{method: "GET", path: "/api/v1/main/flows/search", header: http.Header{"Authorization": {"Basic d3Jvbmc6d3Jvbmc="}}})

	require.Contains(t, logs.String(), "route=", "requests are logged at debug level")
	require.NotContains(t, logs.String(), "do-not-log")
	require.NotContains(t, logs.String(), r.Header.Get("Authorization")[len("Basic "):])
	var printed bytes.Buffer
	slog.New(slog.NewTextHandler(&printed, nil)).Info("config", "auth", *e.srv.opts.BasicAuth)
	fmt.Fprintf(&printed, "%v %+v", *e.srv.opts.BasicAuth, e.srv.opts.BasicAuth)
	require.NotContains(t, printed.String(), "pw-do-not-log", "BasicAuth redacts itself when logged or printed")
}

func TestStopEndsStreamsAndWaits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.runner.finish = false // nothing ever finishes
	e.createFlow(t, helloFlow)
	require.NoError(t, e.srv.Start(t.Context()))
	require.ErrorContains(t, e.srv.Start(t.Context()), "already started")
	base := "http://" + e.srv.Addr().String() + "/api/v1/main"
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello"})
	id := decode[flowExecutionID](t, rec).ID

	follow := get(t, t.Context(), base+"/executions/"+id+"/follow")
	require.Equal(t, 200, follow.StatusCode)
	waited := make(chan *http.Response, 1)
	go func() {
		r, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/executions/company.team/hello?wait=true", nil)
		resp, err := http.DefaultClient.Do(r)
		if err == nil {
			waited <- resp
		}
		close(waited)
	}()
	require.Eventually(t, func() bool { // the waiting request is in
		execs, _, _ := e.st.Executions().Search(t.Context(), store.ExecutionQuery{})
		return len(execs) == 2
	}, 5*time.Second, 5*time.Millisecond)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, e.srv.Stop(ctx), "open streams and waits do not hold shutdown to its deadline")
	_, err := io.ReadAll(follow.Body)
	require.NoError(t, err, "the event stream ended cleanly")
	resp, ok := <-waited
	require.True(t, ok, "the waiting request was answered")
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	require.Contains(t, string(body), `"current":"CREATED"`, "with the execution as it stands")
}

type flowExecutionID struct {
	ID string `json:"id"`
}

// Wrong passwords from one address are slowed once its bucket is spent;
// another address, and the right password from the same one, are not.
func TestFailedLoginsAreSlowedPerClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.BasicAuth = &BasicAuth{Username: "admin", Password: "s3cret-pass"} })
	try := func(addr, pass string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/api/v1/main/flows/search", nil)
		r.RemoteAddr = addr
		r.SetBasicAuth("admin", pass)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		return rec
	}
	for i := range failedLoginBurst {
		require.Equal(t, http.StatusUnauthorized, try("203.0.113.7:5000", fmt.Sprint("guess", i)).Code, "attempt %d is within the budget", i)
	}
	rec := try("203.0.113.7:5001", "guess-more")
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.NotEmpty(t, rec.Header().Get("Retry-After"))
	require.Contains(t, rec.Body.String(), "too many failed logins")
	require.Equal(t, http.StatusOK, try("203.0.113.7:5002", "s3cret-pass").Code, "the right password is never slowed")
	require.Equal(t, http.StatusUnauthorized, try("198.51.100.1:5000", "guess").Code, "another client has its own bucket")
}
