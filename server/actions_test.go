package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/executor"
	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/flowcache"
	"github.com/ospreyhq/osprey/launch"
	"github.com/ospreyhq/osprey/render"
	"github.com/ospreyhq/osprey/server"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/tasks"
)

// launchRunner adapts the launcher and the registry to the server, as
// the command line's wiring does.
type launchRunner struct {
	l   *launch.Launcher
	reg *tasks.Registry
	// eval renders for the eval route; its renderer resolves no secrets.
	eval *engine.Engine
}

var (
	_ server.Steerer   = launchRunner{}
	_ server.Catalog   = launchRunner{}
	_ server.Evaluator = launchRunner{}
)

func (r launchRunner) Eval(ctx context.Context, ex *flow.Execution, tr *flow.TaskRun, expression string) (string, error) {
	f, err := r.l.Flows.Get(ctx, ex.Namespace, ex.FlowID, ex.FlowRevision)
	if err != nil {
		return "", err
	}
	return r.eval.Eval(ctx, f, ex, tr, expression)
}

func (r launchRunner) Start(ctx context.Context, p server.StartParams) (*flow.Execution, error) {
	return r.l.Start(ctx, p.Flow, p.Inputs, p.Labels)
}
func (r launchRunner) Kill(ctx context.Context, id string) error {
	_, err := r.l.Kill(ctx, id, true)
	return err
}

func (r launchRunner) Command(ctx context.Context, p server.CommandParams) (*flow.Execution, error) {
	var a launch.Accepted
	var err error
	switch p.Action {
	case server.ActionKill:
		a, err = r.l.Kill(ctx, p.ExecutionID, !p.NoCascade)
	case server.ActionResume:
		a, err = r.l.Resume(ctx, p.ExecutionID, p.Inputs)
	case server.ActionRestart:
		a, err = r.l.Restart(ctx, p.ExecutionID)
	case server.ActionChangeStatus:
		a, err = r.l.ChangeStatus(ctx, p.ExecutionID, p.TaskRunID, p.State)
	case server.ActionPause:
		a, err = r.l.Pause(ctx, p.ExecutionID)
	case server.ActionForceRun:
		a, err = r.l.ForceRun(ctx, p.ExecutionID)
	case server.ActionSetLabels:
		a, err = r.l.SetLabels(ctx, p.ExecutionID, p.Labels)
	case server.ActionUnqueue:
		a, err = r.l.Unqueue(ctx, p.ExecutionID, p.State)
	}
	if errors.Is(err, engine.ErrInvalidTransition) {
		return nil, &server.Error{Status: http.StatusConflict, Message: err.Error()}
	}
	if err != nil || !p.Wait {
		return a.Execution, err
	}
	return r.l.Await(ctx, a)
}
func (r launchRunner) Replay(ctx context.Context, p server.ReplayParams) (*flow.Execution, error) {
	return r.l.Replay(ctx, p.ExecutionID, p.TaskRunID, p.Revision)
}
func (r launchRunner) FlowSchema() map[string]any { return r.reg.FlowSchema() }
func (r launchRunner) PluginTypes() []server.PluginType {
	var out []server.PluginType
	for _, typ := range r.reg.Types() {
		s, _ := r.reg.Spec(typ)
		out = append(out, server.PluginType{Type: typ, Kind: tasks.KindName(s.Kind), Aliases: r.reg.Aliases(typ), Schema: r.reg.TypeSchema(typ)})
	}
	return out
}

// startOnly is a Runner without the optional interfaces.
type startOnly struct{}

func (startOnly) Start(context.Context, server.StartParams) (*flow.Execution, error) {
	return nil, errors.New("not used")
}
func (startOnly) Kill(context.Context, string) error { return nil }

type actionEnv struct {
	st  store.Store
	x   *executor.Executor
	url string
}

// drain runs the executor until nothing is left to claim: every command
// sent so far is applied. No worker runs, so dispatched tasks stay RUNNING.
func (e *actionEnv) drain(t *testing.T) {
	t.Helper()
	for range 50 {
		n, err := e.x.RunOnce(t.Context())
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
	t.Fatal("the executor keeps finding work")
}

func newActionEnv(t *testing.T, opts ...func(*server.Options)) *actionEnv {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	reg := tasks.New()
	parse := func(src []byte) (*flow.Flow, error) { return flow.Parse(src, flow.ParseOptions{Types: reg}) }
	flows := flowcache.New(st.Flows(), parse)
	l := &launch.Launcher{Store: st, Flows: flows, Types: reg}
	eng := &engine.Engine{Types: reg, Renderer: &render.Renderer{Expr: expr.New(expr.Options{})}, Starter: l}
	x := executor.New(executor.Options{Store: st, Engine: eng, Flows: flows})
	o := server.Options{Store: st, Parse: parse, Runner: launchRunner{l: l, reg: reg, eval: eng}}
	for _, opt := range opts {
		opt(&o)
	}
	srv := server.New(o)
	hs := httptest.NewServer(server.Contract(t, srv))
	t.Cleanup(hs.Close)
	return &actionEnv{st: st, x: x, url: hs.URL + "/api/v1/main"}
}

func (e *actionEnv) flow(t *testing.T, src string) {
	t.Helper()
	_, err := e.st.Flows().Create(t.Context(), store.PutFlowParams{Namespace: "company.team", ID: "f", Source: src})
	require.NoError(t, err)
}

// execution stores an execution of company.team.f in state st with task
// runs given as taskID=STATE pairs, top-level, in order.
func (e *actionEnv) execution(t *testing.T, st flow.State, runs ...string) *flow.Execution {
	t.Helper()
	return e.subflow(t, "", st, runs...)
}

// subflow is execution with a parent execution.
func (e *actionEnv) subflow(t *testing.T, parentID string, st flow.State, runs ...string) *flow.Execution {
	t.Helper()
	now := time.Now().UTC()
	ex := &flow.Execution{ID: flow.NewID(), Namespace: "company.team", FlowID: "f", FlowRevision: 1,
		ParentID: parentID,
		State:    flow.NewStateInfo(flow.StateCreated, now), Metadata: &flow.ExecutionMetadata{AttemptNumber: 1, OriginalCreatedDate: &now}}
	ex.OriginalID = ex.ID
	ex.State.Set(flow.StateRunning, now)
	ex.State.Set(st, now)
	for _, r := range runs {
		id, s, _ := strings.Cut(r, "=")
		tr := &flow.TaskRun{ID: flow.NewID(), ExecutionID: ex.ID, Namespace: ex.Namespace, FlowID: ex.FlowID, TaskID: id,
			State: flow.NewStateInfo(flow.StateCreated, now), Outputs: map[string]any{"value": id}}
		tr.State.Set(flow.State(s), now)
		ex.TaskRunList = append(ex.TaskRunList, tr)
	}
	require.NoError(t, e.st.Executions().Create(t.Context(), ex))
	return ex
}

func (e *actionEnv) get(t *testing.T, id string) *flow.Execution {
	t.Helper()
	ex, _, err := e.st.Executions().Get(t.Context(), id)
	require.NoError(t, err)
	return ex
}

func (e *actionEnv) do(t *testing.T, method, path, contentType string, body io.Reader) (int, []byte) {
	t.Helper()
	url := e.url + path
	if strings.HasPrefix(path, "/plugins") {
		// Kestra's spec serves the plugin catalog outside the tenant.
		url = strings.TrimSuffix(e.url, "/main") + path
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

func form(t *testing.T, fields map[string]string) (string, io.Reader) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), &b
}

const pauseFlow = `id: f
namespace: company.team
tasks:
  - id: approve
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: approved
        type: BOOLEAN
      - id: reason
        type: STRING
        defaults: none given
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.approve.onResume.approved }}"
`

func TestResumeExecution(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	e.flow(t, pauseFlow)

	paused := e.execution(t, flow.StatePaused, "approve=PAUSED")
	ct, body := form(t, map[string]string{"approved": "true"})
	// Kestra 2.0's path (resumeExecution); the older one is below.
	status, _ := e.do(t, "POST", "/executions/"+paused.ID+"/actions/resume", ct, body)
	require.Equal(t, http.StatusNoContent, status)
	require.Equal(t, flow.StatePaused, e.get(t, paused.ID).State.Current, "the executor applies the resume, not the webserver")
	e.drain(t)
	got := e.get(t, paused.ID)
	require.Equal(t, flow.StateRunning, got.State.Current)
	require.Equal(t, flow.StateSuccess, got.TaskRunList[0].State.Current)
	onResume, err := json.Marshal(got.TaskRunList[0].Outputs["onResume"])
	require.NoError(t, err)
	require.JSONEq(t, `{"approved":true,"reason":"none given"}`, string(onResume))
	require.Equal(t, "after", got.TaskRunList[1].TaskID, "the next task started")

	tests := []struct {
		name   string
		state  flow.State
		fields map[string]string
		id     string
		status int
		want   string
	}{
		{"bad input is 422 naming it", flow.StatePaused, map[string]string{"approved": "perhaps"}, "", 422, "approved"},
		{"not paused is 409", flow.StateSuccess, map[string]string{"approved": "true"}, "", 409, "PAUSED"},
		{"unknown execution is 404", flow.StatePaused, nil, "nope", 404, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := e.execution(t, tt.state, "approve="+string(tt.state))
			id := ex.ID
			if tt.id != "" {
				id = tt.id
			}
			ct, body := form(t, tt.fields)
			status, b := e.do(t, "POST", "/executions/"+id+"/resume", ct, body)
			require.Equal(t, tt.status, status, string(b))
			require.Contains(t, string(b), tt.want)
			require.Equal(t, tt.state, e.get(t, ex.ID).State.Current, "a refused resume changes nothing")
			cmds, err := e.st.Executions().Commands(t.Context(), ex.ID)
			require.NoError(t, err)
			require.Empty(t, cmds, "and sends nothing")
		})
	}
}

const threeTasks = `id: f
namespace: company.team
tasks:
  - id: a
    type: io.kestra.plugin.core.debug.Return
    format: a
  - id: b
    type: io.kestra.plugin.core.debug.Return
    format: b
  - id: c
    type: io.kestra.plugin.core.debug.Return
    format: c
`

func TestRestartExecution(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	e.flow(t, threeTasks)

	failed := e.execution(t, flow.StateFailed, "a=SUCCESS", "b=FAILED")
	status, b := e.do(t, "POST", "/executions/"+failed.ID+"/restart", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	var got flow.Execution
	require.NoError(t, json.Unmarshal(b, &got))
	require.Equal(t, failed.ID, got.ID, "a restart keeps the execution")
	require.Equal(t, flow.StateRestarted, got.State.Current)
	require.Equal(t, 2, got.Metadata.AttemptNumber)
	require.Equal(t, flow.StateSuccess, got.TaskRunList[0].State.Current)
	require.Equal(t, flow.StateRestarted, got.TaskRunList[1].State.Current)
	require.Equal(t, flow.StateFailed, e.get(t, failed.ID).State.Current, "the answer is the accepted command's outcome; the executor applies it")
	e.drain(t)
	stored := e.get(t, failed.ID)
	require.Equal(t, flow.StateRunning, stored.State.Current)
	require.True(t, stored.State.Has(flow.StateRestarted))
	require.Equal(t, flow.StateRunning, stored.TaskRunList[1].State.Current, "b runs again")

	ok := e.execution(t, flow.StateSuccess, "a=SUCCESS")
	status, b = e.do(t, "POST", "/executions/"+ok.ID+"/restart", "", nil)
	require.Equal(t, http.StatusConflict, status, string(b))
	require.Equal(t, flow.StateSuccess, e.get(t, ok.ID).State.Current)
}

func TestReplayExecution(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	e.flow(t, threeTasks)
	done := e.execution(t, flow.StateSuccess, "a=SUCCESS", "b=SUCCESS", "c=SUCCESS")

	// Kestra 2.0's path (replayExecution); the older one is below.
	status, b := e.do(t, "POST", "/executions/"+done.ID+"/actions/replay?taskRunId="+done.TaskRunList[1].ID, "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	var got flow.Execution
	require.NoError(t, json.Unmarshal(b, &got))
	require.NotEqual(t, done.ID, got.ID)
	require.Equal(t, done.ID, got.OriginalID)
	require.Equal(t, done.ID, got.ParentID, "as in Kestra, the replay's parent is what it replays")
	require.Equal(t, flow.StateRestarted, got.State.Current)
	require.Len(t, got.TaskRunList, 2, "c is dropped: it runs again after b")
	require.Equal(t, "a", got.TaskRunList[0].TaskID)
	require.Equal(t, flow.StateSuccess, got.TaskRunList[0].State.Current)
	require.Equal(t, "b", got.TaskRunList[1].TaskID)
	require.Equal(t, flow.StateRestarted, got.TaskRunList[1].State.Current, "the replayed task run is RESTARTED")
	require.Equal(t, "a", got.TaskRunList[0].Outputs["value"], "what ran before is kept")
	require.NotEqual(t, done.TaskRunList[0].ID, got.TaskRunList[0].ID)
	require.Equal(t, got.ID, got.TaskRunList[0].ExecutionID)
	stored := e.get(t, got.ID)
	require.Equal(t, got.TaskRunList[0].ID, stored.TaskRunList[0].ID)
	require.Len(t, e.get(t, done.ID).TaskRunList, 3, "the original is untouched")

	status, b = e.do(t, "POST", "/executions/"+done.ID+"/replay", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	var whole flow.Execution
	require.NoError(t, json.Unmarshal(b, &whole))
	require.Equal(t, done.ID, whole.OriginalID)
	require.Empty(t, whole.TaskRunList, "without taskRunId the whole flow runs again")
	require.Equal(t, flow.StateCreated, whole.State.Current)

	running := e.execution(t, flow.StateRunning, "a=RUNNING")
	tests := []struct {
		name, path string
		status     int
	}{
		{"unknown task run", "/executions/" + done.ID + "/replay?taskRunId=nope", 404},
		{"running execution", "/executions/" + running.ID + "/replay", 409},
		{"unknown execution", "/executions/nope/replay", 404},
		{"bad revision", "/executions/" + done.ID + "/replay?revision=x", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, b := e.do(t, "POST", tt.path, "", nil)
			require.Equal(t, tt.status, status, string(b))
		})
	}
}

func TestKillCascadesToSubflows(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	e.flow(t, threeTasks)
	parent := e.execution(t, flow.StateRunning, "a=RUNNING")
	child := e.subflow(t, parent.ID, flow.StateRunning, "a=RUNNING")
	grandchild := e.subflow(t, child.ID, flow.StateCreated)
	ended := e.subflow(t, parent.ID, flow.StateSuccess, "a=SUCCESS")
	other := e.execution(t, flow.StateRunning, "a=RUNNING")

	status, b := e.do(t, "DELETE", "/executions/"+parent.ID+"/kill", "", nil)
	require.Equal(t, http.StatusAccepted, status, string(b))
	require.Equal(t, flow.StateRunning, e.get(t, parent.ID).State.Current, "accepted: the executor kills")
	e.drain(t)
	for _, id := range []string{parent.ID, child.ID, grandchild.ID} {
		got := e.get(t, id)
		require.Equal(t, flow.StateKilled, got.State.Current, id)
		require.True(t, got.State.Has(flow.StateKilling), id)
	}
	require.Equal(t, flow.StateSuccess, e.get(t, ended.ID).State.Current, "an ended subflow stays as it ended")
	require.Equal(t, flow.StateRunning, e.get(t, other.ID).State.Current, "an unrelated execution runs on")

	// Kestra's isOnKillCascade=false spares the subflows.
	status, b = e.do(t, "DELETE", "/executions/"+other.ID+"/kill?isOnKillCascade=maybe", "", nil)
	require.Equal(t, http.StatusBadRequest, status, string(b))
	spared := e.subflow(t, other.ID, flow.StateRunning, "a=RUNNING")
	status, b = e.do(t, "DELETE", "/executions/"+other.ID+"/kill?isOnKillCascade=false", "", nil)
	require.Equal(t, http.StatusAccepted, status, string(b))
	e.drain(t)
	require.Equal(t, flow.StateKilled, e.get(t, other.ID).State.Current)
	require.Equal(t, flow.StateRunning, e.get(t, spared.ID).State.Current, "its subflow runs on")
}

func TestActionWaitsWithWaitTrue(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	e.flow(t, pauseFlow)
	require.NoError(t, e.x.Start(t.Context()))
	t.Cleanup(func() { _ = e.x.Stop(context.Background()) })
	paused := e.execution(t, flow.StatePaused, "approve=PAUSED")
	ct, body := form(t, map[string]string{"approved": "true"})
	status, b := e.do(t, "POST", "/executions/"+paused.ID+"/resume?wait=true", ct, body)
	require.Equal(t, http.StatusNoContent, status, string(b))
	require.Equal(t, flow.StateRunning, e.get(t, paused.ID).State.Current, "?wait=true answers once the executor applied it")

	// Without an executor the wait ends at MaxWait, saying so.
	idle := newActionEnv(t, func(o *server.Options) { o.MaxWait = 50 * time.Millisecond })
	idle.flow(t, pauseFlow)
	paused = idle.execution(t, flow.StatePaused, "approve=PAUSED")
	status, b = idle.do(t, "POST", "/executions/"+paused.ID+"/pause?wait=true", "", nil)
	require.Equal(t, http.StatusConflict, status, string(b), "a paused execution does not pause")
	running := idle.execution(t, flow.StateRunning, "approve=RUNNING")
	status, b = idle.do(t, "POST", "/executions/"+running.ID+"/pause?wait=true", "", nil)
	require.Equal(t, http.StatusGatewayTimeout, status, string(b))
	require.Contains(t, string(b), "accepted, but no executor applied it")
	cmds, err := idle.st.Executions().Commands(t.Context(), running.ID)
	require.NoError(t, err)
	require.Len(t, cmds, 1, "the command stays for the executor")
}

func TestChangeStatusPauseAndForceRun(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	e.flow(t, threeTasks)
	decode := func(t *testing.T, b []byte) *flow.Execution {
		t.Helper()
		var got flow.Execution
		require.NoError(t, json.Unmarshal(b, &got))
		return &got
	}

	failed := e.execution(t, flow.StateFailed, "a=SUCCESS", "b=FAILED")
	status, b := e.do(t, "POST", "/executions/"+failed.ID+"/change-status?status=SUCCESS", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	require.Equal(t, flow.StateSuccess, decode(t, b).State.Current)
	e.drain(t)
	require.Equal(t, flow.StateSuccess, e.get(t, failed.ID).State.Current)

	failed = e.execution(t, flow.StateFailed, "a=SUCCESS", "b=FAILED")
	status, b = e.do(t, "POST", "/executions/"+failed.ID+"/state", "application/json",
		strings.NewReader(`{"taskRunId":"`+failed.TaskRunList[1].ID+`","state":"SUCCESS"}`))
	require.Equal(t, http.StatusOK, status, string(b))
	require.Equal(t, flow.StateRestarted, decode(t, b).State.Current)
	e.drain(t)
	got := e.get(t, failed.ID)
	require.Equal(t, flow.StateSuccess, got.TaskRunList[1].State.Current)
	require.Equal(t, "c", got.TaskRunList[2].TaskID, "the execution carries on after the changed task run")

	running := e.execution(t, flow.StateRunning, "a=RUNNING")
	status, b = e.do(t, "POST", "/executions/"+running.ID+"/pause", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	e.drain(t)
	require.Equal(t, flow.StatePaused, e.get(t, running.ID).State.Current)

	queued := e.execution(t, flow.StateQueued)
	status, b = e.do(t, "POST", "/executions/"+queued.ID+"/force-run", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	e.drain(t)
	require.Equal(t, flow.StateRunning, e.get(t, queued.ID).State.Current)

	tests := []struct {
		name, path, body string
		status           int
	}{
		{"change-status of a running execution", "/executions/" + running.ID + "/change-status?status=SUCCESS", "", 409},
		{"an unknown status", "/executions/" + failed.ID + "/change-status?status=GREAT", "", 400},
		{"a task run state without its id", "/executions/" + failed.ID + "/state", `{"state":"SUCCESS"}`, 400},
		{"an unknown task run", "/executions/" + failed.ID + "/state", `{"taskRunId":"nope","state":"SUCCESS"}`, 404},
		{"pause a paused execution", "/executions/" + running.ID + "/pause", "", 409},
		{"force-run a running execution", "/executions/" + queued.ID + "/force-run", "", 409},
		{"an unknown execution", "/executions/nope/pause", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, b := e.do(t, "POST", tt.path, "application/json", strings.NewReader(tt.body))
			require.Equal(t, tt.status, status, string(b))
		})
	}
}

func TestActionsWithoutSteerer(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	srv := server.New(server.Options{Store: st, Parse: func([]byte) (*flow.Flow, error) { return nil, errors.New("x") }, Runner: startOnly{}})
	for _, path := range []string{"/api/v1/main/executions/x/resume", "/api/v1/main/executions/x/restart", "/api/v1/main/executions/x/replay"} {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "POST", path, nil))
		require.Equal(t, http.StatusNotImplemented, rec.Code, path)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/api/v1/main/plugins/schemas/flow", nil))
	require.Equal(t, http.StatusNotImplemented, rec.Code)
}

func TestFlowSchemaEndpoint(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	status, b := e.do(t, "GET", "/plugins/schemas/FLOW", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("flow.json", doc))
	sch, err := c.Compile("flow.json")
	require.NoError(t, err, "the served schema compiles")

	valid := map[string]any{"id": "f", "namespace": "company.team", "tasks": []any{
		map[string]any{"id": "a", "type": "io.kestra.plugin.core.log.Log", "message": "hi"},
	}}
	require.NoError(t, sch.Validate(valid))
	invalid := map[string]any{"id": "f", "namespace": "company.team", "tasks": []any{
		map[string]any{"id": "a", "type": "io.kestra.plugin.core.log.Log", "mesage": "hi"},
	}}
	require.Error(t, sch.Validate(invalid))

	status, _ = e.do(t, "GET", "/plugins/schemas/template", "", nil)
	require.Equal(t, http.StatusNotFound, status)
}

func TestPluginsEndpoints(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	status, b := e.do(t, "GET", "/plugins", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	type element struct {
		Cls string `json:"cls"`
	}
	var page struct {
		Results []struct {
			Tasks, Triggers, Conditions []element
			Aliases                     []string
		}
		Total int
	}
	require.NoError(t, json.Unmarshal(b, &page))
	require.Equal(t, 1, page.Total)
	require.Len(t, page.Results, 1)
	plugin := page.Results[0]
	require.Contains(t, plugin.Tasks, element{"io.kestra.plugin.core.log.Log"})
	require.Contains(t, plugin.Tasks, element{"io.kestra.plugin.core.flow.Pause"})
	require.Contains(t, plugin.Triggers, element{"io.kestra.plugin.core.trigger.Schedule"})
	require.Contains(t, plugin.Conditions, element{"io.kestra.plugin.core.condition.ExecutionStatus"})
	require.Contains(t, plugin.Aliases, "io.kestra.core.tasks.log.Log")
	require.NotContains(t, plugin.Tasks, element{"io.kestra.plugin.core.trigger.Schedule"})

	status, b = e.do(t, "GET", "/plugins/io.kestra.core.tasks.log.Log", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	var typ server.PluginType
	require.NoError(t, json.Unmarshal(b, &typ))
	require.Equal(t, "io.kestra.plugin.core.log.Log", typ.Type, "an alias answers with its canonical type")
	require.Contains(t, typ.Schema["properties"], "message")

	status, _ = e.do(t, "GET", "/plugins/io.example.Nope", "", nil)
	require.Equal(t, http.StatusNotFound, status)
}

// TestKestra2ActionPaths: the single-execution actions answer at Kestra
// 2.0's /executions/{id}/actions/… paths too, as its generated clients
// call them (operationIds killExecution, pauseExecution, forceRunExecution,
// updateExecutionStatus, updateTaskRunState, restartExecution).
func TestKestra2ActionPaths(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	e.flow(t, threeTasks)

	running := e.execution(t, flow.StateRunning, "a=RUNNING")
	status, b := e.do(t, "POST", "/executions/"+running.ID+"/actions/pause", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	e.drain(t)
	require.Equal(t, flow.StatePaused, e.get(t, running.ID).State.Current)

	queued := e.execution(t, flow.StateQueued)
	status, b = e.do(t, "POST", "/executions/"+queued.ID+"/actions/force-run", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	e.drain(t)
	require.Equal(t, flow.StateRunning, e.get(t, queued.ID).State.Current)

	status, b = e.do(t, "DELETE", "/executions/"+queued.ID+"/actions/kill", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	e.drain(t)
	require.Equal(t, flow.StateKilled, e.get(t, queued.ID).State.Current)

	failed := e.execution(t, flow.StateFailed, "a=SUCCESS", "b=FAILED")
	status, b = e.do(t, "POST", "/executions/"+failed.ID+"/actions/change-status?status=SUCCESS", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	e.drain(t)
	require.Equal(t, flow.StateSuccess, e.get(t, failed.ID).State.Current)

	failed = e.execution(t, flow.StateFailed, "a=SUCCESS", "b=FAILED")
	status, b = e.do(t, "POST", "/executions/"+failed.ID+"/actions/state", "application/json",
		strings.NewReader(`{"taskRunId":"`+failed.TaskRunList[1].ID+`","state":"SUCCESS"}`))
	require.Equal(t, http.StatusOK, status, string(b))

	failed = e.execution(t, flow.StateFailed, "a=SUCCESS", "b=FAILED")
	status, b = e.do(t, "POST", "/executions/"+failed.ID+"/actions/restart", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	e.drain(t)
	require.NotEqual(t, flow.StateFailed, e.get(t, failed.ID).State.Current)

	status, _ = e.do(t, "POST", "/executions/nope/actions/pause", "", nil)
	require.Equal(t, http.StatusNotFound, status)
}
