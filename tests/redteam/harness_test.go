package redteam

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/cli"
	"github.com/ospreyhq/osprey/devkit/testkit"
)

// serverEnv names the variable that turns the test binary into the
// server: it holds the command's arguments as JSON.
const serverEnv = "OSPREY_REDTEAM_SERVER"

func TestMain(m *testing.M) {
	if raw := os.Getenv(serverEnv); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			fmt.Fprintln(os.Stderr, "bad", serverEnv, err)
			os.Exit(2)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		var environ []string
		for _, e := range os.Environ() {
			if !strings.HasPrefix(e, serverEnv+"=") {
				environ = append(environ, e)
			}
		}
		code := cli.Main(ctx, args, os.Stdin, os.Stdout, os.Stderr, environ)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// server is `osprey server local` in a process of its own.
type server struct {
	t       *testing.T
	cmd     *exec.Cmd
	out     *testkit.SyncBuffer
	base    string
	dataDir string
	user    string
	pass    string

	mu        sync.Mutex
	responses []string // every API response body, for the scan
}

// startServer runs the server with env (besides PATH and a HOME of its
// own) and waits until the API answers. The server binds a port of its own
// choosing and the test reads it from its log: a port picked here and
// released could be taken by another package's server first, and this
// test would then read that server's answers as its own (a read its
// configuration denies ending SUCCESS). The management port is off: no
// test here uses it, and it would be a second port to race for.
func startServer(t *testing.T, env []string, extra ...string) *server {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"server", "local", "--data-dir", filepath.Join(dir, "data"),
		"--port", "0", "--shutdown-grace", "2s"}, extra...)
	raw, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append([]string{serverEnv + "=" + string(raw), "PATH=" + os.Getenv("PATH"), "HOME=" + dir, "ENDPOINTS_ALL_PORT=0"}, env...)
	out := &testkit.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	s := &server{t: t, cmd: cmd, out: out, dataDir: filepath.Join(dir, "data")}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	s.await(exited)
	return s
}

// await finds where the server's API listens, from its log, and waits
// until it answers; exited closes if the server ends first.
func (s *server) await(exited <-chan struct{}) {
	s.t.Helper()
	addr, err := testkit.APIAddr(s.out, exited, 60*time.Second)
	if err != nil {
		s.t.Fatalf("osprey: %v:\n%s", err, s.out.String())
	}
	s.base = "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			s.t.Fatalf("osprey exited before serving:\n%s", s.out.String())
		default:
		}
		if res, err := http.Get(s.base + "/api/v1/main/flows/search"); err == nil {
			res.Body.Close()
			if res.StatusCode < 500 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("osprey did not come up:\n%s", s.out.String())
}

// startInProcess runs the server in this process with env (the Azure
// transport of the emulator, for the Key Vault group), and waits until the
// API answers (on a port the server picked, as startServer's).
func startInProcess(t *testing.T, env *cli.Env, configFile string) *server {
	t.Helper()
	dir := t.TempDir()
	out := &testkit.SyncBuffer{}
	env.Stdin, env.Stdout, env.Stderr = strings.NewReader(""), out, out
	env.Environ = append(env.Environ, "ENDPOINTS_ALL_PORT=0")
	ctx, cancel := context.WithCancel(context.Background())
	done, exited := make(chan int, 1), make(chan struct{})
	go func() {
		done <- cli.Run(ctx, env, []string{"-c", configFile, "server", "local", "--data-dir", filepath.Join(dir, "data"),
			"--port", "0", "--shutdown-grace", "2s"})
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			t.Error("osprey did not stop")
		}
	})
	s := &server{t: t, out: out, dataDir: filepath.Join(dir, "data")}
	s.await(exited)
	return s
}

// peakRSS is the server process's peak resident set (VmHWM), in bytes.
func (s *server) peakRSS() int64 {
	s.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	require.NoError(s.t, err)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			require.NoError(s.t, err)
			return kb << 10
		}
	}
	s.t.Fatal("no VmHWM in /proc status")
	return 0
}

var client = &http.Client{Timeout: 60 * time.Second}

// do calls the API and keeps the response body for the scan.
func (s *server) do(method, path, contentType, body string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	require.NoError(s.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if s.user != "" {
		req.SetBasicAuth(s.user, s.pass)
	}
	res, err := client.Do(req)
	require.NoError(s.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	s.keep(string(b))
	return res.StatusCode, string(b)
}

func (s *server) keep(b string) {
	s.mu.Lock()
	s.responses = append(s.responses, b)
	s.mu.Unlock()
}

// sse reads a follow stream until the server closes it or a few seconds
// pass (an ended execution's stream sends what there is and ends).
func (s *server) sse(path string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	require.NoError(s.t, err)
	req.Header.Set("Accept", "text/event-stream")
	if s.user != "" {
		req.SetBasicAuth(s.user, s.pass)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body) // a timeout ends the read; what came is kept
	s.keep(string(b))
	return string(b)
}

func (s *server) createFlow(src string) {
	s.t.Helper()
	code, out := s.do("POST", "/api/v1/main/flows", "application/x-yaml", src)
	require.Equal(s.t, http.StatusOK, code, "%s\n%s", out, src)
}

// run starts an execution and waits for its end; it returns the id.
func (s *server) run(ns, id string) string {
	s.t.Helper()
	code, out := s.do("POST", "/api/v1/main/executions/"+ns+"/"+id+"?wait=true", "", "")
	require.Equal(s.t, http.StatusOK, code, out)
	var ex map[string]any
	require.NoError(s.t, json.Unmarshal([]byte(out), &ex))
	return ex["id"].(string)
}

// execution returns the stored execution.
func (s *server) execution(id string) map[string]any {
	s.t.Helper()
	code, out := s.do("GET", "/api/v1/main/executions/"+id, "", "")
	require.Equal(s.t, http.StatusOK, code, out)
	var ex map[string]any
	require.NoError(s.t, json.Unmarshal([]byte(out), &ex))
	return ex
}

// executionsOf lists the executions of a flow, waiting until count of
// them have ended.
func (s *server) executionsOf(ns, flowID string, count int) []map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, out := s.do("GET", "/api/v1/main/executions/search?namespace="+ns+"&flowId="+flowID+"&size=50", "", "")
		require.Equal(s.t, http.StatusOK, code, out)
		var page struct {
			Results []map[string]any `json:"results"`
		}
		require.NoError(s.t, json.Unmarshal([]byte(out), &page))
		ended := 0
		for _, ex := range page.Results {
			if terminal(state(ex)) {
				ended++
			}
		}
		if ended >= count {
			return page.Results
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s.%s: %d of %d executions ended: %s", ns, flowID, ended, count, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func state(ex map[string]any) string {
	st, _ := ex["state"].(map[string]any)
	c, _ := st["current"].(string)
	return c
}

func terminal(s string) bool {
	switch s {
	case "SUCCESS", "FAILED", "KILLED", "WARNING", "CANCELLED", "SKIPPED":
		return true
	}
	return false
}

// files returns the bytes of every file under the data directory: the
// database, its WAL and shared memory, keys.
func (s *server) files() map[string][]byte {
	s.t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(s.dataDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = b
		return nil
	})
	require.NoError(s.t, err)
	return out
}
