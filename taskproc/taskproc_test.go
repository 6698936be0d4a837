package taskproc_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/taskproc"
)

// needLandlock skips a confinement check on a kernel without Landlock,
// saying so.
func needLandlock(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("confinement is Linux's Landlock")
	}
	if abi, err := taskproc.ABI(); abi < 1 {
		t.Skipf("this kernel cannot confine task processes: %v", err)
	}
}

func run(t *testing.T, r *taskproc.Runner, dir, script string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := r.Run(t.Context(), taskproc.Spec{Argv: []string{"sh", "-c", script}, Dir: dir, Stdout: &out, Stderr: &out, WaitDelay: time.Second})
	return out.String(), err
}

func TestEnvironmentIsTheAllowList(t *testing.T) {
	t.Parallel()
	host := []string{
		"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "LC_TIME=fr_FR.UTF-8", "TZ=Europe/Paris",
		"KESTRA_SERVER_BASIC_AUTH_PASSWORD=admin-pw", "KESTRA_ENCRYPTION_SECRET_KEY=enc-key",
		"OSPREY_DATA_DIR=/data", "AZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/tokens/azure-identity-token",
		"AZURE_CLIENT_ID=0000", "SECRET_DB=c2VjcmV0", "ENV_GREETING=hello", "HOME=/root", "TMPDIR=/tmp",
	}
	dir := t.TempDir()
	r := &taskproc.Runner{Environ: host}
	out, err := run(t, r, dir, "env")
	require.NoError(t, err)
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(l, "=")
		got[k] = v
	}
	delete(got, "PWD") // the shell's own
	delete(got, "SHLVL")
	delete(got, "_")
	require.Equal(t, map[string]string{
		"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_TIME": "fr_FR.UTF-8", "TZ": "Europe/Paris",
		"HOME": dir, "TMPDIR": filepath.Join(dir, ".tmp"),
	}, got)
	require.NotContains(t, out, "admin-pw")
	require.NotContains(t, out, "c2VjcmV0")
}

func TestDeclaredVariablesWin(t *testing.T) {
	t.Parallel()
	r := &taskproc.Runner{Environ: []string{"PATH=/usr/bin:/bin", "KESTRA_X=no"}}
	var out bytes.Buffer
	err := r.Run(t.Context(), taskproc.Spec{Argv: []string{"sh", "-c", `echo "$GREETING $HOME $KESTRA_X"`}, Dir: t.TempDir(),
		Env: []string{"GREETING=hi", "HOME=/elsewhere"}, Stdout: &out})
	require.NoError(t, err)
	require.Equal(t, "hi /elsewhere \n", out.String())
}

func TestExitStatusAndSignal(t *testing.T) {
	t.Parallel()
	r := &taskproc.Runner{}
	_, err := run(t, r, t.TempDir(), "exit 3")
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 3, ee.ExitCode())

	_, err = run(t, r, t.TempDir(), "kill -TERM $$")
	require.ErrorAs(t, err, &ee)
	ws := ee.Sys().(syscall.WaitStatus)
	require.True(t, ws.Signaled(), "ended by a signal: %v", err)
	require.Equal(t, syscall.SIGTERM, ws.Signal())

	_, err = run(t, r, t.TempDir(), "definitely-not-a-command-osprey")
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 127, ee.ExitCode())
}

// TestConfinement checks that a task cannot read what the server keeps:
// its data directory, key file, configuration file (even beneath a
// directory tasks may read), the federated token file, or the worker's
// environment through /proc.
func TestConfinement(t *testing.T) {
	t.Parallel()
	needLandlock(t)
	require.NoError(t, taskproc.HardenWorker())
	base := t.TempDir()
	data := filepath.Join(base, "data")
	conf := filepath.Join(base, "etc")
	tools := filepath.Join(base, "tools")
	token := filepath.Join(base, "secrets", "azure-identity-token")
	for _, f := range []string{filepath.Join(data, "osprey.db"), filepath.Join(data, "secrets.key"), filepath.Join(conf, "application.yml"),
		filepath.Join(conf, "other.conf"), token, filepath.Join(tools, "tool.txt")} {
		require.NoError(t, os.MkdirAll(filepath.Dir(f), 0o700))
		require.NoError(t, os.WriteFile(f, []byte("server-only "+filepath.Base(f)), 0o600))
	}
	// A process of the same user, as a concurrent task would be.
	sibling := exec.Command("sleep", "300")
	sibling.Env = []string{"SIBLING_SECRET=server-only sibling"}
	require.NoError(t, sibling.Start())
	t.Cleanup(func() { _ = sibling.Process.Kill(); _ = sibling.Wait() })
	siblingProc := "/proc/" + strconv.Itoa(sibling.Process.Pid)
	r := &taskproc.Runner{Policy: taskproc.Policy{
		Read: []string{conf, tools},
		Deny: []string{data, filepath.Join(conf, "application.yml"), token},
	}}
	work := filepath.Join(base, "work")
	tests := []struct {
		name, script string
		wantOK       bool
	}{
		{"the data directory", "cat " + filepath.Join(data, "osprey.db"), false},
		{"the key file", "cat " + filepath.Join(data, "secrets.key"), false},
		{"list the data directory", "ls " + data, false},
		{"the configuration file beneath a readable directory", "cat " + filepath.Join(conf, "application.yml"), false},
		{"the token file", "cat " + token, false},
		{"the worker's environment", "cat /proc/" + strconv.Itoa(os.Getpid()) + "/environ", false},
		{"/etc/shadow", "cat /etc/shadow", false},
		{"another process's environment", "cat " + siblingProc + "/environ", false},
		{"another process's command line", "cat " + siblingProc + "/cmdline", false},
		{"system-wide /proc entries", "grep -q . /proc/cpuinfo && grep -q MemTotal /proc/meminfo", true},
		{"outside the working directory", "echo x > " + filepath.Join(base, "dropped"), false},
		{"a sibling of a denied file", "cat " + filepath.Join(conf, "other.conf"), true},
		{"a directory the policy grants", "cat " + filepath.Join(tools, "tool.txt"), true},
		{"system files", "cat /etc/passwd >/dev/null && ls /usr/bin >/dev/null", true},
		{"its own working directory", "echo x > f && cat f && mkdir -p d/e && mv f d/e/g && rm -r d", true},
		{"its TMPDIR", `echo x > "$TMPDIR/t" && cat "$TMPDIR/t"`, true},
		{"/dev/null", "echo x > /dev/null", true},
	}
	for _, tt := range tests {
		out, err := run(t, r, work, tt.script)
		if tt.wantOK {
			require.NoError(t, err, "%s: %s", tt.name, out)
		} else {
			require.Error(t, err, "%s: the task could: %s", tt.name, out)
			require.NotContains(t, out, "server-only", tt.name)
		}
	}
	require.NoFileExists(t, filepath.Join(base, "dropped"))

	// A task's own PATH grants nothing: only the worker's PATH directories
	// are readable, so PATH=/ or PATH=<a server directory> opens no file.
	private := filepath.Join(base, "private", "notes.txt")
	require.NoError(t, os.MkdirAll(filepath.Dir(private), 0o700))
	require.NoError(t, os.WriteFile(private, []byte("server-only notes"), 0o600))
	for _, path := range []string{"/", base, filepath.Dir(private) + ":/usr/bin:/bin"} {
		var out bytes.Buffer
		err := r.Run(t.Context(), taskproc.Spec{
			Argv: []string{"/bin/sh", "-c", "/bin/cat " + private + "; /bin/cat " + filepath.Join(data, "secrets.key")},
			Dir:  work, Env: []string{"PATH=" + path}, Stdout: &out, Stderr: &out, WaitDelay: time.Second,
		})
		require.Error(t, err, "PATH=%s: %s", path, out.String())
		require.NotContains(t, out.String(), "server-only", "PATH=%s", path)
		require.Contains(t, out.String(), "Permission denied", "PATH=%s", path)
	}
}

// TestKillEndsEveryDescendant cancels a task whose shell waits on a
// background child and checks that both are gone.
func TestKillEndsEveryDescendant(t *testing.T) {
	t.Parallel()
	r := &taskproc.Runner{}
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		done <- r.Run(ctx, taskproc.Spec{Argv: []string{"sh", "-c", "sleep 300 & echo $! $$; wait"}, Dir: t.TempDir(), Stdout: pw, WaitDelay: time.Second})
		pw.Close()
	}()
	pids := readPids(t, pr)
	cancel()
	select {
	case err := <-done:
		require.Error(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
	for _, pid := range pids {
		waitGone(t, pid)
	}
}

// TestProcessEndsItsGroup checks that what a task leaves running in the
// background does not outlive it.
func TestProcessEndsItsGroup(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := &taskproc.Runner{}
	err := r.Run(t.Context(), taskproc.Spec{Argv: []string{"sh", "-c", "sleep 300 >/dev/null 2>&1 & echo $!"}, Dir: t.TempDir(), Stdout: &out})
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
	require.NoError(t, err)
	waitGone(t, pid)
}

// TestWorkerDeathEndsTheTask starts this test binary as a worker that
// runs a task, kills the worker with SIGKILL, and checks that the task
// and its background child died with it.
func TestWorkerDeathEndsTheTask(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux's")
	}
	worker := exec.Command(os.Args[0], "-test.run=^TestHelperWorker$")
	worker.Env = append(os.Environ(), "OSPREY_TASKPROC_TEST_WORKER="+t.TempDir())
	out, err := worker.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, worker.Start())
	pids := readPids(t, out)
	require.NoError(t, worker.Process.Kill())
	_ = worker.Wait()
	for _, pid := range pids {
		waitGone(t, pid)
	}
}

// TestHelperWorker is the worker TestWorkerDeathEndsTheTask kills.
func TestHelperWorker(t *testing.T) {
	dir := os.Getenv("OSPREY_TASKPROC_TEST_WORKER")
	if dir == "" {
		t.Skip("run by TestWorkerDeathEndsTheTask")
	}
	r := &taskproc.Runner{}
	_ = r.Run(context.Background(), taskproc.Spec{Argv: []string{"sh", "-c", "sleep 300 & echo $! $$; wait"}, Dir: dir, Stdout: os.Stdout})
}

func readPids(t *testing.T, r interface{ Read([]byte) (int, error) }) []int {
	t.Helper()
	buf := make([]byte, 128)
	var line []byte
	for !bytes.Contains(line, []byte("\n")) {
		n, err := r.Read(buf)
		require.NoError(t, err)
		line = append(line, buf[:n]...)
	}
	var pids []int
	for _, f := range strings.Fields(string(line)) {
		pid, err := strconv.Atoi(f)
		require.NoError(t, err)
		pids = append(pids, pid)
	}
	require.Len(t, pids, 2)
	return pids
}

// waitGone polls until no live process has pid.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	require.Eventually(t, func() bool { return !alive(pid) }, 10*time.Second, 20*time.Millisecond, "process %d survived", pid)
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// TestProgramOutsideTheReadableDirectories names the setting that allows
// it.
func TestProgramOutsideTheReadableDirectories(t *testing.T) {
	t.Parallel()
	needLandlock(t)
	tool := filepath.Join(t.TempDir(), "tool")
	require.NoError(t, os.WriteFile(tool, []byte("#!/bin/sh\necho ran\n"), 0o700))
	var out bytes.Buffer
	err := (&taskproc.Runner{}).Run(t.Context(), taskproc.Spec{Argv: []string{tool}, Dir: t.TempDir(), Stdout: &out, Stderr: &out})
	require.Error(t, err)
	require.Contains(t, out.String(), "add its directory to osprey.tasks.read-paths")
	out.Reset()
	err = (&taskproc.Runner{Policy: taskproc.Policy{Read: []string{filepath.Dir(tool)}}}).Run(t.Context(),
		taskproc.Spec{Argv: []string{tool}, Dir: t.TempDir(), Stdout: &out, Stderr: &out})
	require.NoError(t, err, out.String())
	require.Equal(t, "ran\n", out.String())
}

// TestRelativeDenyPaths checks that a relative path (the default data
// directory is ./data) names the worker's directory, not the task's.
func TestRelativeDenyPaths(t *testing.T) {
	needLandlock(t)
	base := t.TempDir()
	t.Chdir(base)
	key := filepath.Join(base, "data", "secrets.key")
	require.NoError(t, os.MkdirAll(filepath.Dir(key), 0o700))
	require.NoError(t, os.WriteFile(key, []byte("server-only key"), 0o600))
	r := &taskproc.Runner{Policy: taskproc.Policy{Read: []string{base}, Deny: []string{"data"}}}
	out, err := run(t, r, "work", "cat "+key)
	require.Error(t, err, "the task read the key: %s", out)
	require.NotContains(t, out, "server-only")
	out, err = run(t, r, "work", "pwd")
	require.NoError(t, err)
	require.Equal(t, filepath.Join(base, "work")+"\n", out, "a relative working directory is the worker's too")
}

// BenchmarkRun measures one task process: the helper's re-exec, the
// Landlock ruleset and `sh -c true`.
func BenchmarkRun(b *testing.B) {
	r := &taskproc.Runner{}
	dir := b.TempDir()
	for b.Loop() {
		if err := r.Run(b.Context(), taskproc.Spec{Argv: []string{"sh", "-c", "true"}, Dir: dir}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReusedRunnerDeniesLaterFiles: a worker's Runner plans its rules
// once; a denied file created after the first task ran, beneath a readable
// directory, stays unreadable to the next, and a file added there later
// is readable.
func TestReusedRunnerDeniesLaterFiles(t *testing.T) {
	needLandlock(t)
	t.Parallel()
	base := t.TempDir()
	key := filepath.Join(base, "data", "secrets.key")
	r := &taskproc.Runner{Policy: taskproc.Policy{Read: []string{base}, Deny: []string{filepath.Dir(key)}}}
	out, err := run(t, r, t.TempDir(), "ls "+base)
	require.NoError(t, err, out)
	require.NoError(t, os.MkdirAll(filepath.Dir(key), 0o700))
	require.NoError(t, os.WriteFile(key, []byte("server-only key"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(base, "tool.txt"), []byte("shared tool"), 0o600))
	out, err = run(t, r, t.TempDir(), "cat "+key)
	require.Error(t, err, "the task read the key: %s", out)
	require.NotContains(t, out, "server-only")
	out, err = run(t, r, t.TempDir(), "cat "+filepath.Join(base, "tool.txt"))
	require.NoError(t, err, out)
	require.Equal(t, "shared tool", out)
}
