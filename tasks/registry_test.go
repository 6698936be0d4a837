package tasks

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLegacyNames: type names older Kestra flows use resolve to today's.
func TestLegacyNames(t *testing.T) {
	t.Parallel()
	r := New()
	for legacy, canon := range map[string]string{
		"io.kestra.plugin.fs.http.Trigger":  pHTTPTrigger,
		"io.kestra.plugin.fs.http.Request":  pHTTPRequest,
		"io.kestra.core.tasks.scripts.Bash": pShell,
	} {
		require.Equal(t, canon, r.Canonical(legacy), legacy)
		require.True(t, r.Known(legacy), legacy)
	}
	for _, typ := range []string{pShellScript, pPythonScript, pPythonCommands, pNodeScript, pNodeCommands} {
		require.True(t, r.Known(typ), typ)
	}
}
