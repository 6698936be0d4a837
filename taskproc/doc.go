// Package taskproc runs a task's process apart from the server: a clean
// environment built from an allow-list, a working directory of its own,
// a process group of its own that dies with the worker, and, on Linux, a
// Landlock domain that keeps the process out of the server's data
// directory, key files, configuration files and federated token.
//
// On Linux every task process is started through a small re-exec of the
// running binary (see HelperArg): the helper applies the Landlock ruleset
// to itself, starts the task's program as its child and stays as its
// supervisor. It is the one process that receives the parent-death signal
// when the worker dies, and answers it by killing its whole process group,
// so that a worker killed with SIGKILL leaves no background child behind.
// The re-exec goes through /proc/self/exe, so it works from the osprey
// binary and from any test binary that links this package: the package's
// init function recognises the helper's argument and runs the helper
// before anything else (the one init with a side effect in Osprey, and
// the usual way for a Go program to re-exec itself).
//
// docs/task-isolation.md describes what is and is not confined.
package taskproc
