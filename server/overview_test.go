package server

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDistinctNamespacesAndLatestExecutions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createFlow(t, helloFlow)
	e.createFlow(t, strings.Replace(helloFlow, "namespace: company.team", "namespace: company.team.sub", 1))
	e.createFlow(t, strings.Replace(helloFlow, "id: hello\nnamespace: company.team", "id: other\nnamespace: acme", 1))

	rec := e.do(t, req{method: "GET", path: "/api/v1/main/flows/distinct-namespaces"})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.JSONEq(t, `["acme","company.team","company.team.sub"]`, rec.Body.String())
	rec = e.do(t, req{method: "GET", path: "/api/v1/main/flows/distinct-namespaces?q=SUB"})
	require.JSONEq(t, `["company.team.sub"]`, rec.Body.String())

	first := decode[flowExecutionID](t, e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello"})).ID
	second := decode[flowExecutionID](t, e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello"})).ID
	// the child namespace's flow of the same id ran last
	sub := decode[flowExecutionID](t, e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team.sub/hello"})).ID
	require.NotEqual(t, first, second)

	body := `[{"namespace":"company.team","id":"hello"},{"namespace":"company.team.sub","id":"hello"},{"namespace":"acme","id":"other"}]`
	rec = e.do(t, req{method: "POST", path: "/api/v1/main/executions/latest", body: body, contentType: "application/json"})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	got := decode[[]lastExecution](t, rec)
	require.Len(t, got, 2, "acme.other never ran")
	// the newest of company.team's own (two started in one millisecond
	// tie on the date), never the child namespace's
	require.Contains(t, []string{first, second}, got[0].ID)
	require.Equal(t, "company.team", got[0].Namespace)
	require.NotEmpty(t, got[0].Status)
	require.Equal(t, sub, got[1].ID)

	for _, bad := range []string{`{}`, `[{"namespace":"a"}]`} {
		rec = e.do(t, req{method: "POST", path: "/api/v1/main/executions/latest", body: bad, contentType: "application/json"})
		require.Equal(t, 400, rec.Code, bad)
	}
}
