package trigger_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/trigger"
)

const webhookFlow = `
id: webhook
namespace: io.kestra.tests
labels:
  flow-label-1: flow-label-1
tasks:
  - id: out
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger | json }}"
triggers:
  - id: plain
    type: io.kestra.plugin.core.trigger.Webhook
    key: a-secret-key
  - id: from-secret
    type: io.kestra.plugin.core.trigger.Webhook
    key: "{{ secret('WEBHOOK_KEY') }}"
  - id: guarded
    type: io.kestra.plugin.core.trigger.Webhook
    key: guarded-key
    conditions:
      - type: io.kestra.plugin.core.condition.ExpressionCondition
        expression: "{{ trigger.body.hello == 'world' }}"
`

const disabledFlow = `
id: off
namespace: io.kestra.tests
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

func TestWebhook(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	d, _ := newDispatcher(t, st, parse(t, webhookFlow, disabledFlow), map[string]string{"WEBHOOK_KEY": "s3cr3t-from-vault"})
	ctx := t.Context()

	ex, err := d.Webhook(ctx, "io.kestra.tests", "webhook", "a-secret-key", trigger.Request{
		Body:       []byte(`{"a":1,"b":true}`),
		Headers:    map[string][]string{"X-Test": {"1"}},
		Parameters: map[string][]string{"age": {"12", "13"}},
	})
	require.NoError(t, err)
	require.Equal(t, "plain", ex.Trigger.ID)
	require.Equal(t, map[string]any{"a": int64(1), "b": true}, ordered.Plain(ex.Trigger.Variables["body"]))
	require.Equal(t, []any{"12", "13"}, ex.Trigger.Variables["parameters"].(map[string]any)["age"])
	require.Equal(t, []any{"1"}, ex.Trigger.Variables["headers"].(map[string]any)["X-Test"])
	require.Equal(t, "flow-label-1", ex.Labels[0].Key, "flow labels go on the execution")
	stored, _, err := st.Executions().Get(ctx, ex.ID)
	require.NoError(t, err, "the execution is stored for the executor")
	require.Equal(t, "plain", stored.Trigger.ID)

	ex, err = d.Webhook(ctx, "io.kestra.tests", "webhook", "s3cr3t-from-vault", trigger.Request{Body: []byte("bla")})
	require.NoError(t, err)
	require.Equal(t, "from-secret", ex.Trigger.ID, "a key written as secret() matches the secret's value")
	require.Equal(t, "bla", ex.Trigger.Variables["body"])

	_, err = d.Webhook(ctx, "io.kestra.tests", "webhook", "{{ secret('WEBHOOK_KEY') }}", trigger.Request{})
	require.ErrorIs(t, err, store.ErrNotFound, "the unrendered key is not the key")
	_, err = d.Webhook(ctx, "io.kestra.tests", "webhook", "wrong", trigger.Request{})
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NotContains(t, err.Error(), "s3cr3t", "errors never hold the key")
	_, err = d.Webhook(ctx, "io.kestra.tests", "nope", "a-secret-key", trigger.Request{})
	require.ErrorIs(t, err, store.ErrNotFound)

	ex, err = d.Webhook(ctx, "io.kestra.tests", "webhook", "guarded-key", trigger.Request{Body: []byte(`{"hello":"webhook"}`)})
	require.NoError(t, err)
	require.Nil(t, ex, "a false condition starts nothing")
	ex, err = d.Webhook(ctx, "io.kestra.tests", "webhook", "guarded-key", trigger.Request{Body: []byte(`{"hello":"world"}`)})
	require.NoError(t, err)
	require.NotNil(t, ex)

	_, err = d.Webhook(ctx, "io.kestra.tests", "off", "k", trigger.Request{})
	require.ErrorIs(t, err, trigger.ErrDisabled)
	require.NoError(t, st.Triggers().Put(ctx, store.TriggerState{Namespace: "io.kestra.tests", FlowID: "webhook", TriggerID: "plain", Disabled: true}))
	_, err = d.Webhook(ctx, "io.kestra.tests", "webhook", "a-secret-key", trigger.Request{})
	require.ErrorIs(t, err, trigger.ErrDisabled, "a trigger disabled through the API refuses calls")

	require.Len(t, executionsOf(t, st, "io.kestra.tests", "webhook"), 3)
}
