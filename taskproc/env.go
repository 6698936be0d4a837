package taskproc

import (
	"path/filepath"
	"strings"
)

// passed are the host variables a task process inherits: what a program
// needs to find commands, speak the right language and reach the network
// through the host's proxy. Nothing else of the worker's environment
// (KESTRA_*, OSPREY_*, AZURE_*, SECRET_*, ENV_*, …) reaches a task.
var passed = []string{
	"PATH", "LANG", "LANGUAGE", "TZ", "TERM", "USER", "LOGNAME",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
	"SSL_CERT_FILE", "SSL_CERT_DIR",
}

// passedPrefix are host variable prefixes a task inherits (locale
// categories).
const passedPrefix = "LC_"

// defaultPath is PATH when the worker has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Environ returns a task process's environment: the allow-listed
// variables of host, HOME set to dir, TMPDIR to a directory inside dir,
// then declared (the task's own "NAME=value" entries, which may override
// any of them). Later entries win, as for exec.Cmd.
func Environ(host []string, dir string, declared []string) []string {
	out := make([]string, 0, len(passed)+len(declared)+4)
	hasPath := false
	for _, kv := range host {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || !passes(k) {
			continue
		}
		hasPath = hasPath || k == "PATH"
		out = append(out, kv)
	}
	if !hasPath {
		out = append(out, "PATH="+defaultPath)
	}
	out = append(out, "HOME="+dir, "TMPDIR="+TempDir(dir))
	return append(out, declared...)
}

// TempDir is the TMPDIR of a task whose working directory is dir.
func TempDir(dir string) string { return filepath.Join(dir, ".tmp") }

func passes(name string) bool {
	if strings.HasPrefix(name, passedPrefix) {
		return true
	}
	for _, p := range passed {
		if name == p {
			return true
		}
	}
	return false
}
