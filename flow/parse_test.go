package flow_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
)

var update = flag.Bool("update", false, "rewrite the expected errors of testdata/invalid")

// TestParseValid loads every flow of testdata/valid: each must parse
// without a single error.
func TestParseValid(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/valid/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			require.NoError(t, err)
			f, err := flow.Parse(src, flow.ParseOptions{Types: corpusTypes{}})
			require.NoError(t, err)
			require.Equal(t, string(src), f.Source)
		})
	}
}

// TestParseInvalid loads every flow of testdata/invalid and compares the
// errors with the .errors file next to it (rewritten with -update).
func TestParseInvalid(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			require.NoError(t, err)
			f, err := flow.Parse(src, flow.ParseOptions{Types: corpusTypes{}})
			require.Nil(t, f)
			var errs flow.Errors
			require.True(t, errors.As(err, &errs), "want flow.Errors, got %v", err)
			var b strings.Builder
			for _, e := range errs {
				require.Positive(t, e.Line, e.Error())
				require.Positive(t, e.Column, e.Error())
				b.WriteString(e.Error() + "\n")
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".errors"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -update to create %s", golden)
			require.Equal(t, string(want), b.String())
		})
	}
}

// TestListenersWarn: listeners that Kestra 0.21 would accept parse, and
// the flow says they will not run (Kestra removed them in 2025.1).
func TestListenersWarn(t *testing.T) {
	t.Parallel()
	src := []byte(`id: with-listeners
namespace: osprey.tests
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
listeners:
  - conditions:
      - type: io.kestra.plugin.core.condition.ExecutionStatus
        in: [SUCCESS]
    tasks:
      - id: notify
        type: io.kestra.plugin.core.log.Log
        message: done
`)
	f, err := flow.Parse(src, flow.ParseOptions{Types: corpusTypes{}})
	require.NoError(t, err)
	require.Len(t, f.Warnings, 1)
	require.Contains(t, f.Warnings[0], "listeners are ignored")
	require.Len(t, f.Tasks, 1, "listener tasks never join the flow's tasks")
}
