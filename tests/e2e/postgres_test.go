package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/pgtest"
	"github.com/ospreyhq/osprey/devkit/testkit"
	"github.com/ospreyhq/osprey/tests/e2e/cluster"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds ./cmd/osprey once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "osprey-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath, buildErr = cluster.Build(context.Background(), dir)
	})
	require.NoError(t, buildErr)
	return binPath
}

// osproc is an osprey process run from the built binary.
type osproc struct {
	cmd  *exec.Cmd
	logs *testkit.SyncBuffer
	done chan struct{} // closed when the process exited
	err  error
}

func spawn(t *testing.T, env []string, args ...string) *osproc {
	t.Helper()
	p := &osproc{logs: &testkit.SyncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary(t), args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = p.logs
	require.NoError(t, p.cmd.Start())
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			t.Errorf("osprey %v did not stop on SIGINT; logs:\n%s", args, p.logs.String())
		}
		if t.Failed() {
			t.Logf("osprey %v logs:\n%s", args, p.logs.String())
		}
	})
	return p
}

const splitFlow = `
id: split
namespace: e2e.pg
inputs:
  - id: who
    type: STRING
tasks:
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: hello
        type: io.kestra.plugin.core.log.Log
        message: "hello {{ inputs.who }}"
      - id: each
        type: io.kestra.plugin.core.flow.ForEach
        values: ["a", "b"]
        tasks:
          - id: item
            type: io.kestra.plugin.core.debug.Return
            format: "{{ taskrun.value }}-{{ inputs.who }}"
outputs:
  - id: last
    type: STRING
    value: "{{ outputs.item.b.value }}"
`

// TestPostgresStandaloneAndSplit runs one flow to SUCCESS with
// `server standalone` on PostgreSQL, then with webserver, executor, worker
// and scheduler as four processes sharing one PostgreSQL database.
func TestPostgresStandaloneAndSplit(t *testing.T) {
	cases := []struct {
		name  string
		roles []string
	}{
		{"standalone", []string{"standalone"}},
		{"split", []string{"webserver", "executor", "worker", "scheduler"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dsn := pgtest.Start(t)
			env := []string{
				"KESTRA_REPOSITORY_TYPE=postgres",
				"DATASOURCES_POSTGRES_URL=" + dsn,
				// every replica seals embedded secrets with one key
				"KESTRA_ENCRYPTION_SECRET_KEY=e2e-test-key-0123456789abcdef0123",
			}
			port := testkit.Port(t)
			var web *osproc
			for _, role := range tc.roles {
				args := []string{"server", role, "--port", strconv.Itoa(port), "--management-port", "0"}
				if role == "worker" {
					args = append(args, "--worker-thread", "4")
				}
				p := spawn(t, env, args...)
				if role == "webserver" || role == "standalone" {
					web = p
				}
			}
			a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
			waitHTTP(t, a, web)
			a.createFlow(splitFlow)
			for i := 0; i < 3; i++ {
				ex := a.run("e2e.pg", "split", map[string]string{"who": "pg" + strconv.Itoa(i)})
				require.Equal(t, "SUCCESS", state(ex), "execution: %v", ex)
				require.Equal(t, map[string]any{"last": "b-pg" + strconv.Itoa(i)}, ex["outputs"])
				require.Len(t, ex["taskRunList"], 5)
				var logs []map[string]any
				a.getJSON("/api/v1/main/logs/"+ex["id"].(string), &logs)
				require.Equal(t, "hello pg"+strconv.Itoa(i), logs[0]["message"])
			}
		})
	}
}

// waitHTTP waits for the API of a spawned process.
func waitHTTP(t *testing.T, a api, p *osproc) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		code, _ := tryGet(a.base + "/api/v1/main/flows/search")
		if code == 200 {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("osprey exited (%v) before serving; logs:\n%s", p.err, p.logs.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("API did not come up; logs:\n%s", p.logs.String())
}

func tryGet(url string) (int, []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := newGet(ctx, url)
	res, err := httpClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return res.StatusCode, b.Bytes()
}
