package server

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

func multipartBody(t *testing.T, fields map[string]string, file string) (string, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	if file != "" {
		fw, err := mw.CreateFormFile(file, "data.csv")
		require.NoError(t, err)
		_, _ = fw.Write([]byte("a,b\n"))
	}
	require.NoError(t, mw.Close())
	return b.String(), mw.FormDataContentType()
}

func TestCreateExecution(t *testing.T) {
	t.Parallel()
	form, formType := multipartBody(t, map[string]string{"name": "Ada"}, "")
	noName, noNameType := multipartBody(t, map[string]string{"other": "x"}, "")
	withFile, withFileType := multipartBody(t, map[string]string{"name": "Ada"}, "data")
	tests := []struct {
		name       string
		r          req
		status     int
		wantInputs map[string]any
		wantLabels []flow.Label
		errPath    string
	}{
		{name: "multipart inputs and labels",
			r:      req{method: "POST", path: "/api/v1/main/executions/company.team/greet?labels=team:data&labels=env:dev", body: form, contentType: formType},
			status: 200, wantInputs: map[string]any{"name": "Ada"},
			wantLabels: []flow.Label{{Key: "team", Value: "data"}, {Key: "env", Value: "dev"}}},
		{name: "legacy trigger path",
			r:      req{method: "POST", path: "/api/v1/executions/trigger/company.team/greet", body: form, contentType: formType},
			status: 200, wantInputs: map[string]any{"name": "Ada"}},
		{name: "json inputs",
			r:      req{method: "POST", path: "/api/v1/executions/company.team/greet", body: `{"name":"Grace"}`, contentType: "application/json"},
			status: 200, wantInputs: map[string]any{"name": "Grace"}},
		{name: "missing required input",
			r:      req{method: "POST", path: "/api/v1/main/executions/company.team/greet", body: noName, contentType: noNameType},
			status: 422, errPath: "inputs.name"},
		{name: "json numbers",
			r:      req{method: "POST", path: "/api/v1/main/executions/company.team/greet", body: `{"name":"x","count":9007199254740993,"ratio":0.5,"list":[1,2.5]}`, contentType: "application/json"},
			status: 200, wantInputs: map[string]any{"name": "x", "count": int64(9007199254740993), "ratio": 0.5, "list": []any{int64(1), 2.5}}},
		{name: "input of the wrong type",
			r:      req{method: "POST", path: "/api/v1/main/executions/company.team/greet", body: `{"name":"x","count":"many"}`, contentType: "application/json"},
			status: 422, errPath: "inputs.count"},
		{name: "file part", r: req{method: "POST", path: "/api/v1/main/executions/company.team/greet", body: withFile, contentType: withFileType},
			status: 422, errPath: "inputs.data"},
		{name: "malformed json", r: req{method: "POST", path: "/api/v1/main/executions/company.team/greet", body: `{"name":`, contentType: "application/json"},
			status: 400},
		{name: "bad label", r: req{method: "POST", path: "/api/v1/main/executions/company.team/greet?labels=nocolon", body: form, contentType: formType},
			status: 400},
		{name: "unsupported body", r: req{method: "POST", path: "/api/v1/main/executions/company.team/greet", body: "name=x", contentType: "text/csv"},
			status: 415},
		{name: "unknown flow", r: req{method: "POST", path: "/api/v1/main/executions/company.team/nope"}, status: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.createFlow(t, inputFlow)
			rec := e.do(t, tc.r)
			if tc.status != 200 {
				body := requireError(t, rec, tc.status, "")
				if tc.errPath != "" {
					require.Equal(t, tc.errPath, body.Details[0].Path)
					require.NotContains(t, body.Message, "invalid flow", "an input problem is not the flow's fault")
				}
				return
			}
			require.Equal(t, 200, rec.Code, rec.Body.String())
			got := decode[flow.Execution](t, rec)
			require.NotEmpty(t, got.ID)
			require.Equal(t, "company.team", got.Namespace)
			require.Equal(t, "greet", got.FlowID)
			require.Equal(t, 1, got.FlowRevision)
			require.Equal(t, tc.wantInputs, e.runner.last.Inputs, "what the runner received")
			require.Equal(t, tc.wantLabels, got.Labels)
			require.Equal(t, flow.StateCreated, got.State.Current)
		})
	}
}

// An object given as an input value keeps its keys' order, as Kestra reads
// the request body with Jackson.
func TestCreateExecutionJSONInputKeepsOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createFlow(t, inputFlow)
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/greet",
		body: `{"name":"x","obj":{"b":1,"a":{"d":2,"c":[3]}}}`, contentType: "application/json"})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	got, err := json.Marshal(e.runner.last.Inputs["obj"])
	require.NoError(t, err)
	require.Equal(t, `{"b":1,"a":{"d":2,"c":[3]}}`, string(got))
}

func TestCreateExecutionWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createFlow(t, helloFlow)
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello?wait=true"})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	got := decode[flow.Execution](t, rec)
	require.Equal(t, flow.StateSuccess, got.State.Current)
	require.True(t, got.State.Has(flow.StateRunning))
}

func TestCreateExecutionWaitIsBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.MaxWait = 50 * 1e6 }) // 50ms
	e.runner.finish = false
	e.createFlow(t, helloFlow)
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello?wait=true"})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.Equal(t, flow.StateCreated, decode[flow.Execution](t, rec).State.Current,
		"after MaxWait the execution is returned as it stands")
}

func TestCreateExecutionOfDisabledFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createFlow(t, "id: off\nnamespace: n\ndisabled: true\ntasks: [{id: t, type: io.kestra.plugin.core.log.Log, message: hi}]\n")
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/n/off"})
	requireError(t, rec, 409, "disabled")
}

func TestExecutionRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.runner.finish = false
	e.createFlow(t, helloFlow)
	e.createFlow(t, inputFlow)
	start := func(path string) string {
		rec := e.do(t, req{method: "POST", path: path, body: `{"name":"x"}`, contentType: "application/json"})
		require.Equal(t, 200, rec.Code, rec.Body.String())
		return decode[flow.Execution](t, rec).ID
	}
	a := start("/api/v1/main/executions/company.team/hello?labels=k:v")
	b := start("/api/v1/main/executions/company.team/greet")
	require.NoError(t, setState(t.Context(), e.st, b, flow.StateRunning))
	require.NoError(t, setState(t.Context(), e.st, b, flow.StateSuccess))

	type page struct {
		Results []flow.Execution `json:"results"`
		Total   int              `json:"total"`
	}
	search := []struct {
		query string
		want  []string
	}{
		{"", []string{a, b}},
		{"?flowId=greet", []string{b}},
		{"?namespace=company&state=SUCCESS", []string{b}},
		{"?state=CREATED&state=SUCCESS", []string{a, b}},
		{"?labels=k:v", []string{a}},
		{"?namespace=elsewhere", nil},
		{"?filters[state][IN]=CREATED,SUCCESS&filters[namespace][PREFIX]=company", []string{a, b}},
		{"?filters[flowId][EQUALS]=greet", []string{b}},
		{"?filters[labels][EQUALS][k]=v", []string{a}},
	}
	for _, s := range search {
		rec := e.do(t, req{method: "GET", path: "/api/v1/main/executions/search" + s.query})
		require.Equal(t, 200, rec.Code, rec.Body.String())
		p := decode[page](t, rec)
		var ids []string
		for _, x := range p.Results {
			ids = append(ids, x.ID)
		}
		require.ElementsMatch(t, s.want, ids, s.query)
		require.Equal(t, len(s.want), p.Total)
		require.NotNil(t, p.Results, "results is [] when empty, never null")
	}
	requireError(t, e.do(t, req{method: "GET", path: "/api/v1/executions/search?state=NOPE"}), 400, "unknown state")
	requireError(t, e.do(t, req{method: "GET", path: "/api/v1/executions/search?filters[timeRange][EQUALS]=PT1H"}), 400, "supported: filters[namespace][PREFIX]")
	requireError(t, e.do(t, req{method: "GET", path: "/api/v1/executions/search?filters[or][0][namespace][EQUALS]=a"}), 400, "groups are not supported")

	rec := e.do(t, req{method: "GET", path: "/api/v1/executions/" + a})
	require.Equal(t, 200, rec.Code)
	require.Contains(t, rec.Body.String(), `"state":{"current":"CREATED","histories":[{"state":"CREATED"`)
	requireError(t, e.do(t, req{method: "GET", path: "/api/v1/executions/missing"}), 404, "execution missing")

	// Kill: accepted while running, refused once terminal.
	rec = e.do(t, req{method: "DELETE", path: "/api/v1/main/executions/" + a + "/kill"})
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	require.Equal(t, []string{a}, e.runner.killed)
	requireError(t, e.do(t, req{method: "DELETE", path: "/api/v1/main/executions/" + b + "/kill"}), 409, "already SUCCESS")
	requireError(t, e.do(t, req{method: "DELETE", path: "/api/v1/main/executions/missing/kill"}), 404, "")

	rec = e.do(t, req{method: "DELETE", path: "/api/v1/main/executions/" + b})
	require.Equal(t, http.StatusNoContent, rec.Code)
	requireError(t, e.do(t, req{method: "GET", path: "/api/v1/main/executions/" + b}), 404, "")
	requireError(t, e.do(t, req{method: "DELETE", path: "/api/v1/main/executions/" + b}), 404, "")
}

func TestCreateExecutionWithEmptyMultipart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createFlow(t, helloFlow)
	body, ct := multipartBody(t, nil, "")
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello", body: body, contentType: ct})
	require.Equal(t, 200, rec.Code, rec.Body.String())
	rec = e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello", contentType: "multipart/form-data; boundary=xyz"})
	require.Equal(t, 200, rec.Code, "an empty multipart body means no inputs: %s", rec.Body.String())
}

// countingFlows serves flows parsed once per revision, as the shared cache
// does, and counts what it is asked.
type countingFlows struct {
	st    store.Store
	mu    sync.Mutex
	gets  int
	cache map[int]*flow.Flow
}

func (c *countingFlows) Get(ctx context.Context, ns, id string, rev int) (*flow.Flow, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	if f := c.cache[rev]; f != nil {
		return f, nil
	}
	rec, err := c.st.Flows().Get(ctx, ns, id, rev)
	if err != nil {
		return nil, err
	}
	f, err := fakeParse([]byte(rec.Source))
	if err != nil {
		return nil, err
	}
	f.Revision, f.Source = rec.Revision, rec.Source
	if c.cache == nil {
		c.cache = map[int]*flow.Flow{}
	}
	c.cache[rev] = f
	return f, nil
}

// TestCreateExecutionUsesSharedFlows: with Options.Flows, a start takes
// the shared parsed revision and parses nothing itself.
func TestCreateExecutionUsesSharedFlows(t *testing.T) {
	t.Parallel()
	flows := &countingFlows{}
	var parses atomic.Int32
	e := newEnv(t, func(o *Options) {
		flows.st = o.Store
		o.Flows = flows
		parse := o.Parse
		o.Parse = func(src []byte) (*flow.Flow, error) { parses.Add(1); return parse(src) }
	})
	e.createFlow(t, helloFlow)
	before := parses.Load()
	for range 3 {
		rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello"})
		require.Equal(t, 200, rec.Code, rec.Body.String())
		require.Equal(t, 1, decode[flow.Execution](t, rec).FlowRevision)
	}
	require.Equal(t, before, parses.Load(), "no parse per start")
	require.Equal(t, 3, flows.gets)
	require.Len(t, flows.cache, 1, "one revision, parsed once")
}
