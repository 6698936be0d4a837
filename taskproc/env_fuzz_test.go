package taskproc_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ospreyhq/osprey/taskproc"
)

// FuzzEnviron builds a task's environment from a worker's environment and
// the task's own variables, both newline-separated: nothing of the worker's
// but the allow-list reaches the task, the task's own come last (they
// win), and HOME and TMPDIR are the task's.
func FuzzEnviron(f *testing.F) {
	f.Add("PATH=/usr/bin:/bin\nKESTRA_X=pw\nLC_ALL=C\nAZURE_CLIENT_SECRET=s", "PATH=/\nHOME=/elsewhere")
	f.Add("=weird\nNOEQUALS\nLC_=x\nPATH=\nPATH=/opt/bin", "A=1\nA=2")
	f.Add("path=/x\nLANG=C.UTF-8\nSECRET_DB=c2VjcmV0", "")
	f.Fuzz(func(t *testing.T, hostText, declaredText string) {
		if len(hostText)+len(declaredText) > 4096 {
			t.Skip()
		}
		host := strings.Split(hostText, "\n")
		declared := strings.Split(declaredText, "\n")
		dir := "/work/task"
		env := taskproc.Environ(host, dir, declared)
		if !slices.Equal(env[len(env)-len(declared):], declared) {
			t.Fatalf("the task's own variables are not last: %q", env)
		}
		inherited := env[:len(env)-len(declared)]
		if !slices.Contains(inherited, "HOME="+dir) || !slices.Contains(inherited, "TMPDIR="+filepath.Join(dir, ".tmp")) {
			t.Fatalf("HOME or TMPDIR missing: %q", inherited)
		}
		for _, kv := range inherited {
			name, _, _ := strings.Cut(kv, "=")
			switch {
			case name == "HOME" || name == "TMPDIR":
			case kv == "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin":
			case !slices.Contains(host, kv):
				t.Fatalf("%q is neither the worker's nor the task's", kv)
			case !allowed(name):
				t.Fatalf("the worker's %q reached the task", kv)
			}
		}
	})
}

func allowed(name string) bool {
	return strings.HasPrefix(name, "LC_") || slices.Contains([]string{"PATH", "LANG", "LANGUAGE", "TZ", "TERM", "USER", "LOGNAME",
		"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR"}, name)
}
