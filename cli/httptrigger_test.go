package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
)

// TestHTTPTriggerEndToEnd polls a loopback endpoint with an http.Trigger:
// nothing starts while the response says not ready, then an execution
// starts with the response as trigger variables.
func TestHTTPTriggerEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var ready atomic.Bool
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		polls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ready": %t, "batch": "b-42"}`, ready.Load())
	}))
	t.Cleanup(srv.Close)
	sys := startSystem(t, &conformance.Env{}, `
id: wait-for-data
namespace: acme
tasks:
  - id: use
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.code }} {{ trigger.body }}"
triggers:
  - id: ready
    type: io.kestra.plugin.core.http.Trigger
    uri: `+srv.URL+`/status
    interval: PT1S
    responseCondition: "{{ response.body contains '\"ready\": true' }}"
`)
	require.Eventually(t, func() bool { return polls.Load() >= 1 }, 20*time.Second, 20*time.Millisecond, "the endpoint is polled")
	list, err := sys.Executions(ctx, "acme", "wait-for-data")
	require.NoError(t, err)
	require.Empty(t, list, "not ready: nothing started")

	ready.Store(true)
	var ex *flow.Execution
	require.Eventually(t, func() bool {
		list, err := sys.Executions(ctx, "acme", "wait-for-data")
		if err != nil || len(list) == 0 || !list[0].State.Current.IsTerminal() {
			return false
		}
		ex = list[0]
		return true
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, flow.StateSuccess, ex.State.Current)
	code, body, err := sys.HTTP(ctx, http.MethodGet, "/api/v1/main/triggers/search?namespace=acme", "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), `"nextExecutionDate"`, "the API shows when the next poll is due")
	require.Equal(t, `200 {"ready": true, "batch": "b-42"}`, ex.TaskRunList[0].Outputs["value"])
}
