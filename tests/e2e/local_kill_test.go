package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/testkit"
)

const killedTwoTasks = `id: two
namespace: e2e.kill
tasks:
  - id: out
    type: io.kestra.plugin.core.output.OutputValues
    values:
      v: hello
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.out.values.v }}"
`

// TestLocalKilledLosesNothingAcknowledged kills `server local` with
// SIGKILL while clients start executions as fast as it answers (its
// SQLite writer commits them in groups): every execution whose start was
// answered is there when the server comes back, and runs to its end.
func TestLocalKilledLosesNothingAcknowledged(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	port := testkit.Port(t)
	args := []string{"server", "local", "--data-dir", data, "--port", strconv.Itoa(port), "--management-port", "0"}
	env := []string{"OSPREY_WORKER_LEASE=PT2S"}
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}

	first := ospreyProcess(t, env, args...)
	a.waitUpProcess(first)
	a.createFlow(killedTwoTasks)

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				select {
				case <-stop:
					return
				default:
				}
				res, err := client.Post(a.base+"/api/v1/main/executions/e2e.kill/two", "", nil)
				if err != nil {
					return // the server is gone
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				var ex map[string]any
				if err != nil || res.StatusCode != http.StatusOK || json.Unmarshal(body, &ex) != nil {
					return
				}
				mu.Lock()
				acked = append(acked, ex["id"].(string))
				mu.Unlock()
			}
		}()
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 200
	}, 60*time.Second, 5*time.Millisecond, "the server answers starts; logs:\n%s", first.logs.String())
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	first.wait(t)
	close(stop)
	wg.Wait()

	second := ospreyProcess(t, env, args...)
	a.waitUpProcess(second)
	t.Logf("%d starts answered before the kill", len(acked))
	for _, id := range acked {
		code, body := a.do(http.MethodGet, "/api/v1/main/executions/"+id, "", nil)
		require.Equal(t, http.StatusOK, code, "execution %s was answered, then lost: %s", id, body)
	}
	// Executions the killed executor had claimed wait for its lease (30 s)
	// to run out; then every one ends.
	for _, id := range acked {
		var last string
		require.Eventually(t, func() bool {
			code, body := a.do(http.MethodGet, "/api/v1/main/executions/"+id, "", nil)
			var ex map[string]any
			last = fmt.Sprint(code, " ", string(body))
			return code == http.StatusOK && json.Unmarshal(body, &ex) == nil && state(ex) == "SUCCESS"
		}, 120*time.Second, 50*time.Millisecond, "execution %s ends: %s\nlogs:\n%s", id, last, second.logs.String())
	}
	require.NoError(t, second.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, second.wait(t), "logs:\n%s", second.logs.String())
}
