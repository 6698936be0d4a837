package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCreateFlow(t *testing.T) {
	t.Parallel()
	for _, prefix := range apiPrefixes {
		t.Run(prefix, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			rec := e.do(t, req{method: "POST", path: prefix + "/flows", body: helloFlow, contentType: "application/x-yaml"})
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			got := decode[map[string]any](t, rec)
			require.Equal(t, "hello", got["id"])
			require.Equal(t, "company.team", got["namespace"])
			require.EqualValues(t, 1, got["revision"])
			require.Equal(t, helloFlow, got["source"])
			tasks := got["tasks"].([]any)
			require.Len(t, tasks, 2)
			first := tasks[0].(map[string]any)
			require.Equal(t, "io.kestra.plugin.core.log.Log", first["type"])
			require.Equal(t, "Hello {{ inputs.name }}", first["message"], "type-specific props are rendered back")
			inner := tasks[1].(map[string]any)["tasks"].([]any)[0].(map[string]any)
			require.Equal(t, "inner", inner["id"])
			require.Equal(t, "{{ flow.id }}", inner["format"])
		})
	}
}

func TestCreateFlowErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       string
		status     int
		message    string
		wantDetail struct {
			path         string
			line, column int
		}
	}{
		{name: "missing id", body: "namespace: a\ntasks: []\n", status: 422, message: "invalid flow",
			wantDetail: struct {
				path         string
				line, column int
			}{"id", 1, 1}},
		{name: "unknown task type", body: "id: x\nnamespace: a\ntasks:\n  - id: t\n    type: com.example.Nope\n", status: 422, message: "unknown task type",
			wantDetail: struct {
				path         string
				line, column int
			}{"tasks[0].type", 5, 11}},
		{name: "empty body", body: "  \n", status: 422, message: "empty",
			wantDetail: struct {
				path         string
				line, column int
			}{"", 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			rec := e.do(t, req{method: "POST", path: "/api/v1/main/flows", body: tc.body, contentType: "application/x-yaml"})
			body := requireError(t, rec, tc.status, tc.message)
			require.NotEmpty(t, body.Details)
			d := body.Details[0]
			require.Equal(t, tc.wantDetail.path, d.Path)
			require.Equal(t, tc.wantDetail.line, d.Line)
			require.Equal(t, tc.wantDetail.column, d.Column)
			require.NotEmpty(t, d.Message)
		})
	}
}

func TestCreateFlowThatExists(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createFlow(t, helloFlow)
	rec := e.do(t, req{method: "POST", path: "/api/v1/flows", body: helloFlow, contentType: "application/x-yaml"})
	body := requireError(t, rec, http.StatusUnprocessableEntity, "flow id already exists")
	require.Equal(t, "id", body.Details[0].Path)
}

func TestFlowLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createFlow(t, helloFlow)
	updated := helloFlow + "description: second\n"

	steps := []struct {
		name   string
		r      req
		status int
		check  func(t *testing.T, body []byte)
	}{
		{name: "get without source", r: req{method: "GET", path: "/api/v1/main/flows/company.team/hello"}, status: 200,
			check: func(t *testing.T, b []byte) {
				require.NotContains(t, string(b), `"source"`)
				require.Contains(t, string(b), `"revision":1`)
			}},
		{name: "get with source", r: req{method: "GET", path: "/api/v1/main/flows/company.team/hello?source=true"}, status: 200,
			check: func(t *testing.T, b []byte) { require.Contains(t, string(b), `"source":"id: hello`) }},
		{name: "get bad revision", r: req{method: "GET", path: "/api/v1/main/flows/company.team/hello?revision=x"}, status: 400},
		{name: "get missing", r: req{method: "GET", path: "/api/v1/main/flows/company.team/nope"}, status: 404},
		{name: "update", r: req{method: "PUT", path: "/api/v1/main/flows/company.team/hello", body: updated, contentType: "application/x-yaml"}, status: 200,
			check: func(t *testing.T, b []byte) { require.Contains(t, string(b), `"revision":2`) }},
		{name: "update with another id", r: req{method: "PUT", path: "/api/v1/main/flows/company.team/other", body: updated, contentType: "application/x-yaml"}, status: 422,
			check: func(t *testing.T, b []byte) { require.Contains(t, string(b), `illegal flow id update`) }},
		{name: "update invalid", r: req{method: "PUT", path: "/api/v1/main/flows/company.team/hello", body: "namespace: company.team\n", contentType: "application/x-yaml"}, status: 422},
		{name: "update missing", r: req{method: "PUT", path: "/api/v1/main/flows/company.team/ghost", body: "id: ghost\nnamespace: company.team\n", contentType: "application/x-yaml"}, status: 404},
		{name: "old revision", r: req{method: "GET", path: "/api/v1/flows/company.team/hello?revision=1&source=true"}, status: 200,
			check: func(t *testing.T, b []byte) { require.NotContains(t, string(b), "second") }},
		{name: "revisions", r: req{method: "GET", path: "/api/v1/main/flows/company.team/hello/revisions"}, status: 200,
			check: func(t *testing.T, b []byte) {
				require.Contains(t, string(b), `"revision":1`)
				require.Contains(t, string(b), `"revision":2`)
			}},
		{name: "update unchanged", r: req{method: "PUT", path: "/api/v1/main/flows/company.team/hello", body: updated, contentType: "application/x-yaml"}, status: 200,
			check: func(t *testing.T, b []byte) {
				require.Contains(t, string(b), `"revision":2`, "the same source makes no new revision")
			}},
		{name: "delete", r: req{method: "DELETE", path: "/api/v1/main/flows/company.team/hello"}, status: 204},
		{name: "revisions hide the deletion", r: req{method: "GET", path: "/api/v1/main/flows/company.team/hello/revisions"}, status: 200,
			check: func(t *testing.T, b []byte) { require.NotContains(t, string(b), `"deleted":true`) }},
		{name: "revisions with deletion", r: req{method: "GET", path: "/api/v1/main/flows/company.team/hello/revisions?allowDelete=true"}, status: 200,
			check: func(t *testing.T, b []byte) { require.Contains(t, string(b), `"deleted":true`) }},
		{name: "get deleted", r: req{method: "GET", path: "/api/v1/main/flows/company.team/hello"}, status: 404},
		{name: "delete again", r: req{method: "DELETE", path: "/api/v1/main/flows/company.team/hello"}, status: 404},
		{name: "revisions of nothing", r: req{method: "GET", path: "/api/v1/main/flows/company.team/ghost/revisions"}, status: 404},
	}
	for _, s := range steps { // in order: each step depends on the one before
		rec := e.do(t, s.r)
		require.Equal(t, s.status, rec.Code, "%s: %s", s.name, rec.Body.String())
		if s.status >= 400 {
			requireError(t, rec, s.status, "")
		}
		if s.check != nil {
			s.check(t, rec.Body.Bytes())
		}
	}
}

func TestSearchFlows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, src := range []string{
		"id: a1\nnamespace: company.team\ntasks: [{id: t, type: io.kestra.plugin.core.log.Log, message: hi}]\n", "id: a2\nnamespace: company.team\ntasks: [{id: t, type: io.kestra.plugin.core.log.Log, message: hi}]\n",
		"id: b1\nnamespace: company.team.sub\ntasks: [{id: t, type: io.kestra.plugin.core.log.Log, message: hi}]\n", "id: c1\nnamespace: other\ntasks: [{id: t, type: io.kestra.plugin.core.log.Log, message: hi}]\n",
	} {
		e.createFlow(t, src)
	}
	type page struct {
		Results []struct {
			ID        string `json:"id"`
			Namespace string `json:"namespace"`
		} `json:"results"`
		Total int `json:"total"`
	}
	tests := []struct {
		name    string
		query   string
		status  int
		wantIDs []string
		total   int
	}{
		{name: "all", query: "", status: 200, wantIDs: []string{"a1", "a2", "b1", "c1"}, total: 4},
		{name: "namespace and children", query: "?namespace=company.team", status: 200, wantIDs: []string{"a1", "a2", "b1"}, total: 3},
		{name: "q", query: "?q=1", status: 200, wantIDs: []string{"a1", "b1", "c1"}, total: 3},
		{name: "paged", query: "?page=2&size=3", status: 200, wantIDs: []string{"c1"}, total: 4},
		{name: "filters namespace prefix", query: "?filters[namespace][PREFIX]=company.team.sub", status: 200, wantIDs: []string{"b1"}, total: 1},
		{name: "filters q", query: "?filters[q][EQUALS]=a", status: 200, wantIDs: []string{"a1", "a2"}, total: 2},
		{name: "unsupported filter", query: "?filters[namespace][EQUALS]=company", status: 400},
		{name: "bad page", query: "?page=0", status: 400},
		{name: "bad size", query: "?size=abc", status: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.do(t, req{method: "GET", path: "/api/v1/main/flows/search" + tc.query})
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.status != 200 {
				return
			}
			p := decode[page](t, rec)
			var ids []string
			for _, r := range p.Results {
				ids = append(ids, r.ID)
			}
			require.Equal(t, tc.wantIDs, ids)
			require.Equal(t, tc.total, p.Total)
		})
	}

	rec := e.do(t, req{method: "GET", path: "/api/v1/flows/company.team"})
	require.Equal(t, 200, rec.Code)
	list := decode[[]map[string]any](t, rec)
	require.Len(t, list, 2, "the namespace list holds that namespace only")
}

func TestValidateFlows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := helloFlow + "---\nid: bad\nnamespace: n\ntasks:\n  - id: t\n    type: nope.Type\n"
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/flows/validate", body: body, contentType: "application/x-yaml"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	type entry struct {
		Index       int    `json:"index"`
		Flow        string `json:"flow"`
		Namespace   string `json:"namespace"`
		Constraints string `json:"constraints"`
		Details     []struct {
			Path   string `json:"path"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"details"`
	}
	got := decode[[]entry](t, rec)
	require.Equal(t, "n", got[1].Namespace, "an invalid flow is still named")
	require.Len(t, got, 2)
	require.Equal(t, "hello", got[0].Flow)
	require.Empty(t, got[0].Constraints)
	require.Equal(t, 1, got[1].Index)
	require.Equal(t, "bad", got[1].Flow)
	require.Contains(t, got[1].Constraints, "unknown task type nope.Type")
	require.Len(t, got[1].Details, 1)
	require.Equal(t, "tasks[0].type", got[1].Details[0].Path)
	// The second document's line 5 is line 18 of the body.
	require.Equal(t, 13+5, got[1].Details[0].Line)
	require.Equal(t, 11, got[1].Details[0].Column)
}

// A deeply nested body is refused before any YAML parser sees it, on both
// endpoints that parse flows.
func TestFlowBombsAreRefusedBeforeParsing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bomb := strings.Repeat("[", 200_000)
	for _, path := range []string{"/api/v1/main/flows", "/api/v1/main/flows/validate"} {
		rec := e.do(t, req{method: "POST", path: path, body: bomb, contentType: "application/x-yaml"})
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code, path)
		require.Contains(t, rec.Body.String(), "nesting deeper than 256 levels", path)
	}
}
