//go:build unix

package tasks

import (
	"fmt"
	"os/exec"
	"syscall"
)

// signalOf names the signal that ended the process, if one did.
func signalOf(ee *exec.ExitError) (string, bool) {
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return "", false
	}
	return fmt.Sprintf("signal %d (%s)", int(ws.Signal()), ws.Signal()), true
}
