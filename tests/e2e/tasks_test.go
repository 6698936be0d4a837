package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/executor"
	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/flowcache"
	"github.com/ospreyhq/osprey/launch"
	"github.com/ospreyhq/osprey/render"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/tasks"
	"github.com/ospreyhq/osprey/worker"
)

// mapSecrets is a secret backend over a map, the same in every namespace.
type mapSecrets map[string]string

func (m mapSecrets) Get(_ context.Context, _, key string) (string, error) {
	if v, ok := m[key]; ok {
		return v, nil
	}
	return "", fmt.Errorf("secret %q not found", key)
}

// newSecretPipeline is newPipeline with secret() resolved from secrets.
func newSecretPipeline(t *testing.T, secrets mapSecrets) *pipeline {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	reg := tasks.New()
	parse := func(src []byte) (*flow.Flow, error) { return flow.Parse(src, flow.ParseOptions{Types: reg}) }
	flows := flowcache.New(st.Flows(), parse)
	l := &launch.Launcher{Store: st, Flows: flows, Types: reg}
	r := &render.Renderer{Expr: expr.New(expr.Options{}), Secrets: secrets}
	eng := &engine.Engine{Types: reg, Renderer: r, Starter: l}
	x := executor.New(executor.Options{Store: st, Engine: eng, Flows: flows, Poll: 50 * time.Millisecond})
	w := worker.New(worker.Options{Store: st, Tasks: reg, Flows: flows, Renderers: r, Threads: 2, Poll: 50 * time.Millisecond, TmpDir: t.TempDir()})
	require.NoError(t, x.Start(ctx))
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = x.Stop(sctx)
		_ = w.Stop(sctx)
	})
	return &pipeline{st: st, launcher: l}
}

// runFlow stores src, starts it and waits for the execution to end.
func (p *pipeline) runFlow(t *testing.T, id, src string) (*flow.Execution, []flow.LogEntry) {
	t.Helper()
	ctx := context.Background()
	_, err := p.st.Flows().Create(ctx, store.PutFlowParams{Namespace: "e2e", ID: id, Source: src})
	require.NoError(t, err)
	f, err := p.launcher.Flows.Get(ctx, "e2e", id, 0)
	require.NoError(t, err)
	ex, err := p.launcher.Start(ctx, f, nil, nil)
	require.NoError(t, err)
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _, err := p.st.Executions().Get(ctx, ex.ID)
		require.NoError(t, err)
		if got.State.Current.IsTerminal() {
			logs, err := p.st.Logs().List(ctx, store.LogQuery{ExecutionID: ex.ID})
			require.NoError(t, err)
			return got, logs
		}
		require.True(t, time.Now().Before(deadline), "execution %s stuck in %s", ex.ID, got.State.Current)
		time.Sleep(20 * time.Millisecond)
	}
}

func taskRun(t *testing.T, ex *flow.Execution, id string) *flow.TaskRun {
	t.Helper()
	for _, tr := range ex.TaskRunList {
		if tr.TaskID == id {
			return tr
		}
	}
	t.Fatalf("no task run for %s", id)
	return nil
}

func logged(logs []flow.LogEntry, taskID, level string) []string {
	var out []string
	for _, l := range logs {
		if l.TaskID == taskID && l.Level == level {
			out = append(out, l.Message)
		}
	}
	return out
}

// TestHTTPAndShellTasksThroughThePipeline runs a flow that calls an HTTP
// server, hands the response to a shell script and returns the script's
// outputs, through the executor, the queue and the worker on SQLite.
func TestHTTPAndShellTasksThroughThePipeline(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", r.Method)
		_, _ = fmt.Fprintf(w, "hello %s", strings.Trim(string(b), `"`))
	}))
	t.Cleanup(srv.Close)
	p := newPipeline(t, 2)

	ex, logs := p.runFlow(t, "io", fmt.Sprintf(`id: io
namespace: e2e
tasks:
  - id: req
    type: io.kestra.plugin.core.http.Request
    uri: %s/greet
    method: POST
    contentType: text/plain
    body: osprey
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    env:
      CODE: "{{ outputs.req.code }}"
    commands:
      - echo "code $CODE"
      - echo 'warned' >&2
      - echo '::{"outputs":{"greeting":"{{ outputs.req.body }}","method":"{{ outputs.req.headers['X-Seen'][0] }}"}}::'
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.sh.vars.greeting }} via {{ outputs.sh.vars.method }}, exit {{ outputs.sh.exitCode }}"
`, srv.URL))
	require.Equal(t, flow.StateSuccess, ex.State.Current, ex.Error)
	require.EqualValues(t, 200, taskRun(t, ex, "req").Outputs["code"])
	require.Equal(t, "hello osprey via POST, exit 0", taskRun(t, ex, "ret").Outputs["value"])
	require.Equal(t, []string{"code 200"}, logged(logs, "sh", "INFO"))
	require.Equal(t, []string{"warned"}, logged(logs, "sh", "WARN"))
}

// TestShellFailureAndTimeoutThroughThePipeline checks that a failing script
// fails its execution with the exit code, and that a task timeout kills
// the script's whole process group.
func TestShellFailureAndTimeoutThroughThePipeline(t *testing.T) {
	t.Parallel()
	p := newPipeline(t, 2)

	ex, logs := p.runFlow(t, "fails", `id: fails
namespace: e2e
tasks:
  - id: sh
    type: io.kestra.core.tasks.scripts.Bash
    commands:
      - exit 4
`)
	require.Equal(t, flow.StateFailed, ex.State.Current)
	require.Contains(t, logged(logs, "sh", "ERROR"), "command failed with exit code 4")

	ex, logs = p.runFlow(t, "slow", `id: slow
namespace: e2e
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    timeout: PT1S
    commands:
      - sleep 60 &
      - echo "leader $$"
      - sleep 60
`)
	require.Equal(t, flow.StateFailed, ex.State.Current)
	require.Contains(t, logged(logs, "sh", "ERROR"), "task sh timed out after PT1S")
	var leader int
	for _, l := range logged(logs, "sh", "INFO") {
		if v, ok := strings.CutPrefix(l, "leader "); ok {
			leader, _ = strconv.Atoi(v)
		}
	}
	require.Positive(t, leader)
	require.Eventually(t, func() bool { return errors.Is(syscall.Kill(-leader, 0), syscall.ESRCH) },
		5*time.Second, 20*time.Millisecond, "processes of group %d outlived the timeout", leader)
}

// TestSecretsStayMaskedInHTTPAndShell checks that a secret sent in a
// header and echoed back in the body, and a secret a script prints or
// returns as an output, never reach the stored outputs, logs or errors.
func TestSecretsStayMaskedInHTTPAndShell(t *testing.T) {
	t.Parallel()
	const token = "s3cr3t-t0ken-value"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "you sent %s", r.Header.Get("Authorization"))
	}))
	t.Cleanup(srv.Close)
	p := newSecretPipeline(t, mapSecrets{"API_TOKEN": token})

	ex, logs := p.runFlow(t, "secrets", fmt.Sprintf(`id: secrets
namespace: e2e
tasks:
  - id: req
    type: io.kestra.plugin.core.http.Request
    uri: %s/
    headers:
      Authorization: "{{ secret('API_TOKEN') }}"
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    env:
      TOKEN: "{{ secret('API_TOKEN') }}"
    commands:
      - echo "token is $TOKEN"
      - echo "::{\"outputs\":{\"t\":\"$TOKEN\"}}::"
      - echo "$TOKEN" >&2
`, srv.URL))
	require.Equal(t, flow.StateSuccess, ex.State.Current, ex.Error)
	shVars, err := json.Marshal(taskRun(t, ex, "sh").Outputs["vars"])
	require.NoError(t, err)
	require.JSONEq(t, `{"t":"******"}`, string(shVars))
	body := taskRun(t, ex, "req").Outputs["body"]
	require.Equal(t, "you sent ******", body, "the response body echoed the secret")
	require.Equal(t, []string{"token is ******"}, logged(logs, "sh", "INFO"))
	require.Equal(t, []string{"******"}, logged(logs, "sh", "WARN"))
	raw := fmt.Sprint(ex, logs)
	for _, tr := range ex.TaskRunList {
		raw += fmt.Sprint(tr.Outputs, tr.State)
	}
	require.NotContains(t, raw, token)
}

// TestAssertAndLoopUntil runs Kestra's Assert task and the LoopUntil name
// of WaitFor through the pipeline.
func TestAssertAndLoopUntil(t *testing.T) {
	t.Parallel()
	p := newPipeline(t, 4)
	ctx := context.Background()
	run := func(src string) *flow.Execution {
		f, err := flow.Parse([]byte(src), flow.ParseOptions{Types: tasks.New()})
		require.NoError(t, err)
		_, err = p.st.Flows().Create(ctx, store.PutFlowParams{Namespace: f.Namespace, ID: f.ID, Source: src})
		require.NoError(t, err)
		f, err = p.launcher.Flows.Get(ctx, f.Namespace, f.ID, 0)
		require.NoError(t, err)
		ex, err := p.launcher.Start(ctx, f, nil, nil)
		require.NoError(t, err)
		waitEnded(t, p, ex.ID)
		got, _, err := p.st.Executions().Get(ctx, ex.ID)
		require.NoError(t, err)
		return got
	}
	ok := run("id: ok\nnamespace: e2e.assert\ntasks:\n  - id: check\n    type: io.kestra.plugin.core.execution.Assert\n    conditions:\n      - \"{{ 1 + 1 == 2 }}\"\n")
	require.Equal(t, flow.StateSuccess, ok.State.Current)
	bad := run("id: bad\nnamespace: e2e.assert\ntasks:\n  - id: check\n    type: io.kestra.plugin.core.execution.Assert\n    errorMessage: \"{{ flow.id }} is wrong\"\n    conditions:\n      - \"{{ true }}\"\n      - \"{{ 1 > 2 }}\"\n")
	require.Equal(t, flow.StateFailed, bad.State.Current)
	require.Equal(t, "bad is wrong", bad.TaskRunList[0].Error)
	loop := run("id: loop\nnamespace: e2e.assert\ntasks:\n  - id: until\n    type: io.kestra.plugin.core.flow.LoopUntil\n    condition: \"{{ outputs.count.values.n == '3' }}\"\n    checkFrequency: {interval: PT0.01S}\n    tasks:\n      - id: count\n        type: io.kestra.plugin.core.output.OutputValues\n        values:\n          n: \"{{ outputs.until.iterationCount + 1 }}\"\n")
	require.Equal(t, flow.StateSuccess, loop.State.Current)
	require.Len(t, loop.TaskRunsByTaskID("count"), 3)
}

// waitEnded waits for an execution to reach any terminal state.
func waitEnded(t *testing.T, p *pipeline, id string) {
	t.Helper()
	require.Eventually(t, func() bool {
		ex, _, err := p.st.Executions().Get(context.Background(), id)
		return err == nil && ex.State.Current.IsTerminal()
	}, 20*time.Second, 5*time.Millisecond)
}
