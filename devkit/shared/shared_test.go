package shared_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/shared"
)

// TestDir finds the folder the variable names, and on a missing one skips
// outside CI and fails under CI=true, saying where it looked.
func TestDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "kestra-corpus", "flows"), 0o755))
	t.Setenv(shared.EnvDir, dir)

	t.Setenv("CI", "")
	require.Equal(t, filepath.Join(dir, "kestra-corpus", "flows"), shared.Dir(t, "kestra-corpus/flows"))

	for _, tc := range []struct {
		ci              string
		skipped, failed bool
	}{
		{ci: "", skipped: true},
		{ci: "true", failed: true},
	} {
		t.Setenv("CI", tc.ci)
		r := &recorder{TB: t}
		done := make(chan struct{})
		go func() { // Skipf and Fatalf end the goroutine that calls them
			defer close(done)
			shared.Dir(r, "kestra-openapi")
		}()
		<-done
		require.Equal(t, tc.skipped, r.skipped, "CI=%q", tc.ci)
		require.Equal(t, tc.failed, r.failed, "CI=%q", tc.ci)
		require.Contains(t, r.msg, filepath.Join(dir, "kestra-openapi"), "the message says where it looked")
	}
}

// recorder notes a skip or a failure instead of ending the test.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
