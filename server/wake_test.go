package server

import (
	"bufio"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
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
