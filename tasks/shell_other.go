//go:build !unix

package tasks

import "os/exec"

// signalOf reports no signal where exit statuses carry none.
func signalOf(*exec.ExitError) (string, bool) { return "", false }
