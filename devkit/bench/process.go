package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ospreyhq/osprey/devkit/testkit"
)

// server is one `osprey server` process under test.
type server struct {
	cmd     *exec.Cmd
	api     string // http://127.0.0.1:port/api/v1/main
	mgmt    string // http://127.0.0.1:port
	pid     int
	ready   time.Duration // exec to the first UP readiness answer
	exited  chan struct{}
	stderr  *tailBuffer
	exitErr error
}

// serverConfig is what the harness writes as the server's configuration.
type serverConfig struct {
	Dir         string   // data directory (SQLite) and config file
	PostgresURL string   // "" for SQLite
	VaultURI    string   // "" for no Key Vault
	ClientID    string   // workload identity client id
	Env         []string // extra environment (AZURE_*)
	Threads     int      // --worker-thread; 0 for the default
}

// startServer runs binary as `server local` (SQLite under cfg.Dir) or
// `server standalone` (PostgreSQL), with pprof on its management port,
// and waits until it answers ready.
func startServer(ctx context.Context, binary string, cfg serverConfig) (*server, error) {
	port, err := testkit.FreePort()
	if err != nil {
		return nil, err
	}
	mport, err := testkit.FreePort()
	if err != nil {
		return nil, err
	}
	var y strings.Builder
	// ForEach(100,000) is a scenario: the default bound on loop values
	// (osprey.limits.loop-items, 10,000) is lifted for it.
	y.WriteString("osprey:\n  pprof: true\n  limits:\n    loop-items: 100000\n")
	y.WriteString("kestra:\n")
	if cfg.PostgresURL != "" {
		y.WriteString("  repository:\n    type: postgres\n")
	}
	if cfg.VaultURI != "" {
		fmt.Fprintf(&y, "  secret:\n    type: azure-key-vault\n    azure-key-vault:\n      key-vault-uri: %s\n      workload-identity-client-id: %s\n",
			cfg.VaultURI, cfg.ClientID)
	}
	y.WriteString("  encryption:\n    secret-key: " + strings.Repeat("b", 32) + "\n")
	if cfg.PostgresURL != "" {
		fmt.Fprintf(&y, "datasources:\n  postgres:\n    url: %q\n", cfg.PostgresURL)
	}
	cfgFile := filepath.Join(cfg.Dir, "bench.yml")
	if err := os.WriteFile(cfgFile, []byte(y.String()), 0o600); err != nil {
		return nil, fmt.Errorf("write server configuration: %w", err)
	}
	args := []string{"server", "standalone"}
	if cfg.PostgresURL == "" {
		args = []string{"server", "local", "--data-dir", filepath.Join(cfg.Dir, "data")}
	}
	args = append(args, "--config", cfgFile, "--port", strconv.Itoa(port), "--management-port", strconv.Itoa(mport),
		"--log-level", "WARN")
	if cfg.Threads > 0 {
		args = append(args, "--worker-thread", strconv.Itoa(cfg.Threads))
	}
	cmd := exec.Command(binary, args...)
	cmd.Dir = cfg.Dir
	// The server gets a clean environment: what a pod would have.
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + cfg.Dir, "TMPDIR=" + cfg.Dir}, cfg.Env...)
	s := &server{
		cmd: cmd, exited: make(chan struct{}), stderr: &tailBuffer{max: 64 << 10},
		api:  fmt.Sprintf("http://127.0.0.1:%d/api/v1/main", port),
		mgmt: fmt.Sprintf("http://127.0.0.1:%d", mport),
	}
	cmd.Stdout, cmd.Stderr = io.Discard, s.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	s.pid = cmd.Process.Pid
	go func() { s.exitErr = cmd.Wait(); close(s.exited) }()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(s.mgmt + "/health/readiness")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.ready = time.Since(began)
				return s, nil
			}
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("osprey server exited before it was ready (%v): %s", s.exitErr, s.stderr)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("osprey server not ready after a minute: %s", s.stderr)
		}
	}
}

// stop asks the server to shut down and kills it if it lingers.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// procStats is what /proc says about the server process.
type procStats struct {
	cpu     time.Duration // user + system
	rss     int64         // VmRSS, bytes
	peakRSS int64         // VmHWM, bytes: the peak since the last resetPeak
}

// clockTick is Linux's USER_HZ, the unit of /proc/PID/stat's times; it is
// 100 on every architecture Go supports on Linux.
const clockTick = 10 * time.Millisecond

func (s *server) stats() (procStats, error) {
	var st procStats
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		return st, fmt.Errorf("read server CPU time: %w", err)
	}
	if st.cpu, err = parseStatCPU(string(raw)); err != nil {
		return st, err
	}
	raw, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return st, fmt.Errorf("read server memory: %w", err)
	}
	st.rss, st.peakRSS = parseStatusMem(string(raw))
	return st, nil
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a
// /proc/PID/stat line; the command name in parentheses may hold spaces.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("unreadable /proc stat line")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat line")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	sy, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("unreadable /proc stat times: %w", err)
	}
	return time.Duration(u+sy) * clockTick, nil
}

// parseStatusMem reads VmRSS and VmHWM (kB) from /proc/PID/status.
func parseStatusMem(status string) (rss, hwm int64) {
	for _, line := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n << 10
		case "VmHWM":
			hwm = n << 10
		}
	}
	return rss, hwm
}

// resetPeak restarts VmHWM from the current RSS (Linux's clear_refs), so
// each scenario reports its own peak.
func (s *server) resetPeak() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.pid), []byte("5"), 0)
}

// profile fetches a CPU profile of d from the server's pprof endpoint into
// path; it returns when the profile is written.
func (s *server) profile(ctx context.Context, d time.Duration, path string) error {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.mgmt, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch CPU profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("fetch CPU profile: %s: %s", resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write CPU profile: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("write CPU profile: %w", err)
	}
	return f.Close()
}

// tailBuffer keeps the last max bytes written, for error messages.
type tailBuffer struct {
	max int
	b   bytes.Buffer
	mu  sync.Mutex
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Write(p)
	if over := t.b.Len() - t.max; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(t.b.String())
}
