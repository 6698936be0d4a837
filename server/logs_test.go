package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
)

func (e *env) seedLogs(t *testing.T, id string) {
	t.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, e.st.Executions().Create(t.Context(), &flow.Execution{ID: id, Namespace: "company.team", FlowID: "hello", FlowRevision: 1,
		State: flow.NewStateInfo(flow.StateSuccess, now)}))
	require.NoError(t, e.st.Logs().Append(t.Context(), []flow.LogEntry{
		{ExecutionID: id, TaskID: "a", TaskRunID: "tr1", Level: "DEBUG", Message: "debugging", Timestamp: now},
		{ExecutionID: id, TaskID: "a", TaskRunID: "tr1", Level: "INFO", Message: "hello", Timestamp: now},
		{ExecutionID: id, TaskID: "b", TaskRunID: "tr2", Level: "ERROR", Message: "boom", Timestamp: now},
		{ExecutionID: "other", TaskID: "a", Level: "ERROR", Message: "not mine", Timestamp: now},
	}))
}

func TestListLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedLogs(t, "ex1")
	tests := []struct {
		query  string
		status int
		want   []string
	}{
		{"", 200, []string{"debugging", "hello", "boom"}},
		{"?minLevel=INFO", 200, []string{"hello", "boom"}},
		{"?minLevel=error", 200, []string{"boom"}},
		{"?taskId=a", 200, []string{"debugging", "hello"}},
		{"?taskRunId=tr2", 200, []string{"boom"}},
		{"?taskId=nope", 200, nil},
		{"?minLevel=LOUD", 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			rec := e.do(t, req{method: "GET", path: "/api/v1/main/logs/ex1" + tc.query})
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.status != 200 {
				return
			}
			var got []string
			for _, le := range decode[[]flow.LogEntry](t, rec) {
				require.Equal(t, "ex1", le.ExecutionID)
				got = append(got, le.Message)
			}
			require.Equal(t, tc.want, got)
		})
	}
	// Logs of an execution that does not exist are a 404, not an empty
	// list; an execution with no logs (yet) answers [].
	requireError(t, e.do(t, req{method: "GET", path: "/api/v1/logs/nothing"}), http.StatusNotFound, "execution nothing")
	requireError(t, e.do(t, req{method: "GET", path: "/api/v1/logs/nothing/download"}), http.StatusNotFound, "execution nothing")
	rec := e.do(t, req{method: "GET", path: "/api/v1/logs/ex1?taskId=nope"})
	require.Equal(t, 200, rec.Code)
	require.Equal(t, "[]\n", rec.Body.String())
}

func TestDownloadLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedLogs(t, "ex1")
	rec := e.do(t, req{method: "GET", path: "/api/v1/main/logs/ex1/download?minLevel=INFO"})
	require.Equal(t, 200, rec.Code)
	require.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Equal(t, "2026-01-02T03:04:05.000Z INFO hello\n2026-01-02T03:04:05.000Z ERROR boom\n", rec.Body.String())
}

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	id, data string
}

// readEvents reads events until the one with id "end" and reports how
// many keep-alive comments came along.
func readEvents(t *testing.T, resp *http.Response) (events []sseEvent, comments int) {
	t.Helper()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, ":"):
			comments++
		case strings.HasPrefix(line, "id: "):
			cur.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		case line == "" && cur.id != "":
			events = append(events, cur)
			if cur.id == "end" {
				return events, comments
			}
			cur = sseEvent{}
		}
	}
	t.Fatalf("stream ended without an end event: %v, %v", events, sc.Err())
	return nil, 0
}

func startServer(t *testing.T, e *env) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(e.h)
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, ctx context.Context, url string) *http.Response {
	t.Helper()
	r, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func TestFollowExecution(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.KeepAlive = 5 * time.Millisecond })
	e.runner.finish = false // the test moves the execution, once it has seen a keep-alive
	e.createFlow(t, helloFlow)
	ts := startServer(t, e)
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello"})
	id := decode[flow.Execution](t, rec).ID

	resp := get(t, t.Context(), ts.URL+"/api/v1/main/executions/"+id+"/follow")
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	body := bufio.NewReader(resp.Body)
	// The execution stays CREATED until the stream has shown a keep-alive
	// comment: nothing here depends on how fast the machine is.
	for {
		line, err := body.ReadString('\n')
		require.NoError(t, err, "the stream ended before a keep-alive comment")
		if strings.HasPrefix(line, ":") {
			break
		}
	}
	require.NoError(t, setState(t.Context(), e.st, id, flow.StateRunning))
	require.NoError(t, setState(t.Context(), e.st, id, flow.StateSuccess))

	events, _ := readEvents(t, &http.Response{Header: resp.Header, Body: io.NopCloser(body)})
	last := events[len(events)-1]
	require.Equal(t, "end", last.id)
	var final flow.Execution
	require.NoError(t, json.Unmarshal([]byte(last.data), &final))
	require.Equal(t, flow.StateSuccess, final.State.Current)
	for _, ev := range events[:len(events)-1] {
		require.Equal(t, "progress", ev.id)
	}
	require.GreaterOrEqual(t, len(events), 2, "the final state came as progress before the end")
	require.Equal(t, last.data, events[len(events)-2].data, "the final state comes as progress, then as end")

	// A terminal execution ends at once.
	events, _ = readEvents(t, get(t, t.Context(), ts.URL+"/api/v1/executions/"+id+"/follow"))
	require.Len(t, events, 1)

	resp = get(t, t.Context(), ts.URL+"/api/v1/executions/missing/follow")
	require.Equal(t, 404, resp.StatusCode)
}

func TestFollowLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createFlow(t, helloFlow)
	ts := startServer(t, e)
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello"})
	id := decode[flow.Execution](t, rec).ID

	events, _ := readEvents(t, get(t, t.Context(), ts.URL+"/api/v1/main/logs/"+id+"/follow"))
	require.Len(t, events, 3, "start, the log line, then the end")
	require.Equal(t, "start", events[0].id)
	require.Equal(t, "progress", events[1].id)
	var le flow.LogEntry
	require.NoError(t, json.Unmarshal([]byte(events[1].data), &le))
	require.Equal(t, "hello from hello", le.Message)
	require.Equal(t, "end", events[2].id)
	require.Empty(t, events[0].data, "the start marker carries no data a client could read as a log entry")
	require.Empty(t, events[2].data, "nor does the end marker")
}

func TestFollowStopsWhenClientLeaves(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.runner.finish = false
	e.createFlow(t, helloFlow)
	ts := startServer(t, e)
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello"})
	id := decode[flow.Execution](t, rec).ID

	ctx, cancel := context.WithCancel(t.Context())
	resp := get(t, ctx, ts.URL+"/api/v1/main/logs/"+id+"/follow")
	require.Equal(t, 200, resp.StatusCode)
	cancel()
	// The handler returns and the store subscription is released.
	require.Eventually(t, func() bool {
		return e.probe.openSubs() == 0
	}, 5*time.Second, 10*time.Millisecond)
}

// TestLongRequestsOutliveWriteTimeout proves that follows and waits lift
// the server's write timeout instead of being cut by it.
func TestLongRequestsOutliveWriteTimeout(t *testing.T) {
	t.Parallel()
	// A timeout a short request meets even on a loaded machine, and
	// executions that take well over it.
	e := newEnv(t, func(o *Options) { o.WriteTimeout = 300 * time.Millisecond })
	e.runner.step = 400 * time.Millisecond
	e.createFlow(t, helloFlow)
	require.NoError(t, e.srv.Start(t.Context()))
	t.Cleanup(func() { _ = e.srv.Stop(context.Background()) })
	base := "http://" + e.srv.Addr().String() + "/api/v1/main"

	resp := get(t, t.Context(), base+"/flows/company.team/hello")
	require.Equal(t, 200, resp.StatusCode, "a short request is unaffected")

	r, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/executions/company.team/hello?wait=true", nil)
	waited, err := http.DefaultClient.Do(r)
	require.NoError(t, err, "the execution takes longer than the write timeout")
	defer waited.Body.Close()
	var ex flow.Execution
	require.NoError(t, json.NewDecoder(waited.Body).Decode(&ex))
	require.Equal(t, flow.StateSuccess, ex.State.Current)

	rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello"})
	id := decode[flow.Execution](t, rec).ID
	events, _ := readEvents(t, get(t, t.Context(), base+"/executions/"+id+"/follow"))
	require.Equal(t, "end", events[len(events)-1].id)
}
