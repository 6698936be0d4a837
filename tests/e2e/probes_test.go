package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/pgtest"
	"github.com/ospreyhq/osprey/devkit/testkit"
)

// probePaths are the paths the chart probes (and Prometheus scrapes) on
// every role's management port.
var probePaths = []string{"/health", "/health/liveness", "/health/readiness", "/metrics"}

// TestSplitRolesProbes starts webserver, executor, worker and scheduler as
// four processes on one PostgreSQL database, as the chart deploys them, and
// checks that each serves its management port with probes that mean
// something for it:
//   - every probe path answers 200, and /metrics carries the role's own
//     metrics;
//   - a loop wedged on the store (its table locked by another session, so
//     its claim never returns) makes liveness fail within the configured
//     window while readiness, which only needs the store to answer, stays
//     up; releasing the lock brings liveness back;
//   - a process stopped with SIGSTOP fails its liveness probe as the kubelet
//     sees it (no answer within the probe's timeout), and SIGCONT recovers;
//   - a worker told to stop (SIGTERM) while it runs a task fails readiness at
//     once, stays live while the task run finishes, and exits cleanly.
func TestSplitRolesProbes(t *testing.T) {
	dsn := pgtest.Start(t)
	env := []string{
		"KESTRA_REPOSITORY_TYPE=postgres",
		"DATASOURCES_POSTGRES_URL=" + dsn,
		"KESTRA_ENCRYPTION_SECRET_KEY=e2e-test-key-0123456789abcdef0123",
	}
	const window = 3 * time.Second
	type role struct {
		name    string
		port    int
		proc    *osproc
		metrics []string // metric names the role exposes
		table   string   // the table its loop claims from ("": no loop)
	}
	apiPort := testkit.Port(t)
	roles := []*role{
		{name: "webserver", metrics: []string{"osprey_http_requests_total", "go_goroutines"}},
		{name: "executor", metrics: []string{"osprey_executor_executions_claimed_total", "osprey_executor_lease_expiries_total", `osprey_queue_jobs{state="queued"} 0`, "osprey_queue_oldest_job_age_seconds"}, table: "executions"},
		{name: "worker", metrics: []string{"osprey_worker_jobs_claimed_total", "osprey_worker_threads 2", "osprey_worker_jobs_running", "osprey_queue_executions_pending"}, table: "jobs"},
		{name: "scheduler", metrics: []string{"osprey_scheduler_executions_fired_total"}, table: "triggers"},
	}
	for _, r := range roles {
		r.port = testkit.Port(t)
		args := []string{"server", r.name, "--port", strconv.Itoa(apiPort), "--management-port", strconv.Itoa(r.port),
			"--liveness-window", window.String()}
		if r.name == "worker" {
			args = append(args, "--worker-thread", "2")
		}
		r.proc = spawn(t, env, args...)
	}
	waitHTTP(t, api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", apiPort)}, roles[0].proc)

	probe := func(r *role, path string) (int, string) {
		code, body := tryGetWithin(fmt.Sprintf("http://127.0.0.1:%d%s", r.port, path), time.Second)
		return code, string(body)
	}
	waitFor := func(r *role, path string, want int, within time.Duration) time.Duration {
		t.Helper()
		began := time.Now()
		deadline := began.Add(within)
		for {
			code, body := probe(r, path)
			if code == want {
				return time.Since(began)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %s: got %d, want %d within %s: %s\nlogs:\n%s", r.name, path, code, want, within, body, r.proc.logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	for _, r := range roles {
		waitFor(r, "/health", http.StatusOK, 60*time.Second)
		for _, path := range probePaths {
			code, body := probe(r, path)
			require.Equal(t, http.StatusOK, code, "%s %s: %s", r.name, path, body)
		}
		_, body := probe(r, "/metrics")
		for _, m := range r.metrics {
			require.Contains(t, body, m, "%s /metrics", r.name)
		}
	}

	ctx := t.Context()
	for _, r := range roles {
		if r.table == "" {
			continue
		}
		t.Run("wedged "+r.name+" loop", func(t *testing.T) {
			conn, err := pgx.Connect(ctx, dsn)
			require.NoError(t, err)
			defer conn.Close(context.WithoutCancel(ctx))
			tx, err := conn.Begin(ctx)
			require.NoError(t, err)
			_, err = tx.Exec(ctx, "LOCK TABLE "+r.table+" IN ACCESS EXCLUSIVE MODE")
			require.NoError(t, err)
			took := waitFor(r, "/health/liveness", http.StatusServiceUnavailable, window+30*time.Second)
			t.Logf("%s: liveness DOWN %s after its table was locked (window %s)", r.name, took.Round(10*time.Millisecond), window)
			_, body := probe(r, "/health/liveness")
			require.Contains(t, body, "the "+r.name+" loop has not turned")
			code, body := probe(r, "/health/readiness")
			require.Equal(t, http.StatusOK, code, "the store still answers, so %s stays ready: %s", r.name, body)
			require.NoError(t, tx.Rollback(ctx))
			waitFor(r, "/health/liveness", http.StatusOK, 30*time.Second)
		})
	}

	for _, r := range roles {
		t.Run("stopped "+r.name+" process", func(t *testing.T) {
			if runtime.GOOS != "linux" {
				t.Skip("waiting for a stopped process reads /proc, which only Linux has")
			}
			pid := r.proc.cmd.Process.Pid
			require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP))
			resumed := false
			defer func() {
				if !resumed {
					_ = syscall.Kill(pid, syscall.SIGCONT)
				}
			}()
			// kill returns before the process has stopped: wait until the
			// kernel reports it stopped ("T" in /proc/PID/stat).
			deadline := time.Now().Add(10 * time.Second)
			for processState(t, pid) != "T" {
				require.True(t, time.Now().Before(deadline), "%s did not stop", r.name)
				time.Sleep(10 * time.Millisecond)
			}
			// What the kubelet sees: no answer within the probe's timeout.
			code, _ := probe(r, "/health/liveness")
			require.NotEqual(t, http.StatusOK, code, "a stopped %s must fail its liveness probe", r.name)
			require.NoError(t, syscall.Kill(pid, syscall.SIGCONT))
			resumed = true
			waitFor(r, "/health/liveness", http.StatusOK, 30*time.Second)
		})
	}

	// SIGTERM drains: readiness fails at once while the worker finishes the
	// task run it holds, liveness stays up, and the task run still succeeds.
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", apiPort)}
	a.createFlow(drainFlow)
	code, body := a.do(http.MethodPost, "/api/v1/main/executions/e2e.probes/drain", "", nil)
	require.Equal(t, http.StatusOK, code, string(body))
	var ex map[string]any
	require.NoError(t, json.Unmarshal(body, &ex))
	w := roles[2]
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, metrics := probe(w, "/metrics")
		if strings.Contains(metrics, "osprey_worker_jobs_running 1") {
			break
		}
		require.True(t, time.Now().Before(deadline), "the worker never ran the task; logs:\n%s", w.proc.logs.String())
		time.Sleep(50 * time.Millisecond)
	}
	require.NoError(t, w.proc.cmd.Process.Signal(syscall.SIGTERM))
	waitFor(w, "/health/readiness", http.StatusServiceUnavailable, 10*time.Second)
	code, live := probe(w, "/health/liveness")
	require.Equal(t, http.StatusOK, code, "a draining worker is alive: %s", live)
	select {
	case <-w.proc.done:
		require.NoError(t, w.proc.err, "a drained worker exits cleanly")
	case <-time.After(60 * time.Second):
		t.Fatalf("worker did not exit on SIGTERM; logs:\n%s", w.proc.logs.String())
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		var got map[string]any
		a.getJSON("/api/v1/main/executions/"+ex["id"].(string), &got)
		if state(got) == "SUCCESS" {
			break
		}
		require.True(t, time.Now().Before(deadline), "the drained task run did not end in SUCCESS: %v", got)
		time.Sleep(100 * time.Millisecond)
	}
}

// drainFlow holds a worker thread for a few seconds.
const drainFlow = `
id: drain
namespace: e2e.probes
tasks:
  - id: hold
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - sleep 3
`

// processState is the state letter of /proc/PID/stat (R, S, T, …).
func processState(t *testing.T, pid int) string {
	t.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(t, err)
	// The command name is in parentheses and may hold spaces: the state
	// follows the last ')'.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	return strings.Fields(rest)[0]
}

// tryGetWithin is tryGet with the probe's own timeout.
func tryGetWithin(url string, timeout time.Duration) (int, []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := newGet(ctx, url)
	res, err := httpClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body
}
