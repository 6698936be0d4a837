package flow_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
)

func TestPluginDefaults(t *testing.T) {
	t.Parallel()
	src := `id: d
namespace: a
pluginDefaults:
  - type: io.kestra.plugin.core.log.Log
    values:
      level: WARN
      message: from defaults
      retry: {type: constant, interval: PT1S, maxAttempt: 2}
  - type: io.kestra.plugin.core.debug
    forced: true
    values:
      format: forced
taskDefaults:
  - type: io.kestra.plugin.core.log.Log
    values:
      logLevel: INFO
tasks:
  - id: l
    type: io.kestra.plugin.core.log.Log
    message: mine
  - id: l2
    type: io.kestra.plugin.core.log.Log
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: ignored
`
	f, err := flow.Parse([]byte(src), flow.ParseOptions{})
	require.NoError(t, err)
	l, l2, r := f.FindTask("l"), f.FindTask("l2"), f.FindTask("r")
	require.Equal(t, "mine", l.Props["message"], "a task's own value wins")
	require.Equal(t, "WARN", l.Props["level"])
	require.Equal(t, "from defaults", l2.Props["message"], "a missing property comes from defaults")
	require.Equal(t, "constant", l2.Retry["type"], "common properties come from defaults too")
	require.Equal(t, "INFO", l.LogLevel, "taskDefaults is the legacy name")
	require.Equal(t, "forced", r.Props["format"], "a forced default wins, and a prefix type matches")
}
