package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/testkit"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/taskproc"
)

// ospreyProc is osprey running as a process of its own.
type ospreyProc struct {
	cmd  *exec.Cmd
	logs *testkit.SyncBuffer
	done chan struct{}
	code int
}

// ospreyProcess starts the osprey binary with args and environ added to
// this process's environment: the real binary, so that task processes go
// through its own re-exec.
func ospreyProcess(t *testing.T, environ []string, args ...string) *ospreyProc {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), environ...)
	p := &ospreyProc{cmd: cmd, logs: &testkit.SyncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	require.NoError(t, cmd.Start())
	go func() {
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *ospreyProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(60 * time.Second):
		t.Fatalf("osprey did not exit; logs:\n%s", p.logs.String())
		return -1
	}
}

// waitUpProcess polls the API until it answers.
func (a api) waitUpProcess(p *ospreyProc) {
	a.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(a.base + "/api/v1/main/flows/search"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			a.t.Fatalf("osprey exited with %d before serving; logs:\n%s", p.code, p.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	a.t.Fatalf("the API at %s did not come up; logs:\n%s", a.base, p.logs.String())
}

// startExecution starts ns.id without waiting for its end.
func (a api) startExecution(ns, id string) string {
	a.t.Helper()
	code, body := a.do(http.MethodPost, fmt.Sprintf("/api/v1/main/executions/%s/%s", ns, id), "", nil)
	require.Equal(a.t, http.StatusOK, code, string(body))
	var ex map[string]any
	require.NoError(a.t, json.Unmarshal(body, &ex))
	return ex["id"].(string)
}

var pidsLine = regexp.MustCompile(`^pids (\d+) (\d+)$`)

// waitPids waits for the n-th "pids CHILD SHELL" line of an execution's
// log and returns the two pids.
func (a api) waitPids(execID string, n int) []int {
	a.t.Helper()
	var pids []int
	require.Eventually(a.t, func() bool {
		var logs []map[string]any
		code, body := a.do(http.MethodGet, "/api/v1/main/logs/"+execID, "", nil)
		if code != http.StatusOK || json.Unmarshal(body, &logs) != nil {
			return false
		}
		seen := 0
		for _, l := range logs {
			m := pidsLine.FindStringSubmatch(fmt.Sprint(l["message"]))
			if m == nil {
				continue
			}
			if seen++; seen == n {
				c, _ := strconv.Atoi(m[1])
				s, _ := strconv.Atoi(m[2])
				pids = []int{c, s}
				return true
			}
		}
		return false
	}, 60*time.Second, 50*time.Millisecond, "run %d of the task logs its pids", n)
	return pids
}

// processGone waits until no live process has pid.
func processGone(t *testing.T, pid int) {
	t.Helper()
	require.Eventually(t, func() bool {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			return true
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
	}, 15*time.Second, 20*time.Millisecond, "process %d survived", pid)
}

// longTask hangs with a background child until a file named finish
// appears in the directory the server's ENV_MARKS names (which
// osprey.tasks.read-paths lets it read).
const longTask = `
id: long
namespace: e2e.proc
tasks:
  - id: wait
    type: io.kestra.plugin.scripts.shell.Commands
    env:
      MARKS: "{{ envs.marks }}"
    commands:
      - 'if [ -e "$MARKS/finish" ]; then echo finished; exit 0; fi'
      - sleep 300 &
      - echo "pids $! $$"
      - wait
`

// markEnv is the environment of a server running longTask, and the
// directory of its marks.
func markEnv(t *testing.T) ([]string, string) {
	marks := t.TempDir()
	return []string{"ENV_MARKS=" + marks, "OSPREY_TASKS_READ_PATHS=" + marks}, marks
}

// TestWorkerKilledMidTaskLeavesNoOrphan kills a server with SIGKILL while
// a shell task and its background child run: both die with it. The
// server started again runs the task as a second attempt.
func TestWorkerKilledMidTaskLeavesNoOrphan(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	port := testkit.Port(t)
	args := []string{"server", "local", "--data-dir", data, "--port", strconv.Itoa(port), "--management-port", "0"}
	// A short lease, so that the dead worker's job runs again soon.
	env, marks := markEnv(t)
	env = append(env, "OSPREY_WORKER_LEASE=PT2S")
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}

	first := ospreyProcess(t, env, args...)
	a.waitUpProcess(first)
	a.createFlow(longTask)
	id := a.startExecution("e2e.proc", "long")
	pids := a.waitPids(id, 1)
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	first.wait(t)
	for _, pid := range pids {
		processGone(t, pid)
	}

	// Started again, the server runs the task as a second attempt, which
	// ends this time.
	require.NoError(t, os.WriteFile(filepath.Join(marks, "finish"), nil, 0o600))
	second := ospreyProcess(t, env, args...)
	a.waitUpProcess(second)
	var ex map[string]any
	var last string
	require.Eventually(t, func() bool {
		code, body := a.do(http.MethodGet, "/api/v1/main/executions/"+id, "", nil)
		last = fmt.Sprint(code, " ", string(body))
		return code == http.StatusOK && json.Unmarshal(body, &ex) == nil && state(ex) == "SUCCESS"
	}, 60*time.Second, 50*time.Millisecond, "the execution ends after its worker came back: %s\nlogs:\n%s", last, second.logs.String())
	tr := ex["taskRunList"].([]any)[0].(map[string]any)
	attempts := tr["attempts"].([]any)
	require.Len(t, attempts, 2, "the lost run and the second one: %v", attempts)
	require.Equal(t, "RESUBMITTED", state(attempts[0].(map[string]any)))
	require.Equal(t, "SUCCESS", state(attempts[1].(map[string]any)))

	require.NoError(t, second.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, second.wait(t), "logs:\n%s", second.logs.String())
}

// TestShutdownPastGraceHandsTheJobBack stops a server with SIGTERM while
// a task runs past --shutdown-grace: the task's processes die, the job is
// queued again at once (not left RUNNING until its lease runs out) and
// the process exits 0, having closed its store cleanly.
func TestShutdownPastGraceHandsTheJobBack(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	port := testkit.Port(t)
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	env, _ := markEnv(t)
	p := ospreyProcess(t, env, "server", "local", "--data-dir", data, "--port", strconv.Itoa(port), "--management-port", "0", "--shutdown-grace", "200ms")
	a.waitUpProcess(p)
	a.createFlow(longTask)
	id := a.startExecution("e2e.proc", "long")
	pids := a.waitPids(id, 1)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, p.wait(t), "logs:\n%s", p.logs.String())
	require.NotContains(t, p.logs.String(), "database is closed")
	require.Contains(t, p.logs.String(), "job handed back")
	for _, pid := range pids {
		processGone(t, pid)
	}

	st, err := sqlite.Open(t.Context(), filepath.Join(data, "osprey.db"), sqlite.Options{})
	require.NoError(t, err)
	defer st.Close()
	jobs, err := st.Queue().ClaimJobs(t.Context(), "probe", 5, time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 1, "the job is queued again")
	require.Equal(t, id, jobs[0].ExecutionID)
	require.Equal(t, 1, jobs[0].Lost)
	require.Zero(t, jobs[0].Expired)
}

// TestShellTasksDoNotSeeTheServer runs a shell task in a server whose
// environment holds its credentials: the task sees none of them, cannot
// read the data directory, the key file, a configuration file or the
// federated token file, and its working directory is gone afterwards.
func TestShellTasksDoNotSeeTheServer(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	data := filepath.Join(base, "data")
	confFile := filepath.Join(base, "conf", "application.yml")
	token := filepath.Join(base, "tokens", "azure-identity-token")
	for f, content := range map[string]string{confFile: "kestra:\n  tasks:\n    tmp-dir:\n      path: " + filepath.Join(base, "tasks") + "\n", token: "federated-token-value"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(f), 0o700))
		require.NoError(t, os.WriteFile(f, []byte(content), 0o600))
	}
	environ := []string{
		"PATH=" + os.Getenv("PATH"),
		"KESTRA_SERVER_BASIC_AUTH_USERNAME=admin@example.com", "KESTRA_SERVER_BASIC_AUTH_PASSWORD=Admin-pw-1234",
		"KESTRA_ENCRYPTION_SECRET_KEY=encryption-key-0123456789abcdefghijkl",
		"OSPREY_TASKS_READ_PATHS=" + filepath.Dir(confFile), // the configuration's directory is readable: its file is not
		"AZURE_FEDERATED_TOKEN_FILE=" + token, "AZURE_CLIENT_ID=00000000-0000-0000-0000-000000000000",
		"KESTRA_SECRET_TYPE=env", "SECRET_TOKEN=c2VjcmV0LXRva2Vu",
	}
	port := testkit.Port(t)
	p := start(t, environ, "server", "local", "-c", confFile, "--data-dir", data, "--port", strconv.Itoa(port), "--management-port", "0")
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), user: "admin@example.com", pass: "Admin-pw-1234"}
	a.waitUp(p)
	// The files the task tries must be there, or "DENIED" would only mean
	// "missing": the env backend keeps no key file, so one is put where the
	// embedded backend keeps it.
	keyFile := filepath.Join(data, "secrets.key")
	if _, err := os.Stat(keyFile); errors.Is(err, os.ErrNotExist) {
		require.NoError(t, os.WriteFile(keyFile, []byte("key-file-value\n"), 0o600))
	}
	for _, f := range []string{filepath.Join(data, "osprey.db"), keyFile, confFile, token} {
		require.FileExists(t, f)
	}
	a.createFlow(fmt.Sprintf(`
id: peek
namespace: e2e.proc
tasks:
  - id: env
    type: io.kestra.plugin.scripts.shell.Commands
    env: {DECLARED: by-the-task}
    commands:
      - env | sort
      - echo "workdir $PWD"
  - id: read
    type: io.kestra.plugin.scripts.shell.Commands
    allowFailure: true
    commands:
      - for f in %s/osprey.db %s/secrets.key %s %s; do if cat "$f" >/dev/null 2>&1; then echo "READ $f"; else echo "DENIED $f"; fi; done
      - ls %s >/dev/null 2>&1 && echo "LISTED data" || echo "DENIED data"
`, data, data, confFile, token, data))
	ex := a.run("e2e.proc", "peek", nil)
	require.Equal(t, "SUCCESS", state(ex), "%v", ex)
	var logs []map[string]any
	a.getJSON("/api/v1/main/logs/"+ex["id"].(string), &logs)
	var all strings.Builder
	workdir := ""
	for _, l := range logs {
		msg := fmt.Sprint(l["message"])
		all.WriteString(msg + "\n")
		if w, ok := strings.CutPrefix(msg, "workdir "); ok {
			workdir = w
		}
	}
	out := all.String()
	for _, leak := range []string{"KESTRA_", "OSPREY_", "AZURE_", "SECRET_", "Admin-pw-1234", "encryption-key-0123456789", "c2VjcmV0LXRva2Vu"} {
		require.NotContains(t, out, leak)
	}
	require.Contains(t, out, "DECLARED=by-the-task")
	require.Contains(t, out, "HOME="+workdir)
	require.NotEmpty(t, workdir)
	require.True(t, strings.HasPrefix(workdir, filepath.Join(base, "tasks")), "the work dir %s is under kestra.tasks.tmp-dir.path", workdir)
	require.NoDirExists(t, workdir, "the working directory is removed after the task run")

	if abi, err := taskproc.ABI(); abi < 1 {
		t.Skipf("this kernel cannot confine task processes (%v): the file checks need Landlock", err)
	}
	for _, f := range []string{filepath.Join(data, "osprey.db"), filepath.Join(data, "secrets.key"), confFile, token} {
		require.Contains(t, out, "DENIED "+f)
	}
	require.Contains(t, out, "DENIED data")
	require.NotContains(t, out, "READ ")
}
