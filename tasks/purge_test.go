package tasks

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWildcard: keyPattern and namespacePattern match as Kestra's
// FilenameUtils.wildcardMatch (PurgeKVTest's "*ey*", "*arent*").
func TestWildcard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*ey*", "key_1", true},
		{"*ey*", "not_found", false},
		{"*arent*", "parent.child", true},
		{"*arent*", "io.kestra.tests", false},
		{"AI_*", "AI_", true},
		{"AI_?", "AI_12", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"", "", true},
		{"*", "", true},
		{"Key", "key", false},
	} {
		require.Equal(t, tc.want, wildcard(tc.pattern, tc.s), "%q on %q", tc.pattern, tc.s)
	}
}

func TestPurgeTaskChecks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, yaml, want string }{
		{"executions need endDate", "type: io.kestra.plugin.core.execution.PurgeExecutions", `property "endDate" is required`},
		{"legacy name", "type: io.kestra.plugin.core.storage.Purge", `property "endDate" is required`},
		{"known states", "type: io.kestra.plugin.core.execution.PurgeExecutions\nendDate: x\nstates: [DONE]", `unknown state "DONE"`},
		{"logs need endDate", "type: io.kestra.plugin.core.log.PurgeLogs", `property "endDate" is required`},
		{"known levels", "type: io.kestra.plugin.core.log.PurgeLogs\nendDate: x\nlogLevels: [FATAL]", `unknown level "FATAL"`},
		{"namespaces or a pattern", "type: io.kestra.plugin.core.kv.PurgeKV\nnamespaces: [a]\nnamespacePattern: 'a*'", "can't be used at the same time"},
		{"behavior by key", "type: io.kestra.plugin.core.kv.PurgeKV\nbehavior:\n  type: version", `unknown behavior type "version"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, parseErr(t, tc.yaml), tc.want)
		})
	}
}
