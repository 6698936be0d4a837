package taskproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

func init() {
	if len(os.Args) > 1 && os.Args[1] == HelperArg {
		os.Exit(helperMain(os.Args[2:]))
	}
}

// exitConfine is the helper's exit status when it could not set the task
// up; 126 is the shell's "found but could not run".
const exitConfine = 126

// helperMain confines this process, starts the task's program as its
// child and supervises it: the worker's death (SIGTERM, the parent-death
// signal) or a termination request kills the whole group, the program's
// descendants included. It returns the program's exit status, or ends by
// the signal that ended the program.
func helperMain(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "osprey: task helper: missing arguments")
		return exitConfine
	}
	var cfg helperConfig
	if err := json.Unmarshal([]byte(args[0]), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "osprey: task helper: %v\n", err)
		return exitConfine
	}
	// Descriptors the worker inherited without close-on-exec (from its
	// own parent) stay out of the task.
	_ = unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		<-sigs
		_ = syscall.Kill(0, syscall.SIGKILL) // the group, this process included
	}()

	// Landlock binds the calling thread (and what it forks): this
	// goroutine keeps its thread to the end, and starts the program from
	// it.
	runtime.LockOSThread()
	if err := confine(cfg.Dir, cfg.Policy, cfg.Rules); err != nil {
		fmt.Fprintf(os.Stderr, "osprey: confine the task process: %v\n", err)
		return exitConfine
	}
	if err := dropCapabilities(); err != nil {
		fmt.Fprintf(os.Stderr, "osprey: confine the task process: %v\n", err)
		return exitConfine
	}
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The program dies with its helper, whatever kills the helper.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			// End the same way, so the worker names the signal.
			signal.Reset(ws.Signal())
			_ = syscall.Kill(os.Getpid(), ws.Signal())
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	case errors.Is(err, os.ErrPermission):
		fmt.Fprintf(os.Stderr, "osprey: start %s: %v: tasks may run programs from the system directories and their PATH only; "+
			"add its directory to osprey.tasks.read-paths\n", args[1], err)
		return exitConfine
	default:
		fmt.Fprintf(os.Stderr, "osprey: start %s: %v\n", args[1], err)
		return 127
	}
}
