package local

import "syscall"

// syscallNotDir is what opening a/b reports when a is a file.
var syscallNotDir = syscall.ENOTDIR
