package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
)

// benchEnv is a server on SQLite in a temporary file.
func benchEnv(b *testing.B) *env {
	e := newEnvOn(b, openStore(b))
	e.runner.finish = false
	return e
}

func serve(b *testing.B, h http.Handler, method, path, body, ct string) *httptest.ResponseRecorder {
	r := httptest.NewRequestWithContext(b.Context(), method, path, strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// BenchmarkGetFlow measures reading a flow back: store read, parse,
// rendering the tasks with their properties.
func BenchmarkGetFlow(b *testing.B) {
	e := benchEnv(b)
	rec := serve(b, e.h, "POST", "/api/v1/main/flows", helloFlow, "application/x-yaml")
	require.Equal(b, 200, rec.Code)
	b.ReportAllocs()
	for b.Loop() {
		if rec := serve(b, e.h, "GET", "/api/v1/main/flows/company.team/hello?source=true", "", ""); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkCreateExecution measures POST /executions with a JSON input up
// to the stored CREATED execution.
func BenchmarkCreateExecution(b *testing.B) {
	e := benchEnv(b)
	rec := serve(b, e.h, "POST", "/api/v1/main/flows", inputFlow, "application/x-yaml")
	require.Equal(b, 200, rec.Code)
	b.ReportAllocs()
	for b.Loop() {
		if rec := serve(b, e.h, "POST", "/api/v1/main/executions/company.team/greet", `{"name":"x"}`, "application/json"); rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}

// BenchmarkGetExecution measures GET /executions/{id}.
func BenchmarkGetExecution(b *testing.B) {
	e := benchEnv(b)
	serve(b, e.h, "POST", "/api/v1/main/flows", helloFlow, "application/x-yaml")
	rec := serve(b, e.h, "POST", "/api/v1/main/executions/company.team/hello", "", "")
	require.Equal(b, 200, rec.Code)
	var ex flow.Execution
	require.NoError(b, json.Unmarshal(rec.Body.Bytes(), &ex))
	b.ReportAllocs()
	for b.Loop() {
		if rec := serve(b, e.h, "GET", "/api/v1/main/executions/"+ex.ID, "", ""); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
