package taskproc

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// HardenWorker keeps task processes out of the worker's /proc entries:
// its environment (which holds the server's credentials), memory and open
// files. A process of the same user may read another's
// /proc/<pid>/environ unless that process is not dumpable; Landlock does
// not cover that read. Call it once in a process that runs a worker.
// Core dumps are off from then on, as for ssh-agent.
func HardenWorker() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("make the worker not dumpable: %w", err)
	}
	return nil
}

// dropCapabilities empties the calling thread's capability sets, so that
// a task started from it runs with none, even under a root worker: no
// CAP_SYS_PTRACE to read the worker's /proc entries, no CAP_DAC_* to
// read files of other users, no CAP_SYS_ADMIN. no_new_privs (set by
// confine or here) keeps set-user-ID programs from giving any back.
func dropCapabilities() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("drop capabilities: %w", err)
	}
	return nil
}
