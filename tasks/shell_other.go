//go:build !unix

package tasks

import "os/exec"

// ownGroup does nothing where process groups are not available.
func ownGroup(*exec.Cmd) {}

// killGroup kills the interpreter; its children may outlive it here.
func killGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }

// signalOf reports no signal where exit statuses carry none.
func signalOf(*exec.ExitError) (string, bool) { return "", false }
