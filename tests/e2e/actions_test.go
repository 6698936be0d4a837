package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/testkit"
)

const approvalFlow = `
id: approval
namespace: company.team
tasks:
  - id: approve
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: approved
        type: BOOLEAN
  - id: answer
    type: io.kestra.plugin.core.debug.Return
    format: "approved={{ outputs.approve.onResume.approved }}"
`

const flakyFlow = `
id: flaky
namespace: company.team
tasks:
  - id: before
    type: io.kestra.plugin.core.log.Log
    message: before
  - id: shaky
    type: io.kestra.plugin.core.execution.Fail
    condition: "{{ taskrun.attemptsCount == 0 }}"
    errorMessage: first attempt fails
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: after
`

const replayFlow = `
id: steps
namespace: company.team
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: "a ran in {{ execution.id }}"
  - id: b
    type: io.kestra.plugin.core.log.Log
    message: "b ran in {{ execution.id }}"
  - id: c
    type: io.kestra.plugin.core.debug.Return
    format: "{{ execution.originalId }}"
`

const parentFlow = `
id: parent
namespace: company.team
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: child
    wait: true
`

const childFlow = `
id: child
namespace: company.team
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: grandchild
    wait: true
`

const grandchildFlow = `
id: grandchild
namespace: company.team
tasks:
  - id: hold
    type: io.kestra.plugin.core.flow.Pause
`

// TestExecutionActions drives resume, restart, replay and a cascading kill
// through `server local`'s API, the executor and the worker.
func TestExecutionActions(t *testing.T) {
	dir := t.TempDir()
	port := testkit.Port(t)
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	p := start(t, nil, "server", "local", "--data-dir", dir, "--port", strconv.Itoa(port), "--management-port", "0")
	a.waitUp(p)
	for _, src := range []string{approvalFlow, flakyFlow, replayFlow, grandchildFlow, childFlow, parentFlow} {
		a.createFlow(src)
	}

	t.Run("resume with multipart inputs", func(t *testing.T) {
		id := a.startAction("approval")
		a.waitAction(id, "PAUSED")
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		require.NoError(t, mw.WriteField("approved", "true"))
		require.NoError(t, mw.Close())
		code, body := a.do(http.MethodPost, "/api/v1/main/executions/"+id+"/resume", mw.FormDataContentType(), &buf)
		require.Equal(t, http.StatusNoContent, code, string(body))
		ex := a.waitAction(id, "SUCCESS")
		require.Equal(t, "approved=true", actionOutput(ex, "answer", "value"))
	})

	t.Run("restart reruns from the failure", func(t *testing.T) {
		ex := a.run("company.team", "flaky", nil)
		require.Equal(t, "FAILED", state(ex))
		id := ex["id"].(string)
		beforeID := actionRun(ex, "before")["id"]
		// ?wait=true answers once the executor applied the restart, so the
		// execution is no longer FAILED when the wait below starts.
		code, body := a.do(http.MethodPost, "/api/v1/main/executions/"+id+"/restart?wait=true", "", nil)
		require.Equal(t, http.StatusOK, code, string(body))
		ex = a.waitAction(id, "SUCCESS")
		require.Equal(t, beforeID, actionRun(ex, "before")["id"], "the task that succeeded is kept")
		require.Len(t, actionRun(ex, "shaky")["attempts"], 2)
		require.Equal(t, "after", actionOutput(ex, "after", "value"))
		var logs []map[string]any
		a.getJSON("/api/v1/main/logs/"+id, &logs)
		require.Equal(t, 1, countLogs(logs, "before"), "before ran once")

		code, _ = a.do(http.MethodPost, "/api/v1/main/executions/"+id+"/restart", "", nil)
		require.Equal(t, http.StatusConflict, code, "a successful execution does not restart")
	})

	t.Run("replay from a task run", func(t *testing.T) {
		orig := a.run("company.team", "steps", nil)
		require.Equal(t, "SUCCESS", state(orig))
		origID := orig["id"].(string)
		require.Equal(t, origID, orig["originalId"], "an execution started with ?wait=true is its own original")
		require.Contains(t, orig["labels"], map[string]any{"key": "system.correlationId", "value": origID})
		bID := actionRun(orig, "b")["id"].(string)
		code, body := a.do(http.MethodPost, "/api/v1/main/executions/"+origID+"/replay?taskRunId="+bID, "", nil)
		require.Equal(t, http.StatusOK, code, string(body))
		var created map[string]any
		a.decodeAction(body, &created)
		id := created["id"].(string)
		require.NotEqual(t, origID, id)
		require.Equal(t, origID, created["originalId"])
		ex := a.waitAction(id, "SUCCESS")
		require.Len(t, ex["taskRunList"], 3)
		require.Equal(t, origID, actionOutput(ex, "c", "value"), "execution.originalId is the replayed one")
		var logs []map[string]any
		a.getJSON("/api/v1/main/logs/"+id, &logs)
		require.Equal(t, 0, countLogs(logs, "a ran in"), "a is copied, not run again")
		require.Equal(t, 1, countLogs(logs, "b ran in "+id), "b runs again in the replay")
	})

	t.Run("kill cascades to subflows", func(t *testing.T) {
		parent := a.startAction("parent")
		child := a.waitSubflow(parent)
		grandchild := a.waitSubflow(child)
		// The grandchild holds on a Pause: a worker's Sleep would only
		// learn of the kill at its next heartbeat, which would hold the
		// server's shutdown at the end of this test.
		a.waitAction(grandchild, "PAUSED")
		a.waitAction(child, "RUNNING")
		code, body := a.do(http.MethodDelete, "/api/v1/main/executions/"+parent+"/kill", "", nil)
		require.Equal(t, http.StatusAccepted, code, string(body))
		for _, id := range []string{parent, child, grandchild} {
			a.waitAction(id, "KILLED")
		}
	})

	t.Run("graph, plugins and flow schema", func(t *testing.T) {
		var g struct {
			Nodes []struct{ UID string }
		}
		a.getJSON("/api/v1/main/flows/company.team/steps/graph", &g)
		var uids []string
		for _, n := range g.Nodes {
			uids = append(uids, n.UID)
		}
		require.Subset(t, uids, []string{"a", "b", "c"})
		var schema map[string]any
		a.getJSON("/api/v1/main/plugins/schemas/flow", &schema)
		require.Contains(t, schema["definitions"], "io.kestra.plugin.core.flow.Subflow")
		var plugins struct {
			Results []struct{ Tasks []struct{ Cls string } }
		}
		a.getJSON("/api/v1/main/plugins", &plugins)
		require.Len(t, plugins.Results, 1)
		require.Contains(t, plugins.Results[0].Tasks, struct{ Cls string }{"io.kestra.plugin.core.flow.Pause"})
	})
}

func (a api) decodeAction(body []byte, v any) {
	a.t.Helper()
	require.NoError(a.t, json.Unmarshal(body, v), string(body))
}

// startExec starts an execution of company.team/id without waiting.
func (a api) startAction(id string) string {
	a.t.Helper()
	code, body := a.do(http.MethodPost, "/api/v1/main/executions/company.team/"+id, "", nil)
	require.Equal(a.t, http.StatusOK, code, string(body))
	var ex map[string]any
	a.decodeAction(body, &ex)
	return ex["id"].(string)
}

// waitState polls an execution until it is in st; it fails on another
// terminal state or after 30s.
func (a api) waitAction(id, st string) map[string]any {
	a.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ex map[string]any
		a.getJSON("/api/v1/main/executions/"+id, &ex)
		cur := state(ex)
		if cur == st {
			return ex
		}
		if slices.Contains([]string{"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED"}, cur) || time.Now().After(deadline) {
			a.t.Fatalf("execution %s is %s, want %s: %v", id, cur, st, ex)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitChild polls for the subflow execution a parent started.
func (a api) waitSubflow(parent string) string {
	a.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var page struct {
			Results []map[string]any
		}
		a.getJSON("/api/v1/main/executions/search?parentId="+parent, &page)
		if len(page.Results) > 0 {
			return page.Results[0]["id"].(string)
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.t.Fatalf("execution %s started no subflow", parent)
	return ""
}

func actionRun(ex map[string]any, taskID string) map[string]any {
	runs, _ := ex["taskRunList"].([]any)
	for _, r := range runs {
		if m := r.(map[string]any); m["taskId"] == taskID {
			return m
		}
	}
	return map[string]any{}
}

func actionOutput(ex map[string]any, taskID, key string) any {
	outs, _ := actionRun(ex, taskID)["outputs"].(map[string]any)
	return outs[key]
}

func countLogs(logs []map[string]any, prefix string) int {
	n := 0
	for _, l := range logs {
		if m, _ := l["message"].(string); strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}
