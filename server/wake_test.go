package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
)

// noPoll is a fallback poll no test outlives: only the store's wake-ups
// can move these waits and follows along.
func noPoll(o *Options) { o.PollInterval = time.Hour }

// newWakeEnv is a server on a real SQLite store whose waits never poll.
func newWakeEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	e := newEnvOn(t, st, noPoll)
	e.createFlow(t, helloFlow)
	return e
}

// TestWaitIsWokenByTheEndState: ?wait=true answers when the end state is
// stored, not at a poll.
func TestWaitIsWokenByTheEndState(t *testing.T) {
	t.Parallel()
	e := newWakeEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello?wait=true"})
	require.NoError(t, ctx.Err())
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.Equal(t, flow.StateSuccess, decode[flow.Execution](t, rec).State.Current)
}

// TestWaitListensBeforeTheExecutionExists: ?wait=true subscribes to the
// end before the execution is created, so an end stored before the
// runner even returns still wakes it, without a poll and without a read
// of the state; a runner that picks its own id gets the wait that reads
// the state first.
func TestWaitListensBeforeTheExecutionExists(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		ownIDs     bool
		stateReads bool
	}{
		{name: "the id given", ownIDs: false, stateReads: false},
		{name: "the runner's own id", ownIDs: true, stateReads: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			e := newEnvOn(t, st, noPoll, func(o *Options) { o.MaxWait = time.Minute })
			e.createFlow(t, helloFlow)
			e.runner.finish, e.runner.endAtOnce, e.runner.ownIDs = false, true, tc.ownIDs
			rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello?wait=true"})
			require.Equal(t, 200, rec.Code, rec.Body.String())
			got := decode[flow.Execution](t, rec)
			require.Equal(t, flow.StateSuccess, got.State.Current, "an answer before MaxWait, with the end")
			require.Equal(t, tc.stateReads, e.probe.stateReads() > 0, "state reads: %d", e.probe.stateReads())
			if !tc.ownIDs {
				require.Equal(t, e.runner.last.ExecutionID, got.ID, "the execution has the id the wait listened on")
			}
		})
	}
}

// TestFollowsAreWokenByTheStore: an execution follow sees every state and
// ends; a log follow receives a line appended while nothing else changes.
func TestFollowsAreWokenByTheStore(t *testing.T) {
	t.Parallel()
	e := newWakeEnv(t)
	ts := startServer(t, e)

	rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello"})
	id := decode[flow.Execution](t, rec).ID
	events, _ := readEvents(t, get(t, t.Context(), ts.URL+"/api/v1/main/executions/"+id+"/follow"))
	var final flow.Execution
	require.NoError(t, json.Unmarshal([]byte(events[len(events)-1].data), &final))
	require.Equal(t, flow.StateSuccess, final.State.Current)

	e.runner.finish = false
	rec = e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello"})
	id = decode[flow.Execution](t, rec).ID
	require.NoError(t, setState(t.Context(), e.st, id, flow.StateRunning))
	resp := get(t, t.Context(), ts.URL+"/api/v1/main/logs/"+id+"/follow")
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func(prefix string) string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				require.True(t, ok, "stream ended before %q", prefix)
				if strings.HasPrefix(l, prefix) {
					return strings.TrimPrefix(l, prefix)
				}
			case <-time.After(time.Minute):
				t.Fatalf("nothing pushed: waiting for %q", prefix)
			}
		}
	}
	require.Equal(t, "start", next("id: "))
	require.NoError(t, e.st.Logs().Append(t.Context(), []flow.LogEntry{{ExecutionID: id, Namespace: "company.team",
		FlowID: "hello", TaskID: "hello", Level: "INFO", Message: "pushed as stored", Timestamp: time.Now()}}))
	require.Equal(t, "progress", next("id: "))
	require.Contains(t, next("data: "), "pushed as stored")
	require.NoError(t, setState(t.Context(), e.st, id, flow.StateSuccess))
	require.Equal(t, "end", next("id: "))
}

// TestWaitAndFollowsHoldForAfterExecution: an execution with its final
// state but an afterExecution task still running is not over yet, as
// Kestra's "terminated with afterExecution": ?wait=true, the execution
// follow and the log follow end only once that task ended too.
func TestWaitAndFollowsHoldForAfterExecution(t *testing.T) {
	t.Parallel()
	e := newWakeEnv(t)
	e.runner.finish = false
	ts := startServer(t, e)
	ctx := t.Context()

	waited := make(chan *http.Response, 1)
	go func() {
		r, err := http.NewRequestWithContext(ctx, "POST", ts.URL+"/api/v1/main/executions/company.team/hello?wait=true", nil)
		if err == nil {
			if resp, err := http.DefaultClient.Do(r); err == nil {
				waited <- resp
				return
			}
		}
		waited <- nil
	}()
	var id string
	require.Eventually(t, func() bool {
		execs, _, err := e.st.Executions().Search(ctx, store.ExecutionQuery{Page: 1, Size: 10})
		require.NoError(t, err)
		if len(execs) == 1 {
			id = execs[0].ID
		}
		return id != ""
	}, 10*time.Second, 10*time.Millisecond)

	// Ended SUCCESS, with its afterExecution task still RUNNING.
	ex, v, err := e.st.Executions().Get(ctx, id)
	require.NoError(t, err)
	now := time.Now()
	ex.State.Set(flow.StateRunning, now)
	ex.State.Set(flow.StateSuccess, now)
	ex.TaskRunList = append(ex.TaskRunList, &flow.TaskRun{ID: "after-1", ExecutionID: id, Namespace: ex.Namespace,
		FlowID: ex.FlowID, TaskID: "notify", State: flow.NewStateInfo(flow.StateRunning, now)})
	_, err = e.st.Executions().Save(ctx, store.SaveParams{Execution: ex, Version: v})
	require.NoError(t, err)

	followed := make(chan []sseEvent, 1)
	follow := get(t, ctx, ts.URL+"/api/v1/main/executions/"+id+"/follow")
	go func() {
		events, _ := readEvents(t, follow)
		followed <- events
	}()
	logEnded := make(chan []sseEvent, 1)
	logs := get(t, ctx, ts.URL+"/api/v1/main/logs/"+id+"/follow")
	go func() {
		events, _ := readEvents(t, logs)
		logEnded <- events
	}()
	select {
	case <-waited:
		t.Fatal("?wait=true answered while an afterExecution task still ran")
	case <-followed:
		t.Fatal("the follow ended while an afterExecution task still ran")
	case <-logEnded:
		t.Fatal("the log follow ended while an afterExecution task still ran")
	case <-time.After(300 * time.Millisecond):
	}

	ex, v, err = e.st.Executions().Get(ctx, id)
	require.NoError(t, err)
	ex.TaskRunByID("after-1").State.Set(flow.StateSuccess, time.Now())
	_, err = e.st.Executions().Save(ctx, store.SaveParams{Execution: ex, Version: v})
	require.NoError(t, err)

	resp := <-waited
	require.NotNil(t, resp)
	defer resp.Body.Close()
	var answered flow.Execution
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&answered))
	require.Equal(t, flow.StateSuccess, answered.TaskRunByID("after-1").State.Current, "the wait answers the settled execution")
	events := <-followed
	require.Equal(t, "end", events[len(events)-1].id)
	var final flow.Execution
	require.NoError(t, json.Unmarshal([]byte(events[len(events)-1].data), &final))
	require.Equal(t, flow.StateSuccess, final.TaskRunByID("after-1").State.Current, "the end carries the afterExecution task's end")
	logEvents := <-logEnded
	require.Equal(t, "end", logEvents[len(logEvents)-1].id)
}
