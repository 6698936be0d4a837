//go:build !unix

package taskproc

import "os/exec"

func ownGroup(*exec.Cmd) {}

// killGroup kills the program; its children may outlive it here.
func killGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }
