package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/devkit/shared"
)

// minConformance is the share of Kestra's test cases that must pass. It
// only goes up; docs/kestra-compatibility.md lists every case still
// failing and why.
const minConformance = 0.95

// TestKestraConformance runs every case of shared/kestra-corpus on fresh
// in-process Osprey systems and compares with what Kestra's tests assert.
func TestKestraConformance(t *testing.T) {
	dir := shared.Dir(t, "kestra-corpus/expectations.yaml")
	dir = filepath.Dir(dir)
	rep, err := RunConformance(t.Context(), conformance.Options{Dir: dir, Parallel: 4, Timeout: 30 * time.Second})
	require.NoError(t, err)
	var out strings.Builder
	rep.Print(&out)
	t.Log("\n" + out.String())
	require.Equal(t, rep.FlowsTotal, rep.FlowsValid, "every corpus flow must validate")
	require.GreaterOrEqual(t, rep.Rate(), minConformance, "conformance fell below %.0f%%", 100*minConformance)
}
