package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/render"
)

func TestHTTPPoller(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	p := HTTPPoller{Renderer: &render.Renderer{Expr: expr.New(expr.Options{})}}
	vars := map[string]any{"flow": map[string]any{"namespace": "acme", "id": "f"}, "vars": map[string]any{"path": "echo"}}
	cases := []struct {
		name  string
		props map[string]any
		fire  bool
	}{
		{"a 200 fires by default", map[string]any{"uri": srv.URL + "/{{ vars.path }}"}, true},
		{"a 500 does not fire by default", map[string]any{"uri": srv.URL + "/status/500"}, false},
		{"the condition reads the response", map[string]any{"uri": srv.URL + "/echo", "method": "POST", "body": "ping",
			"responseCondition": "{{ response.statusCode == 200 and (response.body contains 'ping') }}"}, true},
		{"a condition on a 500", map[string]any{"uri": srv.URL + "/status/500", "responseCondition": "{{ response.statusCode == 500 }}"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := &flow.Trigger{ID: "poll", Type: pHTTPTrigger, Props: tc.props}
			fire, tv, err := p.Poll(context.Background(), tr, vars)
			require.NoError(t, err)
			require.Equal(t, tc.fire, fire)
			if fire {
				require.NotEmpty(t, tv["uri"])
				require.Contains(t, []any{200, 500}, tv["code"])
				require.Contains(t, tv, "body")
				require.Contains(t, tv, "headers")
			}
		})
	}

	d, err := p.Interval(&flow.Trigger{ID: "poll", Type: pHTTPTrigger, Props: map[string]any{"uri": srv.URL}})
	require.NoError(t, err)
	require.Equal(t, time.Minute, d, "Kestra's default")
	d, err = p.Interval(&flow.Trigger{ID: "poll", Type: pHTTPTrigger, Props: map[string]any{"uri": srv.URL, "interval": "PT5S", "stopAfter": []any{"FAILED"}}})
	require.NoError(t, err)
	require.Equal(t, 5*time.Second, d)

	_, _, err = p.Poll(context.Background(), &flow.Trigger{ID: "poll", Type: pHTTPTrigger, Props: map[string]any{"uri": "http://127.0.0.1:1/closed"}}, vars)
	require.Error(t, err, "an unreachable endpoint is an error the scheduler logs")
}

func TestHTTPTriggerChecks(t *testing.T) {
	t.Parallel()
	r := New()
	cases := []struct {
		props map[string]any
		path  string
		msg   string
	}{
		{map[string]any{}, "", `property "uri" is required`},
		{map[string]any{"uri": "http://x", "interval": "PT0.1S"}, "interval", "at least PT1S"},
		{map[string]any{"uri": "http://x", "encryptBody": true}, "encryptBody", "not supported"},
		{map[string]any{"uri": "http://x", "bogus": 1}, "bogus", `unknown property "bogus"`},
	}
	for _, tc := range cases {
		errs := r.CheckTrigger(&flow.Trigger{ID: "poll", Type: pHTTPTrigger, Props: tc.props})
		require.NotEmpty(t, errs, tc.msg)
		require.Equal(t, tc.path, errs[0].Path, tc.msg)
		require.Contains(t, errs[0].Message, tc.msg)
	}
	require.Empty(t, r.CheckTrigger(&flow.Trigger{ID: "poll", Type: pHTTPTrigger, Props: map[string]any{"uri": "http://x", "interval": "PT30S", "conditions": []any{}}}))
}

// oneSecret resolves secret('TOKEN') to its value.
type oneSecret string

func (s oneSecret) Get(_ context.Context, _, key string) (string, error) {
	if key != "TOKEN" {
		return "", fmt.Errorf("secret %q not found", key)
	}
	return string(s), nil
}

// TestHTTPPollerMasksSecrets proves a secret in the request never reaches
// the trigger variables (stored with the execution) nor an error.
func TestHTTPPollerMasksSecrets(t *testing.T) {
	t.Parallel()
	const value = "t0ken-in-the-query"
	srv := echoServer(t)
	p := HTTPPoller{Renderer: &render.Renderer{Expr: expr.New(expr.Options{}), Secrets: oneSecret(value)}}
	vars := map[string]any{"flow": map[string]any{"namespace": "acme", "id": "f"}}

	fire, tv, err := p.Poll(context.Background(), &flow.Trigger{ID: "poll", Type: pHTTPTrigger, Props: map[string]any{
		"uri": srv.URL + "/echo?token={{ secret('TOKEN') }}"}}, vars)
	require.NoError(t, err)
	require.True(t, fire)
	raw, err := json.Marshal(tv)
	require.NoError(t, err)
	require.NotContains(t, string(raw), value, "the URI and the echoed query are masked")
	require.Contains(t, string(raw), "token=******")

	_, _, err = p.Poll(context.Background(), &flow.Trigger{ID: "poll", Type: pHTTPTrigger, Props: map[string]any{
		"uri": "http://127.0.0.1:1/closed?token={{ secret('TOKEN') }}"}}, vars)
	require.Error(t, err)
	require.NotContains(t, err.Error(), value)
}
