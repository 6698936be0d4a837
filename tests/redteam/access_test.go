package redteam

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAllowedNamespaces restricts secret reads across namespaces through
// the configuration file and through the API, and checks that a denied
// read fails naming both namespaces and nothing else — the same answer
// whether the key exists or not — while allowed reads work.
func TestAllowedNamespaces(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "application.yml")
	require.NoError(t, os.WriteFile(cfg, []byte("osprey:\n  secret:\n    allowed-namespaces:\n      team.payroll: [team.hr]\n"), 0o600))
	s := startServer(t, append(secretEnv(), "KESTRA_SECRET_TYPE=env", "OSPREY_CONFIG_FILES="+cfg))
	code, body := s.do("PUT", "/api/v1/main/namespaces/team.vault", "application/json", `{"id":"team.vault","allowedNamespaces":[{"namespace":"team.ops"}]}`)
	require.Equal(t, 200, code, body)

	read := func(reader, owner, key string) (string, string) {
		id := fmt.Sprintf("read_%s_%s_%s", strings.ReplaceAll(reader, ".", "_"), strings.ReplaceAll(owner, ".", "_"), strings.ToLower(key))
		s.createFlow("id: " + id + "\nnamespace: " + reader + "\ntasks:\n" + returnTask("{{ secret('"+key+"', namespace='"+owner+"') }}"))
		ex := s.execution(s.run(reader, id))
		_, logs := s.do("GET", "/api/v1/main/logs/"+ex["id"].(string), "", "")
		return state(ex), mustJSON(ex) + logs
	}
	for _, c := range []struct {
		reader, owner string
		allowed       bool
	}{
		{"team.hr", "team.payroll", true},           // the configuration allows it
		{"team.marketing", "team.payroll", false},   // the configuration restricts it
		{"team.ops", "team.vault", true},            // the API allows it
		{"team.marketing", "team.vault", false},     // the API restricts it
		{"team.marketing", "team.open", true},       // no rule: Kestra's default
		{"team.payroll.jobs", "team.payroll", true}, // a child reads its parent
	} {
		st, text := read(c.reader, c.owner, "PW")
		require.NotContains(t, text, secretPW)
		if c.allowed {
			require.Equal(t, "SUCCESS", st, "%s reads %s: %s", c.reader, c.owner, text)
			continue
		}
		require.Equal(t, "FAILED", st, "%s reads %s", c.reader, c.owner)
		denial := "namespace " + c.owner + " does not allow namespace " + c.reader + " to read its secrets (allowedNamespaces)"
		require.Contains(t, text, denial)
		_, missing := read(c.reader, c.owner, "NOPE")
		require.Contains(t, missing, denial, "a missing key gets the same answer")
		require.NotContains(t, strings.ToLower(missing), "not found")
	}
}
