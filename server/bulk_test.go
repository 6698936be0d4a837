package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// idsBody is a by-ids body: a JSON list of execution ids.
func idsBody(execs ...*flow.Execution) string {
	ids := make([]string, len(execs))
	for i, e := range execs {
		ids[i] = e.ID
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// TestBulkByIDs runs each of Kestra's bulk actions by ids
// (ExecutionControllerTest#killByIds, #restartByIds, #resumeByIds,
// #replayByIds, #changeStatusByIds, #setLabelsByIds, #deleteByIds,
// #unqueueByIds, #forceRunByIds, #pauseByIds): every execution named is
// acted on through the executor, and the answer counts them.
func TestBulkByIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, path string
		state              flow.State
		runs               []string
		body               func(execs []*flow.Execution) string
		check              func(t *testing.T, e *actionEnv, ex *flow.Execution)
	}{
		{name: "kill", method: "DELETE", path: "/executions/kill/by-ids", state: flow.StateRunning,
			check: func(t *testing.T, e *actionEnv, ex *flow.Execution) {
				require.Contains(t, []flow.State{flow.StateKilling, flow.StateKilled}, e.get(t, ex.ID).State.Current)
			}},
		{name: "restart", method: "POST", path: "/executions/restart/by-ids", state: flow.StateFailed, runs: []string{"a=SUCCESS", "b=FAILED"},
			check: func(t *testing.T, e *actionEnv, ex *flow.Execution) {
				require.Equal(t, 2, e.get(t, ex.ID).Metadata.AttemptNumber, "restarted in place")
			}},
		{name: "resume", method: "POST", path: "/executions/resume/by-ids", state: flow.StatePaused, runs: []string{"a=SUCCESS"},
			check: func(t *testing.T, e *actionEnv, ex *flow.Execution) {
				require.NotEqual(t, flow.StatePaused, e.get(t, ex.ID).State.Current)
			}},
		{name: "pause", method: "POST", path: "/executions/pause/by-ids", state: flow.StateRunning, runs: []string{"a=RUNNING"},
			check: func(t *testing.T, e *actionEnv, ex *flow.Execution) {
				require.Equal(t, flow.StatePaused, e.get(t, ex.ID).State.Current)
			}},
		{name: "force-run", method: "POST", path: "/executions/force-run/by-ids", state: flow.StateQueued,
			check: func(t *testing.T, e *actionEnv, ex *flow.Execution) {
				require.Equal(t, flow.StateRunning, e.get(t, ex.ID).State.Current)
			}},
		{name: "unqueue", method: "POST", path: "/executions/unqueue/by-ids?state=CANCELLED", state: flow.StateQueued,
			check: func(t *testing.T, e *actionEnv, ex *flow.Execution) {
				require.Equal(t, flow.StateCancelled, e.get(t, ex.ID).State.Current)
			}},
		{name: "change-status", method: "POST", path: "/executions/change-status/by-ids?newStatus=SUCCESS", state: flow.StateFailed, runs: []string{"a=FAILED"},
			check: func(t *testing.T, e *actionEnv, ex *flow.Execution) {
				require.Equal(t, flow.StateSuccess, e.get(t, ex.ID).State.Current)
			}},
		{name: "labels", method: "POST", path: "/executions/labels/by-ids", state: flow.StateSuccess,
			body: func(execs []*flow.Execution) string {
				return `{"executionsId":` + idsBody(execs...) + `,"executionLabels":[{"key":"team","value":"ops"}]}`
			},
			check: func(t *testing.T, e *actionEnv, ex *flow.Execution) {
				require.Contains(t, e.get(t, ex.ID).Labels, flow.Label{Key: "team", Value: "ops"})
			}},
		{name: "replay", method: "POST", path: "/executions/replay/by-ids", state: flow.StateSuccess, runs: []string{"a=SUCCESS"},
			check: func(t *testing.T, e *actionEnv, ex *flow.Execution) {
				replays, _, err := e.st.Executions().Search(t.Context(), store.ExecutionQuery{ParentID: ex.ID, Page: 1, Size: 10})
				require.NoError(t, err)
				require.Len(t, replays, 1, "a new execution replays it")
				require.Equal(t, ex.ID, replays[0].OriginalID)
			}},
		{name: "delete", method: "DELETE", path: "/executions/by-ids", state: flow.StateSuccess,
			check: func(t *testing.T, e *actionEnv, ex *flow.Execution) {
				_, _, err := e.st.Executions().Get(t.Context(), ex.ID)
				require.ErrorIs(t, err, store.ErrNotFound)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newActionEnv(t)
			e.flow(t, threeTasks)
			execs := []*flow.Execution{e.execution(t, tt.state, tt.runs...), e.execution(t, tt.state, tt.runs...)}
			body := idsBody(execs...)
			if tt.body != nil {
				body = tt.body(execs)
			}
			status, b := e.do(t, tt.method, tt.path, "application/json", strings.NewReader(body))
			require.Equal(t, http.StatusOK, status, string(b))
			var got struct{ Count int }
			require.NoError(t, json.Unmarshal(b, &got))
			require.Equal(t, 2, got.Count)
			e.drain(t)
			for _, ex := range execs {
				tt.check(t, e, ex)
			}
		})
	}
}

// TestBulkRefusesWhenOneCannot: as Kestra, a bulk action checks every
// execution first; one unknown or in the wrong state makes it a 400 that
// lists them, and none is acted on.
func TestBulkRefusesWhenOneCannot(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	e.flow(t, threeTasks)
	failed := e.execution(t, flow.StateFailed, "a=FAILED")
	running := e.execution(t, flow.StateRunning, "a=RUNNING")
	body := `["` + failed.ID + `","` + running.ID + `","nope"]`
	status, b := e.do(t, "POST", "/executions/restart/by-ids", "application/json", strings.NewReader(body))
	require.Equal(t, http.StatusBadRequest, status, string(b))
	var got struct {
		Message  string
		Invalids []struct{ InvalidValue, Message string }
	}
	require.NoError(t, json.Unmarshal(b, &got))
	require.Equal(t, "invalid bulk restart", got.Message)
	require.Len(t, got.Invalids, 2)
	require.Equal(t, running.ID, got.Invalids[0].InvalidValue)
	require.Contains(t, got.Invalids[0].Message, "not FAILED or KILLED")
	require.Equal(t, "nope", got.Invalids[1].InvalidValue)
	require.Equal(t, "execution not found", got.Invalids[1].Message)
	e.drain(t)
	require.Equal(t, flow.StateFailed, e.get(t, failed.ID).State.Current, "nothing was restarted")

	status, b = e.do(t, "POST", "/executions/labels/by-ids", "application/json",
		strings.NewReader(`{"executionsId":["`+failed.ID+`"],"executionLabels":[{"key":"system.correlationId","value":"x"}]}`))
	require.Equal(t, http.StatusBadRequest, status, string(b))
	require.Contains(t, string(b), "system labels are set by Osprey only")
}

// TestBulkByQuery acts on the executions the search's filters match
// (ExecutionControllerTest#killByQuery, #deleteByQuery, …), with the
// same filters as GET /executions/search.
func TestBulkByQuery(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	e.flow(t, threeTasks)
	ok1 := e.execution(t, flow.StateSuccess, "a=SUCCESS")
	ok2 := e.execution(t, flow.StateSuccess, "a=SUCCESS")
	failed := e.execution(t, flow.StateFailed, "a=FAILED")

	// labels on the SUCCESS ones only
	status, b := e.do(t, "POST", "/executions/labels/by-query?filters[state][IN]=SUCCESS", "application/json",
		strings.NewReader(`[{"key":"reviewed","value":"yes"}]`))
	require.Equal(t, http.StatusOK, status, string(b))
	require.JSONEq(t, `{"count":2,"totalItems":2}`, string(b))
	e.drain(t)
	for _, ex := range []*flow.Execution{ok1, ok2} {
		require.Contains(t, e.get(t, ex.ID).Labels, flow.Label{Key: "reviewed", Value: "yes"})
	}
	require.NotContains(t, e.get(t, failed.ID).Labels, flow.Label{Key: "reviewed", Value: "yes"})

	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/executions/change-status/by-query?newStatus=WARNING&state=FAILED", ""},
		{"POST", "/executions/restart/by-query?state=KILLED", ""},
		{"POST", "/executions/resume/by-query?state=PAUSED", ""},
		{"POST", "/executions/pause/by-query?state=RUNNING", ""},
		{"POST", "/executions/replay/by-query?state=CANCELLED", ""},
		{"POST", "/executions/force-run/by-query?state=CREATED", ""},
	} {
		status, b = e.do(t, tc.method, tc.path, "", strings.NewReader(tc.body))
		require.Equal(t, http.StatusOK, status, "%s: %s", tc.path, b)
	}
	e.drain(t)
	require.Equal(t, flow.StateWarning, e.get(t, failed.ID).State.Current)

	// stored now: a drain starts a QUEUED execution of a flow with no limit
	queued := e.execution(t, flow.StateQueued)
	status, b = e.do(t, "POST", "/executions/unqueue/by-query?filters[state][IN]=QUEUED&filters[flowId][EQUALS]=f", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	require.JSONEq(t, `{"count":1,"totalItems":1}`, string(b))
	e.drain(t)
	require.Equal(t, flow.StateRunning, e.get(t, queued.ID).State.Current, "unqueued to RUNNING by default")

	status, b = e.do(t, "DELETE", "/executions/kill/by-query?state=RUNNING", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	e.drain(t)
	require.Contains(t, []flow.State{flow.StateKilling, flow.StateKilled}, e.get(t, queued.ID).State.Current)

	// Only ended executions are deleted unless includeNonTerminated=true.
	status, b = e.do(t, "DELETE", "/executions/by-query?namespace=company.team&state=SUCCESS", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	require.JSONEq(t, `{"count":2,"totalItems":2}`, string(b))
	_, total, err := e.st.Executions().Search(t.Context(), store.ExecutionQuery{Page: 1, Size: 10})
	require.NoError(t, err)
	require.Equal(t, 2, total, "the FAILED-then-WARNING and the killed one are left")

	status, b = e.do(t, "DELETE", "/executions/by-query?state=NOPE", "", nil)
	require.Equal(t, http.StatusBadRequest, status, string(b))
}

// TestSetLabels adds labels to an ended execution
// (ExecutionControllerTest#setLabels): new keys are added, existing keys
// take the new value, system labels and running executions are refused.
func TestSetLabels(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	e.flow(t, threeTasks)
	done := e.execution(t, flow.StateSuccess, "a=SUCCESS")
	require.NoError(t, e.st.Executions().Delete(t.Context(), done.ID))
	done.Labels = []flow.Label{{Key: "team", Value: "data"}, {Key: "system.correlationId", Value: done.ID}}
	require.NoError(t, e.st.Executions().Create(t.Context(), done))

	status, b := e.do(t, "POST", "/executions/"+done.ID+"/actions/labels", "application/json",
		strings.NewReader(`[{"key":"team","value":"ops"},{"key":"env","value":"prod"}]`))
	require.Equal(t, http.StatusOK, status, string(b))
	var answered flow.Execution
	require.NoError(t, json.Unmarshal(b, &answered))
	want := []flow.Label{{Key: "team", Value: "ops"}, {Key: "system.correlationId", Value: done.ID}, {Key: "env", Value: "prod"}}
	require.Equal(t, want, answered.Labels, "the answer is the execution as the labels leave it")
	require.Equal(t, []flow.Label{{Key: "team", Value: "data"}, {Key: "system.correlationId", Value: done.ID}}, e.get(t, done.ID).Labels,
		"the executor applies the labels, not the webserver")
	e.drain(t)
	require.Equal(t, want, e.get(t, done.ID).Labels)

	// Kestra's older path answers the same.
	status, b = e.do(t, "POST", "/executions/"+done.ID+"/labels", "application/json", strings.NewReader(`[{"key":"env","value":"dev"}]`))
	require.Equal(t, http.StatusOK, status, string(b))

	running := e.execution(t, flow.StateRunning, "a=RUNNING")
	for _, tc := range []struct {
		id, body string
		status   int
		contains string
	}{
		{running.ID, `[{"key":"a","value":"b"}]`, http.StatusBadRequest, "labels are set on an ended execution"},
		{done.ID, `[{"key":"system.correlationId","value":"x"}]`, http.StatusBadRequest, "system labels"},
		{done.ID, `[]`, http.StatusBadRequest, "no labels given"},
		{done.ID, `{`, http.StatusBadRequest, "JSON list of labels"},
		{"nope", `[{"key":"a","value":"b"}]`, http.StatusNotFound, "nope"},
	} {
		status, b := e.do(t, "POST", "/executions/"+tc.id+"/actions/labels", "application/json", strings.NewReader(tc.body))
		require.Equal(t, tc.status, status, "%s: %s", tc.body, b)
		require.Contains(t, string(b), tc.contains)
	}
}

// TestUnqueueExecution takes QUEUED executions out of the concurrency
// queue (ExecutionControllerTest#unqueue): to RUNNING they start past the
// limit, to CANCELLED they end without running.
func TestUnqueueExecution(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	e.flow(t, threeTasks)
	toRun := e.execution(t, flow.StateQueued)
	toCancel := e.execution(t, flow.StateQueued)

	status, b := e.do(t, "POST", "/executions/"+toRun.ID+"/actions/unqueue?state=RUNNING", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	status, b = e.do(t, "POST", "/executions/"+toCancel.ID+"/actions/unqueue?state=CANCELLED", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	var answered flow.Execution
	require.NoError(t, json.Unmarshal(b, &answered))
	require.Equal(t, flow.StateCancelled, answered.State.Current)
	e.drain(t)
	require.Equal(t, flow.StateRunning, e.get(t, toRun.ID).State.Current)
	require.Equal(t, flow.StateCancelled, e.get(t, toCancel.ID).State.Current)
	require.Empty(t, e.get(t, toCancel.ID).TaskRunList, "a cancelled one never ran")

	queued := e.execution(t, flow.StateQueued)
	status, b = e.do(t, "POST", "/executions/"+queued.ID+"/unqueue?state=FAILED", "", nil)
	require.Equal(t, http.StatusOK, status, string(b), "Kestra's older path")

	status, b = e.do(t, "POST", "/executions/"+toRun.ID+"/actions/unqueue?state=RUNNING", "", nil)
	require.Equal(t, http.StatusConflict, status, string(b))
	status, b = e.do(t, "POST", "/executions/"+toRun.ID+"/actions/unqueue?state=SUCCESS", "", nil)
	require.Equal(t, http.StatusBadRequest, status, string(b))
	require.Contains(t, string(b), "RUNNING, CANCELLED or FAILED")
}

// TestEvalExpression renders an expression as a task run sees it
// (ExecutionControllerTest#eval): its result, or the expression's error
// in the answer; never a secret.
func TestEvalExpression(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	e.flow(t, threeTasks)
	done := e.execution(t, flow.StateSuccess, "a=SUCCESS", "b=SUCCESS")
	path := "/executions/" + done.ID + "/actions/eval/" + done.TaskRunList[1].ID
	for _, tc := range []struct {
		expr, result, err string
	}{
		{"{{ outputs.a.value }} then {{ taskrun.id }}", "a then " + done.TaskRunList[1].ID, ""},
		{"{{ flow.namespace }}/{{ execution.id }}", "company.team/" + done.ID, ""},
		{"{{ inputs.nope }}", "", "nope"},
		{"{{ secret('DB_PASSWORD') }}", "", "secret"},
	} {
		status, b := e.do(t, "POST", path, "text/plain", strings.NewReader(tc.expr))
		require.Equal(t, http.StatusOK, status, string(b))
		var got struct {
			Result *string
			Error  string
		}
		require.NoError(t, json.Unmarshal(b, &got))
		if tc.err != "" {
			require.Nil(t, got.Result, tc.expr)
			require.Contains(t, got.Error, tc.err, tc.expr)
			continue
		}
		require.Empty(t, got.Error, tc.expr)
		require.Equal(t, tc.result, *got.Result, tc.expr)
	}
	status, _ := e.do(t, "POST", "/executions/"+done.ID+"/actions/eval/nope", "text/plain", strings.NewReader("x"))
	require.Equal(t, http.StatusNotFound, status)

	// Without a task run: the execution's context (evalExpression).
	status, b := e.do(t, "POST", "/executions/"+done.ID+"/actions/eval", "text/plain", strings.NewReader("{{ outputs.b.value }}"))
	require.Equal(t, http.StatusOK, status, string(b))
	require.JSONEq(t, `{"result":"b"}`, string(b))
}
