package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/flowcache"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/trigger"
)

// fakeWebhooks answers webhook calls by key: "ok" starts an execution,
// "no" is a condition that said no, the rest are the errors listed.
type fakeWebhooks struct {
	mu    sync.Mutex
	calls []trigger.Request
}

func (f *fakeWebhooks) Webhook(_ context.Context, ns, id, key string, req trigger.Request) (*flow.Execution, error) {
	f.mu.Lock()
	f.calls = append(f.calls, req)
	f.mu.Unlock()
	switch key {
	case "ok":
		return &flow.Execution{ID: "ex1", Namespace: ns, FlowID: id, FlowRevision: 1, State: flow.NewStateInfo(flow.StateCreated, time.Now())}, nil
	case "no":
		return nil, nil
	case "off":
		return nil, fmt.Errorf("flow %s.%s: %w", ns, id, trigger.ErrDisabled)
	case "bad":
		return nil, flow.Errors{{Path: "inputs.n", Message: "not a number"}}
	}
	return nil, fmt.Errorf("webhook %s: %w", key, store.ErrNotFound)
}

const scheduleFlow = `id: hourly
namespace: acme
tasks:
  - id: when
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
  - id: schedule
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 * * * *"
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: s3cret-key
`

func newTriggerEnv(t *testing.T) (*env, *fakeWebhooks) {
	t.Helper()
	st := openStore(t)
	parse := func(b []byte) (*flow.Flow, error) { return flow.Parse(b, flow.ParseOptions{}) }
	cache := flowcache.New(st.Flows(), parse)
	hooks := &fakeWebhooks{}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e := newEnvOn(t, cache.Watch(st), func(o *Options) {
		o.Parse = parse
		o.Triggers = &Triggers{
			Webhooks: hooks, Flows: cache, Now: func() time.Time { return now },
			Scheduled: func(typ string) bool { return strings.HasSuffix(typ, ".Schedule") },
		}
	})
	_, err := e.st.Flows().Create(t.Context(), store.PutFlowParams{Namespace: "acme", ID: "hourly", Source: scheduleFlow})
	require.NoError(t, err)
	return e, hooks
}

func TestWebhookAnswers(t *testing.T) {
	t.Parallel()
	e, hooks := newTriggerEnv(t)
	base := "/api/v1/main/executions/webhook/acme/hourly/"
	for _, tc := range []struct {
		key, body string
		status    int
		contains  string
	}{
		{"ok", `{"a":1}`, http.StatusOK, `"id":"ex1"`},
		{"no", "", http.StatusNoContent, ""},
		{"off", "", http.StatusConflict, "disabled"},
		{"bad", "", http.StatusUnprocessableEntity, "not a number"},
		{"wrong-key", "", http.StatusNotFound, "has this key"},
		{"ok", strings.Repeat("x", 8<<20+1), http.StatusRequestEntityTooLarge, "the limit is 8 MiB"},
	} {
		rec := e.do(t, req{method: "POST", path: base + tc.key + "?x=1", body: tc.body})
		require.Equal(t, tc.status, rec.Code, "%s: %s", tc.key, rec.Body.String())
		require.Contains(t, rec.Body.String(), tc.contains, tc.key)
		require.NotContains(t, rec.Body.String(), "wrong-key", "a key is never echoed")
	}
	require.Equal(t, []string{"1"}, hooks.calls[0].Parameters["x"])
	require.Equal(t, `{"a":1}`, string(hooks.calls[0].Body))
	// GET and PUT reach the same webhook (Kestra's three webhook operations).
	for _, method := range []string{"GET", "PUT"} {
		rec := e.do(t, req{method: method, path: base + "ok"})
		require.Equal(t, http.StatusOK, rec.Code, "%s: %s", method, rec.Body.String())
		require.Contains(t, rec.Body.String(), `"id":"ex1"`, method)
	}
}

func TestTriggerAPI(t *testing.T) {
	t.Parallel()
	e, _ := newTriggerEnv(t)
	ref := `"namespace":"acme","flowId":"hourly","triggerId":"schedule"`
	type ctxJSON struct {
		Disabled bool `json:"disabled"`
		Backfill *struct {
			Paused bool `json:"paused"`
		} `json:"backfill"`
	}

	rec := e.do(t, req{method: "GET", path: "/api/v1/main/triggers/search?namespace=acme"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	list := decode[struct {
		Results []struct {
			AbstractTrigger map[string]any `json:"abstractTrigger"`
			TriggerContext  ctxJSON        `json:"triggerContext"`
		} `json:"results"`
		Total int `json:"total"`
	}](t, rec)
	require.Equal(t, 2, list.Total)
	require.NotContains(t, rec.Body.String(), "s3cret-key", "a webhook's key is left out of listings")

	rec = e.do(t, req{method: "POST", contentType: "application/json", path: "/api/v1/main/triggers/set-disabled/by-triggers", body: `{"disabled":true,"triggers":[{` + ref + `}]}`})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rec = e.do(t, req{method: "GET", path: "/api/v1/main/triggers/acme/hourly?q=sched"})
	require.Contains(t, rec.Body.String(), `"disabled":true`)

	rec = e.do(t, req{method: "PUT", contentType: "application/json", path: "/api/v1/main/triggers", body: `{` + ref + `,"disabled":false,"backfill":{"start":"2026-01-01T00:00:00Z"}}`})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	tc := decode[ctxJSON](t, rec)
	require.False(t, tc.Disabled)
	require.NotNil(t, tc.Backfill)

	rec = e.do(t, req{method: "PUT", contentType: "application/json", path: "/api/v1/main/triggers/backfill/pause", body: `{` + ref + `}`})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.True(t, decode[ctxJSON](t, rec).Backfill.Paused)
	rec = e.do(t, req{method: "PUT", contentType: "application/json", path: "/api/v1/main/triggers/backfill/unpause", body: `{` + ref + `}`})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.False(t, decode[ctxJSON](t, rec).Backfill.Paused)
	rec = e.do(t, req{method: "POST", contentType: "application/json", path: "/api/v1/main/triggers/backfill/delete", body: `{` + ref + `}`})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Nil(t, decode[ctxJSON](t, rec).Backfill)

	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/api/v1/main/triggers/backfill/delete", `{` + ref + `}`, http.StatusNotFound},
		{"PUT", "/api/v1/main/triggers", `{"namespace":"acme","flowId":"hourly","triggerId":"hook","backfill":{"start":"2026-01-01T00:00:00Z"}}`, http.StatusUnprocessableEntity},
		{"PUT", "/api/v1/main/triggers", `{"namespace":"acme","flowId":"hourly","triggerId":"nope","disabled":true}`, http.StatusNotFound},
		{"PUT", "/api/v1/main/triggers", `{`, http.StatusBadRequest},
	} {
		rec := e.do(t, req{method: tc.method, path: tc.path, body: tc.body, contentType: "application/json"})
		require.Equal(t, tc.status, rec.Code, "%s %s %s: %s", tc.method, tc.path, tc.body, rec.Body.String())
	}
}
