package taskproc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Landlock is used through raw system calls rather than
// github.com/landlock-lsm/go-landlock: that library restricts every
// thread of the process through libcap's psx, which links C code into
// any build with cgo enabled, and Osprey is built without cgo. The helper
// needs only its own thread restricted before it forks the task, which
// three system calls do.

// systemRead are the directories every task may read and execute from:
// programs, libraries, the system's configuration (less Policy.Deny and
// defaultDeny) and the kernel's view of devices. /proc is granted apart,
// without its process directories (see procEntries).
var systemRead = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/sys"}

// devices a task may read and write.
var devices = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}

// defaultDeny are system files no task needs, readable to a worker that
// runs as root.
var defaultDeny = []string{"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/ssl/private", "/var/run/secrets", "/run/secrets"}

// Access rights, by the Landlock ABI version that introduced them.
const (
	fsV1 = 1<<13 - 1 // execute … make_sym
	fsV2 = 1<<14 - 1 // + refer
	fsV3 = 1<<15 - 1 // + truncate
	fsV5 = 1<<16 - 1 // + ioctl_dev
	fsV9 = 1<<17 - 1 // + resolve_unix

	readDir  = unix.LANDLOCK_ACCESS_FS_READ_DIR
	readFile = unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_EXECUTE
	rwFile   = readFile | unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_TRUNCATE
	// fileRights are those a rule on a file (not a directory) may hold.
	fileRights = rwFile | unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
)

// ABI returns the Landlock ABI version the kernel offers, 0 when it offers
// none (too old, or Landlock not enabled at boot), with the reason.
func ABI() (int, error) {
	v, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if errno != 0 {
		switch errno {
		case unix.ENOSYS:
			return 0, errors.New("the kernel has no Landlock (Linux 5.13 or later is needed)")
		case unix.EOPNOTSUPP:
			return 0, errors.New("Landlock is not enabled in this kernel (add landlock to the lsm= boot parameter)")
		}
		return 0, fmt.Errorf("Landlock: %w", errno)
	}
	return int(v), nil
}

// handled is every file-system right the ABI knows: all of them are
// denied unless a rule grants them.
func handled(abi int) uint64 {
	switch {
	case abi >= 9:
		return fsV9
	case abi >= 5:
		return fsV5
	case abi >= 3:
		return fsV3
	case abi == 2:
		return fsV2
	}
	return fsV1
}

// confine restricts the calling thread (and what it starts from now on)
// to reading the system directories and p.Read (which holds the worker's
// PATH directories) less p.Deny, and to reading and writing dir. rules are
// p's read rules as the worker planned them (see newPlan); nil plans them
// here. Without Landlock it does nothing: the worker warned at start-up.
func confine(dir string, p Policy, rules []rule) error {
	abi, err := ABI()
	if abi < 1 || err != nil {
		return nil
	}
	all := handled(abi)
	attr := unix.LandlockRulesetAttr{Handled_access_fs: all}
	if abi >= 6 {
		// No signals to, and no abstract sockets of, processes outside
		// the task's domain: the worker among them.
		attr.Scoped = unix.LANDLOCK_SCOPE_SIGNAL | unix.LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
	}
	size := unsafe.Sizeof(attr)
	if abi < 6 {
		size = unsafe.Offsetof(attr.Scoped)
	} else if abi < 10 {
		size = unsafe.Offsetof(attr.Quiet_access_fs)
	}
	fd, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), size, 0)
	if errno != 0 {
		return fmt.Errorf("create the Landlock ruleset: %w", errno)
	}
	defer unix.Close(int(fd))

	add := func(path string, rights uint64) error {
		return addRule(int(fd), path, rights&all)
	}
	if rules == nil {
		rules = newPlan(p).rules
	}
	// /proc's entries are this process's to resolve: /proc/mounts and
	// /proc/net lead to /proc/self, which the worker would resolve to its
	// own process directory.
	proc := &plan{deny: resolveAll(append(slices.Clone(defaultDeny), p.Deny...)), listed: map[string]time.Time{}}
	for _, e := range procEntries() {
		proc.allowBeneath(e, readDir|readFile)
	}
	rules = append(slices.Clip(rules), proc.rules...)
	for _, r := range rules {
		// A path gone since the plan was made is skipped, as a missing
		// one is when planning.
		if err := add(r.Path, r.Rights); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	for _, d := range devices {
		if err := add(d, rwFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := add(dir, all&^unix.LANDLOCK_ACCESS_FS_IOCTL_DEV); err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	if _, _, errno := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, fd, 0, 0); errno != 0 {
		return fmt.Errorf("enforce the Landlock ruleset: %w", errno)
	}
	return nil
}

// newPlan makes the read rules of p: the system directories and p.Read
// (which holds the worker's PATH directories: the task's own PATH grants
// nothing), less the denied paths; /proc's are the helper's (see confine). It
// lists and stats hundreds of entries (/etc is granted entry by entry, to
// leave /etc/shadow out), so a Runner makes it once and reuses it while
// it holds (plan.current).
func newPlan(p Policy) *plan {
	pl := &plan{deny: resolveAll(append(slices.Clone(defaultDeny), p.Deny...)), listed: map[string]time.Time{}, made: time.Now()}
	read := append(slices.Clone(systemRead), p.Read...)
	for _, r := range read {
		if filepath.IsAbs(r) {
			pl.allowBeneath(r, readDir|readFile)
		}
	}
	return pl
}

// racyWindow is how recent a listed directory's modification time may be
// for a plan to trust it: the kernel stamps times from a coarse clock, so
// an entry added within the same tick as the listing leaves the time as
// it was. A directory changed that recently is listed again, as git does
// with a racily clean index.
const racyWindow = 2 * time.Second

// current reports whether pl still is what newPlan(p) would make: the
// denied paths resolve as they did, and no directory listed to leave a
// denied entry out has changed (an entry added to /etc, a denied file
// created since).
func (pl *plan) current(p Policy) bool {
	if !slices.Equal(pl.deny, resolveAll(append(slices.Clone(defaultDeny), p.Deny...))) {
		return false
	}
	for dir, mod := range pl.listed {
		fi, err := os.Stat(dir)
		if err != nil || !fi.ModTime().Equal(mod) || !mod.Before(pl.made.Add(-racyWindow)) {
			return false
		}
	}
	return true
}

// procEntries are the entries of /proc a task may read: the system-wide
// ones (cpuinfo, meminfo, loadavg, …), not the process directories.
// Landlock does not stop a process from reading the environment or the
// command line of another process of its user (only from tracing it), so
// without this a task could read the worker's credentials and a
// concurrent task's variables and script in /proc/<pid>/environ and
// cmdline. The price: ps and /proc/self are not available to tasks.
func procEntries() []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if name == "self" || name == "thread-self" || strings.Trim(name, "0123456789") == "" {
			continue
		}
		out = append(out, filepath.Join("/proc", name))
	}
	return out
}

// allowBeneath grants rights on path, or, when a denied path lies beneath
// it, lists path and grants each entry but the denied ones (Landlock has
// only grants, no exceptions). A missing path is skipped.
func (pl *plan) allowBeneath(path string, rights uint64) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return // missing, or unreadable to the worker anyway
	}
	inside := false
	for _, d := range pl.deny {
		if within(real, d) {
			return // denied itself, or beneath a denied directory
		}
		inside = inside || within(d, real)
	}
	if !inside {
		pl.rules = append(pl.rules, rule{Path: real, Rights: rights})
		return
	}
	// Listing the directory shows the denied entry's name, not its
	// content.
	pl.rules = append(pl.rules, rule{Path: real, Rights: readDir})
	fi, err := os.Stat(real)
	if err != nil {
		return
	}
	pl.listed[real] = fi.ModTime()
	entries, err := os.ReadDir(real)
	if err != nil {
		return
	}
	for _, e := range entries {
		pl.allowBeneath(filepath.Join(real, e.Name()), rights)
	}
}

// addRule grants rights beneath path (a file gets the file rights only).
func addRule(ruleset int, path string, rights uint64) error {
	f, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(f)
	var st unix.Stat_t
	if err := unix.Fstat(f, &st); err != nil {
		return &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		rights &= fileRights
	}
	if rights == 0 {
		return nil
	}
	rule := unix.LandlockPathBeneathAttr{Allowed_access: rights, Parent_fd: int32(f)}
	_, _, errno := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, uintptr(ruleset), unix.LANDLOCK_RULE_PATH_BENEATH,
		uintptr(unsafe.Pointer(&rule)), 0, 0, 0)
	if errno != 0 {
		return fmt.Errorf("allow %s: %w", path, errno)
	}
	return nil
}

// resolveAll makes paths absolute and follows their symbolic links, so
// they compare with the rules' real paths; a missing path is kept as
// written (it may appear later, under an allowed directory).
func resolveAll(paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if p == "" {
			continue
		}
		if a, err := filepath.Abs(p); err == nil {
			p = a
		}
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		out = append(out, filepath.Clean(p))
	}
	return out
}

// within reports whether path is dir or beneath it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}
