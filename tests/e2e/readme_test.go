package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/testkit"
)

// tourCommands returns the curl commands of the README's tour, in order.
func tourCommands(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, tour, ok := strings.Cut(string(raw), "## A two-minute tour")
	require.True(t, ok, "README has no tour section")
	_, block, ok := strings.Cut(tour, "```sh\n")
	require.True(t, ok)
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)
	var cmds []string
	var cur strings.Builder
	inQuote := false
	for _, line := range strings.Split(block, "\n") {
		if !inQuote && (strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "") {
			if cur.Len() > 0 {
				cmds = append(cmds, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteString(line + "\n")
		if strings.Count(line, "'")%2 == 1 {
			inQuote = !inQuote
		}
	}
	if cur.Len() > 0 {
		cmds = append(cmds, cur.String())
	}
	return cmds
}

// TestReadmeTour runs the README's curl commands verbatim (only the host
// and the execution id substituted) against `server local`.
func TestReadmeTour(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("the README tour needs curl: %v", err)
	}
	cmds := tourCommands(t)
	require.Len(t, cmds, 3, "the tour has three steps: create, run, logs")
	port := testkit.Port(t)
	p := start(t, nil, "server", "local", "--data-dir", t.TempDir(), "--port", strconv.Itoa(port), "--management-port", "0")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	api{t: t, base: base}.waitUp(p)
	run := func(cmd string) []byte {
		cmd = strings.ReplaceAll(cmd, "http://localhost:8080", base)
		out, err := exec.Command("bash", "-c", "set -euo pipefail\n"+cmd).CombinedOutput()
		require.NoError(t, err, "%s\n%s", cmd, out)
		return out
	}
	var flow map[string]any
	require.NoError(t, json.Unmarshal(run(cmds[0]), &flow))
	require.Equal(t, "hello", flow["id"])
	var ex map[string]any
	require.NoError(t, json.Unmarshal(run(cmds[1]), &ex))
	require.Equal(t, "SUCCESS", state(ex))
	id := ex["id"].(string)
	var logs []map[string]any
	require.NoError(t, json.Unmarshal(run(strings.ReplaceAll(cmds[2], "EXECUTION_ID", id)), &logs))
	require.Len(t, logs, 1)
	require.Equal(t, "Hello, Osprey!", logs[0]["message"])
}
