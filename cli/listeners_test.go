package cli

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
)

// Flow listeners were removed in Kestra 2025.1: a flow that still has them
// validates (checked as Kestra 0.21 did) and the validate endpoint warns
// that they will not run, rather than dropping them silently; a listener
// with no tasks or an unknown task type is refused (Kestra 0.21's
// FlowValidator).
func TestValidateWarnsAboutListeners(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, &conformance.Env{})
	validate := func(src string) []struct {
		Constraints string   `json:"constraints"`
		Warnings    []string `json:"warnings"`
	} {
		code, body, err := sys.HTTP(t.Context(), http.MethodPost, "/api/v1/main/flows/validate", "application/x-yaml", []byte(src))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code, string(body))
		var got []struct {
			Constraints string   `json:"constraints"`
			Warnings    []string `json:"warnings"`
		}
		require.NoError(t, json.Unmarshal(body, &got))
		require.Len(t, got, 1)
		return got
	}
	const head = "id: listened\nnamespace: company.team\ntasks:\n  - id: main\n    type: io.kestra.plugin.core.log.Log\n    message: hi\nlisteners:\n"
	got := validate(head + "  - tasks:\n      - id: notify\n        type: io.kestra.plugin.core.log.Log\n        message: done\n")
	require.Empty(t, got[0].Constraints)
	require.Len(t, got[0].Warnings, 1)
	require.Contains(t, got[0].Warnings[0], "listeners are ignored")

	got = validate(head + "  - tasks: []\n")
	require.Contains(t, got[0].Constraints, "a listener needs at least one task under tasks")
	got = validate(head + "  - tasks:\n      - id: notify\n        type: io.kestra.plugin.core.log.Nope\n")
	require.Contains(t, got[0].Constraints, `unknown task type "io.kestra.plugin.core.log.Nope"`)
}
