package trigger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/render"
	"github.com/ospreyhq/osprey/trigger"
)

// fakeSecrets resolves secret() from a map, for every namespace.
type fakeSecrets map[string]string

func (f fakeSecrets) Get(_ context.Context, ns, key string) (string, error) {
	v, ok := f[key]
	if !ok {
		return "", fmt.Errorf("secret %q not found in namespace %s", key, ns)
	}
	return v, nil
}

func newRenderer(secrets map[string]string) *render.Renderer {
	return &render.Renderer{Expr: expr.New(expr.Options{}), Secrets: fakeSecrets(secrets)}
}

func execution(ns, id string, st flow.State, labels ...flow.Label) *flow.Execution {
	return &flow.Execution{ID: "ex-" + id, Namespace: ns, FlowID: id, FlowRevision: 1, Labels: labels,
		State: flow.StateInfo{Current: st},
		TaskRunList: []*flow.TaskRun{{ID: "tr-" + id, TaskID: "only", Outputs: map[string]any{"value": "v"},
			State: flow.StateInfo{Current: flow.StateSuccess}}}}
}

func ctxFor(ex *flow.Execution, now time.Time) trigger.Context {
	f := &flow.Flow{ID: ex.FlowID, Namespace: ex.Namespace}
	return trigger.Context{Execution: ex, Vars: engine.Vars(f, ex, nil, nil, nil), Now: now, Renderer: newRenderer(nil)}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 7, 10, 30, 0, 0, time.UTC) // a Saturday
	ok := execution("io.kestra.tests.trigger", "trigger-flow", flow.StateSuccess, flow.Label{Key: "team", Value: "data"})
	cases := []struct {
		name string
		cond map[string]any
		want bool
		err  string
	}{
		{"status in", map[string]any{"type": "io.kestra.plugin.core.condition.ExecutionStatus", "in": []any{"SUCCESS"}}, true, ""},
		{"status not in list", map[string]any{"type": "io.kestra.plugin.core.condition.ExecutionStatus", "in": []any{"FAILED", "WARNING"}}, false, ""},
		{"status notIn", map[string]any{"type": "io.kestra.plugin.core.condition.ExecutionStatus", "notIn": []any{"SUCCESS"}}, false, ""},
		{"legacy status name", map[string]any{"type": "io.kestra.core.models.conditions.types.ExecutionStatusCondition", "in": []any{"SUCCESS"}}, true, ""},
		{"flow matches", map[string]any{"type": "io.kestra.plugin.core.condition.ExecutionFlow", "namespace": "io.kestra.tests.trigger", "flowId": "trigger-flow"}, true, ""},
		{"flow other id", map[string]any{"type": "io.kestra.plugin.core.condition.ExecutionFlow", "namespace": "io.kestra.tests.trigger", "flowId": "other-flow"}, false, ""},
		{"namespace equals", map[string]any{"type": "io.kestra.plugin.core.condition.ExecutionNamespace", "namespace": "io.kestra.tests.trigger"}, true, ""},
		{"namespace equals is not prefix", map[string]any{"type": "io.kestra.plugin.core.condition.ExecutionNamespace", "namespace": "io.kestra.tests"}, false, ""},
		{"namespace prefix", map[string]any{"type": "io.kestra.plugin.core.condition.ExecutionNamespace", "namespace": "io.kestra.tests", "comparison": "PREFIX"}, true, ""},
		{"namespace legacy prefix", map[string]any{"type": "io.kestra.plugin.core.condition.ExecutionNamespace", "namespace": "io.kestra", "prefix": true}, true, ""},
		{"namespace suffix", map[string]any{"type": "io.kestra.plugin.core.condition.ExecutionNamespace", "namespace": "tests.trigger", "comparison": "SUFFIX"}, true, ""},
		{"labels map", map[string]any{"type": "io.kestra.plugin.core.condition.ExecutionLabels", "labels": map[string]any{"team": "data"}}, true, ""},
		{"labels list mismatch", map[string]any{"type": "io.kestra.plugin.core.condition.ExecutionLabels", "labels": []any{map[string]any{"key": "team", "value": "ops"}}}, false, ""},
		{"outputs expression", map[string]any{"type": "io.kestra.plugin.core.condition.ExecutionOutputs", "expression": "{{ outputs.only.value == 'v' }}"}, true, ""},
		{"expression false", map[string]any{"type": "io.kestra.plugin.core.condition.ExpressionCondition", "expression": "{{ execution.state == 'FAILED' }}"}, false, ""},
		{"expression unknown variable", map[string]any{"type": "io.kestra.plugin.core.condition.ExpressionCondition", "expression": "{{ nope.x }}"}, false, "nope"},
		{"weekend", map[string]any{"type": "io.kestra.plugin.core.condition.Weekend"}, true, ""},
		{"day of week", map[string]any{"type": "io.kestra.plugin.core.condition.DayWeek", "dayOfWeek": "MONDAY"}, false, ""},
		{"time between", map[string]any{"type": "io.kestra.plugin.core.condition.TimeBetween", "after": "10:00:00", "before": "11:00:00"}, true, ""},
		{"time outside", map[string]any{"type": "io.kestra.plugin.core.condition.TimeBetween", "after": "11:00:00"}, false, ""},
		{"date time between", map[string]any{"type": "io.kestra.plugin.core.condition.DateTimeBetween", "after": "2026-03-01T00:00:00Z", "before": "2026-03-31T00:00:00Z"}, true, ""},
		{"first saturday", map[string]any{"type": "io.kestra.plugin.core.condition.DayWeekInMonth", "dayOfWeek": "SATURDAY", "dayInMonth": "FIRST"}, true, ""},
		{"last saturday", map[string]any{"type": "io.kestra.plugin.core.condition.DayWeekInMonth", "dayOfWeek": "SATURDAY", "dayInMonth": "LAST"}, false, ""},
		{"or", map[string]any{"type": "io.kestra.plugin.core.condition.Or", "conditions": []any{
			map[string]any{"type": "io.kestra.plugin.core.condition.ExecutionStatus", "in": []any{"FAILED"}},
			map[string]any{"type": "io.kestra.plugin.core.condition.Weekend"}}}, true, ""},
		{"not", map[string]any{"type": "io.kestra.plugin.core.condition.Not", "conditions": []any{
			map[string]any{"type": "io.kestra.plugin.core.condition.Weekend"}}}, false, ""},
		{"public holiday", map[string]any{"type": "io.kestra.plugin.core.condition.PublicHoliday", "country": "FR", "date": "2026-07-14T11:00:00+02:00"}, true, ""},
		{"not a public holiday", map[string]any{"type": "io.kestra.plugin.core.condition.PublicHoliday", "country": "{{ 'FR' }}"}, false, ""},
		{"regional holiday", map[string]any{"type": "io.kestra.plugin.core.condition.PublicHolidayCondition", "country": "DE", "subDivision": "BY", "date": "2026-01-06T09:00:00+01:00"}, true, ""},
		{"public holiday without a country", map[string]any{"type": "io.kestra.plugin.core.condition.PublicHoliday"}, false, "needs a country"},
		{"unknown condition", map[string]any{"type": "io.kestra.plugin.core.condition.SomethingElse"}, false, "not supported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := trigger.Check(t.Context(), tc.cond, ctxFor(ok, now))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestBody(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want any
	}{
		{`{"a":1,"b":true}`, map[string]any{"a": int64(1), "b": true}},
		{`[{"a":1}]`, []any{map[string]any{"a": int64(1)}}},
		{`bla`, "bla"},
		{`42`, "42"},
		{`{\"a\":\"\"}`, `{\"a\":\"\"}`},
		{``, nil},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, ordered.Plain(trigger.Body([]byte(tc.in))), tc.in)
	}
	// Kestra reads the body with Jackson: an object keeps its keys' order.
	b, err := json.Marshal(trigger.Body([]byte(`{"b":1,"a":{"d":2,"c":3}}`)))
	require.NoError(t, err)
	require.Equal(t, `{"b":1,"a":{"d":2,"c":3}}`, string(b))
}

func TestHasRetryAttempt(t *testing.T) {
	t.Parallel()
	attempt := func(st flow.State) flow.TaskRunAttempt {
		return flow.TaskRunAttempt{State: flow.StateInfo{Current: st}}
	}
	retried := execution("n", "f", flow.StateSuccess)
	retried.TaskRunList[0].Attempts = []flow.TaskRunAttempt{attempt(flow.StateFailed), attempt(flow.StateSuccess)}
	once := execution("n", "f", flow.StateFailed)
	once.TaskRunList[0].Attempts = []flow.TaskRunAttempt{attempt(flow.StateFailed)}
	const typ = "io.kestra.plugin.core.condition.HasRetryAttempt"
	cases := []struct {
		name string
		ex   *flow.Execution
		cond map[string]any
		want bool
	}{
		{"a retried task run", retried, map[string]any{"type": typ}, true},
		{"an attempt in the states", retried, map[string]any{"type": typ, "in": []any{"FAILED"}}, true},
		{"no attempt in the states", retried, map[string]any{"type": typ, "in": []any{"KILLED"}}, false},
		{"every attempt excluded", retried, map[string]any{"type": typ, "notIn": []any{"FAILED", "SUCCESS"}}, false},
		{"one attempt is no retry", once, map[string]any{"type": typ, "in": []any{"FAILED"}}, false},
		{"legacy name", retried, map[string]any{"type": "io.kestra.core.models.conditions.types.HasRetryAttemptCondition"}, true},
	}
	for _, tc := range cases {
		got, err := trigger.Check(t.Context(), tc.cond, ctxFor(tc.ex, time.Now()))
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, got, tc.name)
	}
	_, err := trigger.Check(t.Context(), map[string]any{"type": typ}, trigger.Context{Now: time.Now(), Renderer: newRenderer(nil)})
	require.ErrorContains(t, err, "needs an execution")
}
