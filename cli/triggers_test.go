package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

const (
	hookFlow = `
id: hook
namespace: acme
labels:
  team: data
outputs:
  - id: echoed
    type: STRING
    value: "{{ outputs.out.value }}"
tasks:
  - id: out
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.body.name ?? trigger.body }}"
triggers:
  - id: from-secret
    type: io.kestra.plugin.core.trigger.Webhook
    key: "{{ secret('WEBHOOK_KEY') }}"
  - id: waiting
    type: io.kestra.plugin.core.trigger.Webhook
    key: waiting
    wait: true
    returnOutputs: true
  - id: guarded
    type: io.kestra.plugin.core.trigger.Webhook
    key: guarded
    conditions:
      - type: io.kestra.plugin.core.condition.ExpressionCondition
        expression: "{{ trigger.body.hello == 'world' }}"
`
	offFlow = `
id: off
namespace: acme
disabled: true
tasks:
  - id: out
    type: io.kestra.plugin.core.debug.Return
    format: x
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: k
`
	listenerFlow = `
id: listener
namespace: acme
tasks:
  - id: got
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.executionId }}"
triggers:
  - id: on-hook
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: acme
        flowId: hook
      - type: io.kestra.plugin.core.condition.ExecutionStatus
        in: [SUCCESS]
`
)

// TestWebhookAndFlowTriggerEndToEnd calls the webhook endpoint of a full
// in-process Osprey and follows the execution it starts to the Flow
// trigger that listens to it.
func TestWebhookAndFlowTriggerEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{Vars: map[string]string{
		"SECRET_WEBHOOK_KEY": base64.StdEncoding.EncodeToString([]byte("k3y-from-secret")),
	}}, hookFlow, offFlow, listenerFlow)

	call := func(method, path, ct, body string) (int, []byte) {
		code, resp, err := sys.HTTP(ctx, method, path, ct, []byte(body))
		require.NoError(t, err)
		return code, resp
	}

	code, body := call(http.MethodPost, "/api/v1/main/executions/webhook/acme/hook/k3y-from-secret?x=1&x=2", "application/json", `{"name":"ada"}`)
	require.Equal(t, http.StatusOK, code, string(body))
	var ex flow.Execution
	require.NoError(t, json.Unmarshal(body, &ex))
	require.Equal(t, "from-secret", ex.Trigger.ID)
	require.Equal(t, map[string]any{"name": "ada"}, ordered.Plain(ex.Trigger.Variables["body"]))
	params, _ := ordered.AsMap(ex.Trigger.Variables["parameters"])
	require.Equal(t, []any{"1", "2"}, params["x"])
	require.Contains(t, ex.Labels, flow.Label{Key: "team", Value: "data"})

	// The execution runs, and its end fires the listener.
	var done *flow.Execution
	var err error
	require.Eventually(t, func() bool {
		done, err = sys.Execution(ctx, ex.ID)
		return err == nil && done.State.Current.IsTerminal()
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, flow.StateSuccess, done.State.Current)
	require.Equal(t, "ada", done.TaskRunList[0].Outputs["value"])
	var heard []*flow.Execution
	require.Eventually(t, func() bool {
		heard, err = sys.Executions(ctx, "acme", "listener")
		return err == nil && len(heard) == 1 && heard[0].State.Current.IsTerminal()
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, ex.ID, heard[0].Trigger.Variables["executionId"])
	require.Equal(t, ex.ID, heard[0].TaskRunList[0].Outputs["value"])

	code, body = call(http.MethodGet, "/api/v1/executions/webhook/acme/hook/wrong-key", "", "")
	require.Equal(t, http.StatusNotFound, code)
	require.NotContains(t, string(body), "k3y-from-secret")
	require.NotContains(t, string(body), "wrong-key", "a key is never echoed")
	code, _ = call(http.MethodPut, "/api/v1/executions/webhook/acme/hook/"+url.PathEscape("{{ secret('WEBHOOK_KEY') }}"), "", "")
	require.Equal(t, http.StatusNotFound, code, "the key is the rendered value, not the template")

	code, body = call(http.MethodPost, "/api/v1/executions/webhook/acme/hook/guarded", "application/json", `{"hello":"webhook"}`)
	require.Equal(t, http.StatusNoContent, code)
	require.Empty(t, body)
	code, _ = call(http.MethodPost, "/api/v1/executions/webhook/acme/hook/guarded", "", `not json`)
	require.Equal(t, http.StatusNoContent, code, "a condition that cannot read the body is false")
	code, _ = call(http.MethodPost, "/api/v1/executions/webhook/acme/hook/guarded", "application/json", `{"hello":"world"}`)
	require.Equal(t, http.StatusOK, code)

	code, body = call(http.MethodPost, "/api/v1/executions/webhook/acme/hook/waiting", "application/json", `{"name":"grace"}`)
	require.Equal(t, http.StatusOK, code, string(body))
	require.JSONEq(t, `{"echoed":"grace"}`, string(body), "wait and returnOutputs answer with the flow's outputs")

	code, _ = call(http.MethodPost, "/api/v1/executions/webhook/acme/off/k", "", "")
	require.Equal(t, http.StatusConflict, code, "a disabled flow refuses its webhook")

	// Disable the trigger through the API: the webhook refuses calls.
	code, body = call(http.MethodPost, "/api/v1/main/triggers/set-disabled/by-triggers?disabled=true", "application/json",
		`[{"namespace":"acme","flowId":"hook","triggerId":"from-secret"}]`)
	require.Equal(t, http.StatusOK, code, string(body))
	code, _ = call(http.MethodPost, "/api/v1/executions/webhook/acme/hook/k3y-from-secret", "", "")
	require.Equal(t, http.StatusConflict, code)
	code, body = call(http.MethodGet, "/api/v1/triggers/search?namespace=acme&q=from", "", "")
	require.Equal(t, http.StatusOK, code)
	var list struct {
		Results []struct {
			TriggerContext struct{ Disabled bool } `json:"triggerContext"`
		} `json:"results"`
		Total int `json:"total"`
	}
	require.NoError(t, json.Unmarshal(body, &list))
	require.Equal(t, 1, list.Total)
	require.True(t, list.Results[0].TriggerContext.Disabled)
	require.NotContains(t, string(body), "WEBHOOK_KEY", "the key is left out of listings")
	code, _ = call(http.MethodPut, "/api/v1/triggers", "application/json", `{"namespace":"acme","flowId":"hook","triggerId":"from-secret","disabled":false}`)
	require.Equal(t, http.StatusOK, code)
	code, _ = call(http.MethodGet, "/api/v1/executions/webhook/acme/hook/k3y-from-secret", "", "")
	require.Equal(t, http.StatusOK, code, "enabled again")
	code, _ = call(http.MethodPut, "/api/v1/triggers", "application/json", `{"namespace":"acme","flowId":"hook","triggerId":"from-secret","backfill":{"start":"2026-01-01T00:00:00Z"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, "only a schedule has a backfill")
}

// BenchmarkOnExecutionEnd measures what each execution end pays for Flow
// triggers in a real system: 500 flows in the store, 50 of them listening
// to another flow.
func BenchmarkOnExecutionEnd(b *testing.B) {
	ctx := context.Background()
	sys, err := newConformanceSystem(ctx, &conformance.Env{})
	require.NoError(b, err)
	defer sys.Close()
	var srcs []string
	for i := range 500 {
		src := strings.Replace(offFlow, "id: off", fmt.Sprintf("id: flow-%d", i), 1)
		if i%10 == 0 {
			src = strings.Replace(strings.Replace(listenerFlow, "id: listener", fmt.Sprintf("id: listener-%d", i), 1), "flowId: hook", "flowId: elsewhere", 1)
		}
		srcs = append(srcs, src)
	}
	require.NoError(b, sys.Load(ctx, srcs))
	a := sys.(*confSystem).a
	ex := &flow.Execution{ID: "x", Namespace: "acme", FlowID: "flow-1", FlowRevision: 1, State: flow.StateInfo{Current: flow.StateSuccess}}
	for b.Loop() {
		a.onExecutionChange(ctx, ex)
	}
}

// startSystem starts an in-process Osprey (every component, SQLite) with
// flows loaded; it stops with the test.
func startSystem(t *testing.T, env *conformance.Env, flows ...string) *confSystem {
	t.Helper()
	sys, err := newConformanceSystem(t.Context(), env)
	require.NoError(t, err)
	t.Cleanup(func() { sys.Close() })
	require.NoError(t, sys.Load(t.Context(), flows))
	return sys.(*confSystem)
}

// runToEnd starts a flow of sys and waits until its execution has ended.
func (s *confSystem) runToEnd(t *testing.T, ns, id string) *flow.Execution {
	t.Helper()
	ex, err := s.Start(t.Context(), ns, id, nil, true, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ex, err = s.Execution(t.Context(), ex.ID)
		return err == nil && ex.State.Current.IsTerminal()
	}, 20*time.Second, 20*time.Millisecond, "%s.%s ends", ns, id)
	return ex
}

// TestBackfillAPI starts, pauses, resumes and deletes backfills through
// Kestra's trigger API while the scheduler runs.
func TestBackfillAPI(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: hourly
namespace: acme
tasks:
  - id: when
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.date }}"
triggers:
  - id: schedule
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 * * * *"
`)
	call := func(method, path, body string) (int, []byte) {
		code, resp, err := sys.HTTP(ctx, method, path, "application/json", []byte(body))
		require.NoError(t, err)
		return code, resp
	}
	ref := `"namespace":"acme","flowId":"hourly","triggerId":"schedule"`

	code, body := call(http.MethodPut, "/api/v1/main/triggers", `{`+ref+`,"backfill":{"start":"2026-01-01T00:00:00Z","end":"2026-01-01T02:00:00Z","labels":[{"key":"why","value":"replay"}]}}`)
	require.Equal(t, http.StatusOK, code, string(body))
	var done []*flow.Execution
	require.Eventually(t, func() bool {
		var err error
		done, err = sys.Executions(ctx, "acme", "hourly")
		return err == nil && len(done) == 3
	}, 20*time.Second, 20*time.Millisecond, "00:00, 01:00 and 02:00 are replayed")
	var dates []any
	for _, e := range done {
		dates = append(dates, e.Trigger.Variables["date"])
		require.Contains(t, e.Labels, flow.Label{Key: "why", Value: "replay"})
	}
	require.ElementsMatch(t, []any{"2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"}, dates)

	// A backfill in the future waits; it can be paused, resumed and deleted.
	future := time.Now().UTC().AddDate(1, 0, 0).Format(time.RFC3339)
	code, _ = call(http.MethodPut, "/api/v1/triggers", `{`+ref+`,"backfill":{"start":"`+future+`"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, "end defaults to now, before a future start")
	end := time.Now().UTC().AddDate(1, 0, 1).Format(time.RFC3339)
	require.Eventually(t, func() bool {
		code, body = call(http.MethodPut, "/api/v1/triggers", `{`+ref+`,"backfill":{"start":"`+future+`","end":"`+end+`"}}`)
		return code != http.StatusConflict // the first backfill's row goes on the scheduler pass after its last tick
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, http.StatusOK, code, string(body))
	code, _ = call(http.MethodPut, "/api/v1/triggers", `{`+ref+`,"backfill":{"start":"`+future+`","end":"`+end+`"}}`)
	require.Equal(t, http.StatusConflict, code, "one backfill at a time")

	code, body = call(http.MethodPut, "/api/v1/triggers/backfill/pause", `{`+ref+`}`)
	require.Equal(t, http.StatusOK, code, string(body))
	var tc struct {
		Backfill          *struct{ Paused bool } `json:"backfill"`
		NextExecutionDate *time.Time             `json:"nextExecutionDate"`
	}
	require.NoError(t, json.Unmarshal(body, &tc))
	require.NotNil(t, tc.Backfill)
	require.True(t, tc.Backfill.Paused)
	code, body = call(http.MethodPut, "/api/v1/triggers/backfill/unpause", `{`+ref+`}`)
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, json.Unmarshal(body, &tc))
	require.False(t, tc.Backfill.Paused)
	code, body = call(http.MethodPost, "/api/v1/triggers/backfill/delete", `{`+ref+`}`)
	require.Equal(t, http.StatusOK, code)
	tc.Backfill, tc.NextExecutionDate = nil, nil
	require.NoError(t, json.Unmarshal(body, &tc))
	require.Nil(t, tc.Backfill)
	require.NotNil(t, tc.NextExecutionDate, "the live schedule keeps its next date")
	code, _ = call(http.MethodPost, "/api/v1/triggers/backfill/delete", `{`+ref+`}`)
	require.Equal(t, http.StatusNotFound, code)
}
