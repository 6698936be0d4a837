package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/cli"
	"github.com/ospreyhq/osprey/devkit/testkit"
)

const helloFlow = `
id: hello
namespace: company.team
inputs:
  - id: name
    type: STRING
    defaults: world
tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    message: "Hello, {{ inputs.name }}!"
  - id: answer
    type: io.kestra.plugin.core.debug.Return
    format: "{{ flow.namespace }}/{{ flow.id }} greeted {{ inputs.name }}"
`

// TestLocalTourAndRestart follows the README's tour against `server local`,
// then stops and starts Osprey on the same data directory and finds the
// flow, the execution and its logs again.
func TestLocalTourAndRestart(t *testing.T) {
	dir := t.TempDir()
	port := testkit.Port(t)
	args := []string{"server", "local", "--data-dir", dir, "--port", strconv.Itoa(port), "--management-port", "0"}
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}

	p := start(t, nil, args...)
	a.waitUp(p)
	a.createFlow(helloFlow)
	ex := a.run("company.team", "hello", map[string]string{"name": "Osprey"})
	require.Equal(t, "SUCCESS", state(ex))
	id := ex["id"].(string)
	var logs []map[string]any
	a.getJSON("/api/v1/main/logs/"+id, &logs)
	require.Len(t, logs, 1)
	require.Equal(t, "Hello, Osprey!", logs[0]["message"])
	runs := ex["taskRunList"].([]any)
	require.Len(t, runs, 2)
	require.Equal(t, "company.team/hello greeted Osprey", runs[1].(map[string]any)["outputs"].(map[string]any)["value"])
	require.Equal(t, 0, p.stop(t), p.logs.String())

	p2 := start(t, nil, args...)
	a.waitUp(p2)
	var again map[string]any
	a.getJSON("/api/v1/main/executions/"+id, &again)
	require.Equal(t, "SUCCESS", state(again))
	a.getJSON("/api/v1/main/logs/"+id, &logs)
	require.Equal(t, "Hello, Osprey!", logs[0]["message"])
	var f map[string]any
	a.getJSON("/api/v1/main/flows/company.team/hello", &f)
	require.Equal(t, "hello", f["id"])
	// and the flow still runs, with its default input
	ex = a.run("company.team", "hello", nil)
	require.Equal(t, "SUCCESS", state(ex))
}

// TestDevAzurePrintsExports runs `osprey dev azure` and checks it prints
// the workload-identity environment and a kestra.secret snippet.
func TestDevAzurePrintsExports(t *testing.T) {
	dir := t.TempDir()
	var out testkit.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"dev", "azure", "--dir", dir}, strings.NewReader(""), &out, io.Discard, nil)
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "workload-identity-client-id") }, 20*time.Second, 20*time.Millisecond)
	cancel()
	require.Equal(t, 0, <-done)
	for _, want := range []string{"AZURE_CLIENT_ID=", "AZURE_TENANT_ID=", "AZURE_FEDERATED_TOKEN_FILE=" + dir, "AZURE_AUTHORITY_HOST=https://127.0.0.1:", "SSL_CERT_FILE=", "type: azure-key-vault"} {
		require.Contains(t, out.String(), want)
	}
}

// TestFlowPathLoadsFlowsAtStart starts `server local -f DIR` and finds the
// folder's flows, nested folders included, ready to run.
func TestFlowPathLoadsFlowsAtStart(t *testing.T) {
	flows := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(flows, "team"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(flows, "team", "hello.yaml"), []byte(helloFlow), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(flows, "README.txt"), []byte("not a flow"), 0o600))
	port := testkit.Port(t)
	p := start(t, nil, "server", "local", "--data-dir", t.TempDir(), "-f", flows, "--port", strconv.Itoa(port), "--management-port", "0")
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	a.waitUp(p)
	ex := a.run("company.team", "hello", map[string]string{"name": "folder"})
	require.Equal(t, "SUCCESS", state(ex))
}

// TestKillStopsARunningTask kills an execution whose task sleeps for an
// hour: the worker stops the task at once, not at its next heartbeat.
func TestKillStopsARunningTask(t *testing.T) {
	port := testkit.Port(t)
	p := start(t, nil, "server", "local", "--data-dir", t.TempDir(), "--port", strconv.Itoa(port), "--management-port", "0")
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	a.waitUp(p)
	a.createFlow("id: sleepy\nnamespace: e2e.kill\ntasks:\n  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: PT1H\n  - id: never\n    type: io.kestra.plugin.core.log.Log\n    message: never\n")
	code, body := a.do("POST", "/api/v1/main/executions/e2e.kill/sleepy", "application/json", strings.NewReader("{}"))
	require.Equal(t, 200, code, string(body))
	var ex map[string]any
	require.NoError(t, json.Unmarshal(body, &ex))
	id := ex["id"].(string)
	require.Eventually(t, func() bool {
		a.getJSON("/api/v1/main/executions/"+id, &ex)
		return state(ex) == "RUNNING" && len(ex["taskRunList"].([]any)) == 1
	}, 10*time.Second, 20*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // let the worker start the sleep
	code, body = a.do("DELETE", "/api/v1/main/executions/"+id+"/kill", "", nil)
	require.Equal(t, 202, code, string(body))
	start := time.Now()
	require.Eventually(t, func() bool {
		a.getJSON("/api/v1/main/executions/"+id, &ex)
		return state(ex) == "KILLED"
	}, 10*time.Second, 20*time.Millisecond)
	// Bounds far above what it takes (tens of milliseconds) and far below
	// the hour the task would sleep and the 25 s shutdown grace, so a busy
	// machine cannot fail them while a kill that waits for either does.
	const prompt = 15 * time.Second
	require.Less(t, time.Since(start), prompt)
	runs := ex["taskRunList"].([]any)
	require.Len(t, runs, 1, "the next task never starts")
	require.Equal(t, "KILLED", runs[0].(map[string]any)["state"].(map[string]any)["current"])
	// the worker gave the slot back: a shutdown does not wait for the sleep
	stopped := time.Now()
	require.Equal(t, 0, p.stop(t))
	require.Less(t, time.Since(stopped), prompt)
}

// TestErrorsBranchSeesWhatFailed reads errorLogs() and tasksWithState() in
// an errors branch, as Kestra users report failures.
func TestErrorsBranchSeesWhatFailed(t *testing.T) {
	port := testkit.Port(t)
	p := start(t, nil, "server", "local", "--data-dir", t.TempDir(), "--port", strconv.Itoa(port), "--management-port", "0")
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	a.waitUp(p)
	a.createFlow(`id: report
namespace: e2e.errors
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: disk full
errors:
  - id: tell
    type: io.kestra.plugin.core.debug.Return
    format: "{{ tasksWithState('failed') | jq('.[].taskId') | first }}: {{ errorLogs()[0].message }}"
`)
	ex := a.run("e2e.errors", "report", nil)
	require.Equal(t, "FAILED", state(ex))
	runs := ex["taskRunList"].([]any)
	require.Len(t, runs, 2)
	require.Equal(t, "boom: disk full", runs[1].(map[string]any)["outputs"].(map[string]any)["value"])
}

// TestRunIfSeesTheFailureInTheSameStep evaluates tasksWithState() in the
// runIf of an errors task, which the executor renders in the very step
// that saw the failure.
func TestRunIfSeesTheFailureInTheSameStep(t *testing.T) {
	port := testkit.Port(t)
	p := start(t, nil, "server", "local", "--data-dir", t.TempDir(), "--port", strconv.Itoa(port), "--management-port", "0")
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	a.waitUp(p)
	a.createFlow(`id: runif
namespace: e2e.errors
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
errors:
  - id: only-when-boom-failed
    type: io.kestra.plugin.core.log.Log
    runIf: "{{ tasksWithState('FAILED') | length > 0 }}"
    message: reporting
`)
	ex := a.run("e2e.errors", "runif", nil)
	runs := ex["taskRunList"].([]any)
	require.Len(t, runs, 2)
	require.Equal(t, "SUCCESS", runs[1].(map[string]any)["state"].(map[string]any)["current"], "the runIf saw the failure")
}
