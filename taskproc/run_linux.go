package taskproc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"syscall"
)

// HelperArg is the first argument that makes an Osprey binary (or a test
// binary linking this package) act as the task-process helper.
const HelperArg = "__task-exec"

// helperConfig is what the worker tells the helper, as its second
// argument (paths only: nothing secret).
type helperConfig struct {
	Dir    string `json:"dir"`
	Policy Policy `json:"policy"`
	// Rules are Policy's read rules as the worker planned them; without
	// them the helper plans them itself.
	Rules []rule `json:"rules,omitempty"`
}

// maxHelperConfig bounds the helper's configuration argument below the
// kernel's limit on one argument (MAX_ARG_STRLEN, 128 KiB): a plan too
// large to pass is left for the helper to make.
const maxHelperConfig = 100 << 10

// rules returns the read rules of policy, planned once and reused while
// they hold.
func (r *Runner) rules(policy Policy) []rule {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.plan == nil || !slices.Equal(r.planned.Read, policy.Read) || !slices.Equal(r.planned.Deny, policy.Deny) || !r.plan.current(policy) {
		r.plan, r.planned = newPlan(policy), policy
	}
	return r.plan.rules
}

// command is the helper re-exec: /proc/self/exe works even when the
// binary was replaced on disk since the worker started.
func (r *Runner) command(ctx context.Context, s Spec, env []string, policy Policy) (*exec.Cmd, error) {
	prog, err := lookPath(s.Argv[0], env)
	if err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(helperConfig{Dir: s.Dir, Policy: policy, Rules: r.rules(policy)})
	if err == nil && len(cfg) > maxHelperConfig {
		cfg, err = json.Marshal(helperConfig{Dir: s.Dir, Policy: policy})
	}
	if err != nil {
		return nil, fmt.Errorf("encode task policy: %w", err)
	}
	args := append([]string{HelperArg, string(cfg), prog}, s.Argv[1:]...)
	cmd := exec.CommandContext(ctx, "/proc/self/exe", args...)
	cmd.Args[0] = "osprey"
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// A group of its own, so a kill reaches every descendant.
		Setpgid: true,
		// The helper hears of the worker's death and kills its group;
		// SIGTERM, not SIGKILL, so that it can.
		Pdeathsig: syscall.SIGTERM,
	}
	return cmd, nil
}

// start runs cmd from a goroutine locked to its OS thread for the whole
// life of the process: Linux sends the parent-death signal when the
// thread that forked the child exits, not the process, and the Go runtime
// may end an idle thread. A locked thread that waits in wait4 is never
// ended, so the signal fires only when the worker itself dies.
func start(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		errc <- cmd.Run()
	}()
	return <-errc
}

// killGroup kills the process's whole group.
func killGroup(cmd *exec.Cmd) error {
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}
