package taskproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Policy is what a task process may read beyond the system directories
// and its working directory, and what it may never read.
type Policy struct {
	// Read lists more directories or files a task may read and execute
	// (a shared tool chain, a CA bundle outside /etc).
	Read []string
	// Deny lists paths a task may never read, even beneath a directory it
	// may read: the server's data directory, key files, configuration
	// files, the federated token file. Landlock only grants, so a denied
	// path beneath an allowed directory is honoured by granting that
	// directory's other entries one by one.
	Deny []string
}

// absolute returns p with every path made absolute against the worker's
// working directory.
func (p Policy) absolute() Policy {
	abs := func(paths []string) []string {
		out := make([]string, 0, len(paths))
		for _, x := range paths {
			if x == "" {
				continue
			}
			if a, err := filepath.Abs(x); err == nil {
				x = a
			}
			out = append(out, x)
		}
		return out
	}
	return Policy{Read: abs(p.Read), Deny: abs(p.Deny)}
}

// Runner starts task processes under a Policy. Its zero value confines
// to the system directories and the task's working directory. It is safe
// for concurrent use; a worker keeps one, so the read rules its Policy
// makes are worked out once, not for every task process.
type Runner struct {
	Policy Policy
	// Environ is the worker's environment the allow-list is taken from;
	// os.Environ() when nil.
	Environ []string

	mu      sync.Mutex
	plan    *plan // the read rules of planned, while they hold
	planned Policy
}

// rule grants Rights beneath Path (Landlock's access bits).
type rule struct {
	Path   string `json:"p"`
	Rights uint64 `json:"r"`
}

// plan is the read rules a Policy makes, and what they were made from.
type plan struct {
	rules []rule
	// deny is the denied paths, resolved as they were when planned.
	deny []string
	// listed is every directory listed to grant its entries but a denied
	// one, with its modification time then.
	listed map[string]time.Time
	made   time.Time
}

// Spec is one task process.
type Spec struct {
	// Argv is the program and its arguments.
	Argv []string
	// Dir is the task's working directory: created if missing, its HOME,
	// TMPDIR inside it, and the only place it may write. The caller
	// removes it when the task run ends.
	Dir string
	// Env are the task's own "NAME=value" variables (its env: property).
	Env            []string
	Stdout, Stderr io.Writer
	// WaitDelay bounds the wait for the output pipes once the process
	// has ended (background children may hold them open).
	WaitDelay time.Duration
}

// Run runs the process to its end. Cancelling ctx kills the process's
// whole group; so does the end of the process (nothing it started
// survives it). The error is exec.Cmd.Run's: an *exec.ExitError carries
// the program's exit status or the signal that ended it.
func (r *Runner) Run(ctx context.Context, s Spec) error {
	if len(s.Argv) == 0 {
		return errors.New("no program to run")
	}
	if s.Dir == "" {
		return errors.New("no working directory for the task process")
	}
	// The helper runs in the working directory: relative paths (the
	// default data directory is ./data) are the worker's, made absolute
	// here.
	dir, err := filepath.Abs(s.Dir)
	if err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	s.Dir = dir
	if err := os.MkdirAll(TempDir(s.Dir), 0o700); err != nil {
		return fmt.Errorf("create working directory: %w", err)
	}
	host := r.Environ
	if host == nil {
		host = os.Environ()
	}
	env := Environ(host, s.Dir, s.Env)
	cmd, err := r.command(ctx, s, env, r.Policy.withPath(Environ(host, s.Dir, nil)))
	if err != nil {
		return err
	}
	cmd.Dir = s.Dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
	cmd.WaitDelay = s.WaitDelay
	cmd.Cancel = func() error { return killGroup(cmd) }
	err = start(cmd)
	if cmd.Process != nil {
		_ = killGroup(cmd) // leave nothing behind
	}
	return err
}

// withPath returns p made absolute, reading also the absolute directories
// of the PATH in env: the worker's allow-listed PATH, never one the task
// declares (a task's own PATH=/ would otherwise open the whole disk to it).
func (p Policy) withPath(env []string) Policy {
	p = p.absolute()
	for _, d := range filepath.SplitList(envValue(env, "PATH")) {
		if filepath.IsAbs(d) {
			p.Read = append(p.Read, d)
		}
	}
	return p
}

// envValue is the last value of name in env, as exec.Cmd reads it.
func envValue(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if x, ok := strings.CutPrefix(kv, name+"="); ok {
			v = x
		}
	}
	return v
}

// lookPath resolves a program name against the task's PATH, not the
// worker's.
func lookPath(name string, env []string) (string, error) {
	if filepath.IsAbs(name) || filepath.Base(name) != name {
		return name, nil
	}
	for _, d := range filepath.SplitList(envValue(env, "PATH")) {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}
