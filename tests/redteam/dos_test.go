package redteam

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// memoryBudget is the peak resident memory the server may reach while it
// is fed every denial-of-service input below.
const memoryBudget = 512 << 20

// TestDenialOfService sends each input that once took the server down,
// while ordinary executions run, and checks that each ends in a clear 4xx
// or a failed task, that the ordinary executions finish, and that the
// server process's peak RSS (VmHWM) stays under memoryBudget.
func TestDenialOfService(t *testing.T) {
	t.Parallel()
	s := startServer(t, []string{"OSPREY_LIMITS_JQ_MEMORY_MB=64", "OSPREY_LIMITS_LOOP_ITEMS=1000"})
	base := s.peakRSS()
	s.createFlow("id: ordinary\nnamespace: dos\ntasks:\n  - {id: a, type: io.kestra.plugin.core.log.Log, message: fine}\n  - {id: b, type: io.kestra.plugin.core.debug.Return, format: \"{{ range(1, 100) | length }}\"}\n")
	s.createFlow("id: jqbomb\nnamespace: dos\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{ '{}' | jq('[range(1e9)]') | length }}\"\n")
	s.createFlow("id: wide\nnamespace: dos\ntasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n    values: \"{{ range(1, 100000) }}\"\n    tasks:\n      - {id: t, type: io.kestra.plugin.core.log.Log, message: x}\n")
	s.createFlow("id: loops\nnamespace: dos\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{% for i in range(1, 100000) %}{% for j in range(1, 100000) %}{% endfor %}{% endfor %}\"\n")

	var wg sync.WaitGroup
	ordinary := make([]string, 6)
	for i := range ordinary {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, body := s.do("POST", "/api/v1/main/executions/dos/ordinary?wait=true", "", "")
			var ex map[string]any
			if json.Unmarshal([]byte(body), &ex) == nil {
				ordinary[i], _ = ex["id"].(string)
			}
		}()
	}

	bomb := strings.Repeat("[", 200_000)
	for _, path := range []string{"/api/v1/main/flows", "/api/v1/main/flows/validate"} {
		start := time.Now()
		code, body := s.do("POST", path, "application/x-yaml", bomb)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%s: %s", path, body)
		require.Contains(t, body, "nesting deeper than 256 levels", path)
		t.Logf("%s answered %d in %s", path, code, time.Since(start))
	}
	for _, c := range []struct{ flow, msg string }{
		{"jqbomb", "allocated more than 64 MiB (the expression memory budget)"},
		{"wide", "loop values exceed osprey.limits.loop-items (1000)"},
		{"loops", "loop iterations"},
	} {
		id := s.run("dos", c.flow)
		ex := s.execution(id)
		require.Equal(t, "FAILED", state(ex), c.flow)
		_, logs := s.do("GET", "/api/v1/main/logs/"+id, "", "")
		require.Contains(t, mustJSON(ex)+logs, c.msg, c.flow)
	}
	wg.Wait()
	for _, id := range ordinary {
		require.NotEmpty(t, id)
		require.Equal(t, "SUCCESS", state(s.execution(id)), "an ordinary execution finishes beside the attacks")
	}
	peak := s.peakRSS()
	t.Logf("peak RSS: %d MiB at start, %d MiB after the attacks (budget %d MiB)", base>>20, peak>>20, memoryBudget>>20)
	require.Less(t, peak, int64(memoryBudget), "the server stays within its memory budget")
}
