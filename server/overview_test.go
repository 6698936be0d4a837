package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

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

func TestDailyExecutionStatistics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createFlow(t, helloFlow)
	for range 2 {
		e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello"})
	}
	zone := time.FixedZone("", 90*60)
	now := time.Now().In(zone)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, zone)
	body := fmt.Sprintf(`{"startDate":%q,"endDate":%q}`,
		today.AddDate(0, 0, -2).Format(time.RFC3339), today.AddDate(0, 0, 1).Format(time.RFC3339))
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/stats/executions/daily", body: body, contentType: "application/json"})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	got := decode[[]dailyStatistics](t, rec)
	require.Len(t, got, 3, "every day of the window, empty ones too")
	require.Equal(t, today.AddDate(0, 0, -2).Format(time.DateOnly), got[0].StartDate)
	require.Empty(t, got[0].ExecutionCounts)
	require.Equal(t, today.Format(time.DateOnly), got[2].StartDate)
	total := 0
	for _, n := range got[2].ExecutionCounts {
		total += n
	}
	require.Equal(t, 2, total, "both executions counted today: %v", got[2].ExecutionCounts)

	body = fmt.Sprintf(`{"startDate":%q,"endDate":%q,"namespace":"acme"}`,
		today.Format(time.RFC3339), today.AddDate(0, 0, 1).Format(time.RFC3339))
	rec = e.do(t, req{method: "POST", path: "/api/v1/main/stats/executions/daily", body: body, contentType: "application/json"})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.JSONEq(t, fmt.Sprintf(`[{"startDate":%q,"executionCounts":{},"groupBy":"day"}]`, today.Format(time.DateOnly)), rec.Body.String())

	for _, bad := range []string{`[]`, `{}`, `{"startDate":"2026-12-02T00:00:00Z","endDate":"2026-12-01T00:00:00Z"}`,
		`{"startDate":"2020-01-01T00:00:00Z","endDate":"2026-12-01T00:00:00Z"}`, `{"startDate":"yesterday","endDate":"2026-12-01T00:00:00Z"}`} {
		rec = e.do(t, req{method: "POST", path: "/api/v1/main/stats/executions/daily", body: bad, contentType: "application/json"})
		require.Equal(t, 400, rec.Code, bad)
	}
}
