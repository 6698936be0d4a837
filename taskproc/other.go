//go:build !linux

package taskproc

import (
	"context"
	"errors"
	"os/exec"
)

// HelperArg is the helper's argument; no helper runs outside Linux.
const HelperArg = "__task-exec"

// ABI reports that Landlock is a Linux feature.
func ABI() (int, error) { return 0, errors.New("Landlock exists on Linux only") }

func (r *Runner) command(ctx context.Context, s Spec, env []string, policy Policy) (*exec.Cmd, error) {
	prog, err := lookPath(s.Argv[0], env)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, prog, s.Argv[1:]...)
	ownGroup(cmd)
	return cmd, nil
}

func start(cmd *exec.Cmd) error { return cmd.Run() }

// HardenWorker does nothing outside Linux.
func HardenWorker() error { return nil }
