package cli

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
)

// TestToggleTask: core.trigger.Toggle (and its legacy name) disables and
// enables another flow's trigger, as Kestra's ToggleTest does through the
// trigger repository; an unknown trigger fails the task.
func TestToggleTask(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: hourly
namespace: acme
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
  - id: schedule
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 * * * *"
`, `
id: switch-off
namespace: acme
tasks:
  - id: off
    type: io.kestra.plugin.core.trigger.Toggle
    flowId: hourly
    trigger: schedule
`, `
id: switch-on
namespace: acme
tasks:
  - id: on
    type: io.kestra.core.tasks.trigger.Toggle
    namespace: "{{ flow.namespace }}"
    flowId: hourly
    trigger: schedule
    enabled: true
`, `
id: switch-typo
namespace: acme
tasks:
  - id: typo
    type: io.kestra.plugin.core.trigger.Toggle
    flowId: hourly
    trigger: shedule
`)
	disabled := func() bool {
		t.Helper()
		code, body, err := sys.HTTP(ctx, http.MethodGet, "/api/v1/main/triggers/acme/hourly", "", nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code, string(body))
		var page struct {
			Results []struct {
				State struct {
					Disabled bool `json:"disabled"`
				} `json:"state"`
			} `json:"results"`
		}
		require.NoError(t, json.Unmarshal(body, &page))
		require.Len(t, page.Results, 1)
		return page.Results[0].State.Disabled
	}
	require.False(t, disabled())
	require.Equal(t, flow.StateSuccess, sys.runToEnd(t, "acme", "switch-off").State.Current)
	require.True(t, disabled())
	require.Equal(t, flow.StateSuccess, sys.runToEnd(t, "acme", "switch-on").State.Current)
	require.False(t, disabled())

	ex := sys.runToEnd(t, "acme", "switch-typo")
	require.Equal(t, flow.StateFailed, ex.State.Current)
	require.Contains(t, ex.TaskRunList[0].Error, "Unable to find trigger shedule for the flow acme.hourly")
}
