package cli

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
)

// startedAt is when ex went RUNNING.
func startedAt(t *testing.T, ex *flow.Execution) time.Time {
	t.Helper()
	for _, h := range ex.State.Histories {
		if h.State == flow.StateRunning {
			return h.Date
		}
	}
	t.Fatalf("execution %s never ran: %v", ex.ID, ex.State.Histories)
	return time.Time{}
}

// TestScheduledExecutions runs executions that start later than they are
// created: through the API's scheduleDate, a Subflow's scheduleDate, and
// the next execution of a CREATE_NEW_EXECUTION retry.
func TestScheduledExecutions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: later
namespace: acme
tasks:
  - {id: hi, type: io.kestra.plugin.core.log.Log, message: hi}
`, `
id: parent
namespace: acme
tasks:
  - id: child
    type: io.kestra.plugin.core.flow.Subflow
    namespace: acme
    flowId: later
    scheduleDate: "{{ now() | dateAdd(1, 'SECONDS') }}"
`, `
id: flaky
namespace: acme
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: boom
    retry: {type: constant, interval: PT0.5S, maxAttempt: 2, behavior: CREATE_NEW_EXECUTION}
`, `
id: second-time-lucky
namespace: acme
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    condition: "{{ execution.originalId == execution.id }}"
    retry: {type: constant, interval: PT0.2S, maxAttempt: 3, behavior: CREATE_NEW_EXECUTION}
outputs:
  - {id: attempt, type: STRING, value: "{{ execution.id }}"}
`, `
id: waits-on-retries
namespace: acme
tasks:
  - id: child
    type: io.kestra.plugin.core.flow.Subflow
    namespace: acme
    flowId: second-time-lucky
`)
	// byAttempt orders a CREATE_NEW_EXECUTION chain: its executions may be
	// created within the same millisecond, the precision dates are kept at.
	byAttempt := func(chain []*flow.Execution) []*flow.Execution {
		slices.SortFunc(chain, func(a, b *flow.Execution) int { return a.Metadata.AttemptNumber - b.Metadata.AttemptNumber })
		return chain
	}
	ended := func(ns, id string, n int) []*flow.Execution {
		t.Helper()
		var list []*flow.Execution
		require.Eventually(t, func() bool {
			var err error
			list, err = sys.Executions(ctx, ns, id)
			if err != nil || len(list) != n {
				return false
			}
			for _, e := range list {
				if !e.State.Current.IsTerminal() {
					return false
				}
			}
			return true
		}, 30*time.Second, 20*time.Millisecond)
		return list
	}

	t.Run("the API's scheduleDate", func(t *testing.T) {
		at := time.Now().UTC().Add(1500 * time.Millisecond).Truncate(time.Millisecond)
		code, body, err := sys.HTTP(ctx, http.MethodPost, "/api/v1/main/executions/acme/later?scheduleDate="+url.QueryEscape(at.Format(time.RFC3339Nano)), "", nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code, string(body))
		var ex flow.Execution
		require.NoError(t, json.Unmarshal(body, &ex))
		require.Equal(t, flow.StateCreated, ex.State.Current, "it is stored CREATED")
		require.True(t, at.Equal(*ex.ScheduleDate))
		require.Eventually(t, func() bool {
			got, err := sys.Execution(ctx, ex.ID)
			if err == nil && got.State.Current == flow.StateSuccess {
				ex = *got
				return true
			}
			return false
		}, 30*time.Second, 20*time.Millisecond)
		require.False(t, startedAt(t, &ex).Before(at), "it ran no earlier than its scheduleDate")

		code, body, err = sys.HTTP(ctx, http.MethodPost, "/api/v1/main/executions/acme/later?scheduleDate=soon", "", nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, string(body), "scheduleDate")
	})

	t.Run("a Subflow's scheduleDate", func(t *testing.T) {
		_, err := sys.Start(ctx, "acme", "parent", nil, true, nil)
		require.NoError(t, err)
		parent := ended("acme", "parent", 1)[0]
		require.Equal(t, flow.StateSuccess, parent.State.Current)
		childID, _ := parent.TaskRunList[0].Outputs["executionId"].(string)
		child, err := sys.Execution(ctx, childID)
		require.NoError(t, err)
		require.NotNil(t, child.ScheduleDate)
		// state dates are kept to the millisecond
		require.False(t, startedAt(t, child).Before(child.ScheduleDate.Truncate(time.Millisecond)), "the child ran no earlier than its scheduleDate")
		require.True(t, child.ScheduleDate.After(parent.State.Histories[0].Date), "rendered from now()")
	})

	t.Run("a CREATE_NEW_EXECUTION retry", func(t *testing.T) {
		_, err := sys.Start(ctx, "acme", "flaky", nil, true, nil)
		require.NoError(t, err)
		chain := byAttempt(ended("acme", "flaky", 2))
		first, second := chain[0], chain[1]
		require.Equal(t, flow.StateRetried, first.State.Current)
		require.Equal(t, flow.StateRetried, first.TaskRunList[0].State.Current)
		require.Equal(t, flow.StateFailed, second.State.Current, "maxAttempt 2: the second execution is the last")
		require.Equal(t, 2, second.Metadata.AttemptNumber)
		require.Equal(t, first.ID, second.OriginalID)
		require.False(t, startedAt(t, second).Before(first.State.Histories[len(first.State.Histories)-1].Date.Add(500*time.Millisecond)),
			"the next execution starts after the interval")
	})

	t.Run("a parent waits on its retried subflow's next execution", func(t *testing.T) {
		_, err := sys.Start(ctx, "acme", "waits-on-retries", nil, true, nil)
		require.NoError(t, err)
		parent := ended("acme", "waits-on-retries", 1)[0]
		chain := byAttempt(ended("acme", "second-time-lucky", 2))
		require.Equal(t, flow.StateRetried, chain[0].State.Current)
		require.Equal(t, flow.StateSuccess, chain[1].State.Current, "the second execution passes the condition")
		require.Equal(t, flow.StateSuccess, parent.State.Current, "the parent ends with the chain")
		require.Equal(t, chain[1].ID, parent.TaskRunList[0].Outputs["executionId"], "and points at its last execution")
	})
}
