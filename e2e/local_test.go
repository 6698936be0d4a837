package e2e

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

const helloFlow = `
id: hello
namespace: company.team
inputs:
  - id: name
    type: STRING
    defaults: world
tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    message: "Hello, {{ inputs.name }}!"
  - id: answer
    type: io.kestra.plugin.core.debug.Return
    format: "{{ flow.namespace }}/{{ flow.id }} greeted {{ inputs.name }}"
`

// TestLocalTourAndRestart follows the README's tour against `server local`,
// then stops and starts Osprey on the same data directory and finds the
// flow, the execution and its logs again.
func TestLocalTourAndRestart(t *testing.T) {
	dir := t.TempDir()
	port, mport := freePort(t), freePort(t)
	args := []string{"server", "local", "--data-dir", dir, "--port", strconv.Itoa(port), "--management-port", strconv.Itoa(mport)}
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}

	p := start(t, nil, args...)
	a.waitUp(p)
	a.createFlow(helloFlow)
	ex := a.run("company.team", "hello", map[string]string{"name": "Osprey"})
	require.Equal(t, "SUCCESS", state(ex))
	id := ex["id"].(string)
	var logs []map[string]any
	a.getJSON("/api/v1/main/logs/"+id, &logs)
	require.Len(t, logs, 1)
	require.Equal(t, "Hello, Osprey!", logs[0]["message"])
	runs := ex["taskRunList"].([]any)
	require.Len(t, runs, 2)
	require.Equal(t, "company.team/hello greeted Osprey", runs[1].(map[string]any)["outputs"].(map[string]any)["value"])
	require.Equal(t, 0, p.stop(t), p.logs.String())

	p2 := start(t, nil, args...)
	a.waitUp(p2)
	var again map[string]any
	a.getJSON("/api/v1/main/executions/"+id, &again)
	require.Equal(t, "SUCCESS", state(again))
	a.getJSON("/api/v1/main/logs/"+id, &logs)
	require.Equal(t, "Hello, Osprey!", logs[0]["message"])
	var f map[string]any
	a.getJSON("/api/v1/main/flows/company.team/hello", &f)
	require.Equal(t, "hello", f["id"])
	// and the flow still runs, with its default input
	ex = a.run("company.team", "hello", nil)
	require.Equal(t, "SUCCESS", state(ex))
}
