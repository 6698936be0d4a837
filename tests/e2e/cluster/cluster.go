// Package cluster runs Osprey's components as real processes of the built
// binary on one PostgreSQL database, kills and restarts them, reads the
// API, and checks what a crash must never break: every execution ends, no
// task run runs more often than its attempts say, a flow's concurrency limit
// holds, a schedule's tick fires once. The fault tests in package e2e and
// the soak benchmark (e2e/soak) share it.
package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ospreyhq/osprey/devkit/testkit"
)

// Component roles, as `osprey server ROLE` takes them.
const (
	Webserver = "webserver"
	Executor  = "executor"
	Worker    = "worker"
	Scheduler = "scheduler"
)

// Build compiles ./cmd/osprey of the module holding the working directory
// into dir and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("find the module: run from inside Osprey's source tree")
	}
	bin := filepath.Join(dir, "osprey")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/osprey")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/osprey: %w\n%s", err, out)
	}
	return bin, nil
}

// Options configure a Cluster.
type Options struct {
	// Binary is the osprey binary (see Build).
	Binary string
	// DSN is the PostgreSQL database every process shares.
	DSN string
	// Dir holds each process's log file (NAME.log, appended across
	// restarts).
	Dir string
	// Env is added to every process's environment.
	Env []string
	// WorkerThreads is --worker-thread of each worker (default 4).
	WorkerThreads int
	// ShutdownGrace is --shutdown-grace (default 5s).
	ShutdownGrace time.Duration
}

// Cluster is a set of osprey processes on one database, with one API port
// that every webserver of it binds in turn.
type Cluster struct {
	opts    Options
	apiPort int

	mu    sync.Mutex
	procs []*Proc
	seq   map[string]int
}

// New prepares a cluster; Start adds processes to it.
func New(opts Options) (*Cluster, error) {
	if opts.WorkerThreads <= 0 {
		opts.WorkerThreads = 4
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 5 * time.Second
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", opts.Dir, err)
	}
	port, err := testkit.FreePort()
	if err != nil {
		return nil, err
	}
	return &Cluster{opts: opts, apiPort: port, seq: map[string]int{}}, nil
}

// API is a client of the cluster's webserver.
func (c *Cluster) API() *Client {
	return NewClient(fmt.Sprintf("http://127.0.0.1:%d", c.apiPort))
}

// Procs returns the cluster's processes, in the order they were added.
func (c *Cluster) Procs() []*Proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Proc(nil), c.procs...)
}

// Role returns the processes of one role.
func (c *Cluster) Role(role string) []*Proc {
	var out []*Proc
	for _, p := range c.Procs() {
		if p.Role == role {
			out = append(out, p)
		}
	}
	return out
}

// Start adds and starts a process of role; it does not wait for it to be
// ready (a webserver is ready when Client.WaitReady returns).
func (c *Cluster) Start(role string) (*Proc, error) {
	c.mu.Lock()
	c.seq[role]++
	name := role + "-" + strconv.Itoa(c.seq[role])
	c.mu.Unlock()
	mgmt, err := testkit.FreePort()
	if err != nil {
		return nil, err
	}
	args := []string{"server", role, "--port", strconv.Itoa(c.apiPort), "--management-port", strconv.Itoa(mgmt),
		"--shutdown-grace", c.opts.ShutdownGrace.String()}
	if role == Worker {
		args = append(args, "--worker-thread", strconv.Itoa(c.opts.WorkerThreads))
	}
	env := append(os.Environ(),
		"KESTRA_REPOSITORY_TYPE=postgres",
		"DATASOURCES_POSTGRES_URL="+c.opts.DSN,
		// every process seals and opens SECRET inputs with one key
		"KESTRA_ENCRYPTION_SECRET_KEY=cluster-test-key-0123456789abcdef",
	)
	p := &Proc{Role: role, Name: name, bin: c.opts.Binary, args: args, env: append(env, c.opts.Env...),
		logPath: filepath.Join(c.opts.Dir, name+".log")}
	if err := p.spawn(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p, nil
}

// WaitStarted polls until every process of the cluster says it started
// (its components run and its store is open), or ctx ends.
func (c *Cluster) WaitStarted(ctx context.Context) error {
	for {
		var waiting []string
		for _, p := range c.Procs() {
			if !p.Started() {
				waiting = append(waiting, p.Name)
			}
			if !p.Running() {
				return fmt.Errorf("%s exited (%v):\n%s", p.Name, p.ExitErr(), p.Log(4000))
			}
		}
		if len(waiting) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not started: %s", strings.Join(waiting, ", "))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Close kills every process that still runs.
func (c *Cluster) Close() {
	for _, p := range c.Procs() {
		_ = p.Kill()
	}
}

// Proc is one osprey process of a cluster; Restart runs it again with the
// same arguments.
type Proc struct {
	Role, Name string

	bin     string
	args    []string
	env     []string
	logPath string

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	exitErr  error
	restarts int
}

func (p *Proc) spawn() error {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open log of %s: %w", p.Name, err)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so a signal meant for the test run never
	// reaches it; and it dies with the program that started it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	done := make(chan struct{})
	started := make(chan error, 1)
	p.mu.Lock()
	p.cmd, p.done, p.exitErr = cmd, done, nil
	p.mu.Unlock()
	// The parent-death signal fires when the thread that forked the child
	// ends, not the process: Go retires threads (a goroutine that ends
	// locked to one takes it along), so the child is forked from a thread
	// held until it exits.
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the child
		if err := cmd.Start(); err != nil {
			p.mu.Lock()
			p.exitErr = err
			p.mu.Unlock()
			close(done)
			started <- err
			return
		}
		started <- nil
		err := cmd.Wait()
		logf.Close()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(done)
	}()
	if err := <-started; err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	return nil
}

// PID is the process id of the current run (0 if it could not start).
func (p *Proc) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Restarts is how many times Restart ran it again.
func (p *Proc) Restarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restarts
}

// Done is closed when the current run exits.
func (p *Proc) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// ExitErr is how the current run ended (nil: exit code 0); meaningful
// once Done is closed.
func (p *Proc) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitErr
}

// Running reports whether the current run has not exited.
func (p *Proc) Running() bool {
	select {
	case <-p.Done():
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL to the process — kill -9: no shutdown, no hand-back —
// and waits for it to exit. Processes it started are left alone.
func (p *Proc) Kill() error { return p.signal(syscall.SIGKILL, 10*time.Second) }

// Stop sends SIGTERM and waits up to timeout for the exit.
func (p *Proc) Stop(timeout time.Duration) error { return p.signal(syscall.SIGTERM, timeout) }

func (p *Proc) signal(sig syscall.Signal, timeout time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	select {
	case <-done:
		return nil // exited, or never started
	default:
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %s: %w", p.Name, err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s did not exit within %s of %s", p.Name, timeout, sig)
	}
}

// Restart starts the process again with the same arguments; the current
// run must have exited.
func (p *Proc) Restart() error {
	if p.Running() {
		return fmt.Errorf("restart %s: it still runs", p.Name)
	}
	if err := p.spawn(); err != nil {
		return err
	}
	p.mu.Lock()
	p.restarts++
	p.mu.Unlock()
	return nil
}

// CPU is the processor time (user and system) the current run has used.
func (p *Proc) CPU() (time.Duration, error) { return CPU(p.PID()) }

// CPU reads a process's processor time (user and system) from /proc.
func CPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of %d: %w", pid, err)
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("read CPU time of %d: unreadable stat", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	// clock ticks; USER_HZ is 100 on every Linux architecture Go supports
	return time.Duration(utime+stime) * (time.Second / 100), nil
}

// Started reports whether the current run has said "osprey started".
func (p *Proc) Started() bool {
	raw, err := os.ReadFile(p.logPath)
	return err == nil && strings.Count(string(raw), `msg="osprey started"`) > p.Restarts()
}

// RSS is the resident set size of the current run, in bytes.
func (p *Proc) RSS() (int64, error) { return RSS(p.PID()) }

// Log returns the last max bytes of the process's log file.
func (p *Proc) Log(max int64) string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		_, _ = f.Seek(fi.Size()-max, 0)
	}
	b := make([]byte, max)
	n, _ := f.Read(b)
	return string(b[:n])
}

// RSS reads a process's resident set size from /proc, in bytes.
func RSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read RSS of %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read RSS of %d: %w", pid, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("read RSS of %d: no VmRSS line", pid)
}

// Process names one process: its id and its start time, so that a
// process id the kernel gave to another process since is not mistaken for
// it.
type Process struct {
	PID   int
	Start uint64
}

// stat reads a process's parent, state and start time from /proc.
func stat(pid int) (ppid int, state string, start uint64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", 0, err
	}
	// pid (comm) state ppid pgrp … field 22 is the start time; comm may
	// hold spaces and parentheses
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, "", 0, fmt.Errorf("/proc/%d/stat: unreadable", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, "", 0, fmt.Errorf("/proc/%d/stat: unreadable", pid)
	}
	ppid, _ = strconv.Atoi(f[1])
	start, _ = strconv.ParseUint(f[19], 10, 64)
	return ppid, f[0], start, nil
}

// Alive reports whether the process still runs. A zombie has stopped
// running; whether its new parent reaps it is that parent's business.
func (p Process) Alive() bool {
	_, state, start, err := stat(p.PID)
	return err == nil && start == p.Start && state != "Z" && state != "X"
}

// Kill sends SIGKILL to the process if it is still the same one.
func (p Process) Kill() {
	if p.Alive() {
		_ = syscall.Kill(p.PID, syscall.SIGKILL)
	}
}

// Descendants returns every process below pid: its children, theirs, and
// so on.
func Descendants(pid int) []Process {
	children := map[int][]Process{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		id, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, state, start, err := stat(id)
		if err != nil || state == "Z" {
			continue
		}
		children[ppid] = append(children[ppid], Process{PID: id, Start: start})
	}
	var out []Process
	queue := []int{pid}
	for len(queue) > 0 {
		for _, c := range children[queue[0]] {
			out = append(out, c)
			queue = append(queue, c.PID)
		}
		queue = queue[1:]
	}
	return out
}

// Ancestor returns the first of pid's ancestors (pid included) for which
// match holds, or 0.
func Ancestor(pid int, match func(pid int) bool) int {
	for seen := 0; pid > 1 && seen < 64; seen++ {
		if match(pid) {
			return pid
		}
		ppid, _, _, err := stat(pid)
		if err != nil {
			return 0
		}
		pid = ppid
	}
	return 0
}
