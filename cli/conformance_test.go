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

// minOwnConformance is the share of Osprey's own cases (tests/conformance)
// that must pass; docs/kestra-compatibility.md explains any that do not.
const minOwnConformance = 0.95

// TestOspreyConformance runs Osprey's own cases, kept in the repository:
// flows of ours, each checking what a cited Kestra test asserts.
func TestOspreyConformance(t *testing.T) {
	dir := filepath.Join("..", "tests", "conformance")
	rep, err := RunConformance(t.Context(), conformance.Options{Dir: dir, Parallel: 4, Timeout: 30 * time.Second})
	require.NoError(t, err)
	var out strings.Builder
	rep.Print(&out)
	t.Log("\n" + out.String())
	require.Equal(t, rep.FlowsTotal, rep.FlowsValid, "every flow of tests/conformance must validate")
	require.NotEmpty(t, rep.Results)
	require.GreaterOrEqual(t, rep.Rate(), minOwnConformance, "Osprey's own conformance fell below %.0f%%", 100*minOwnConformance)
}
