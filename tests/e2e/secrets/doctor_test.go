package secrets

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/azurefake"
)

// doctorLine finds the line of one check.
func doctorLine(t *testing.T, out, check string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^(PASS|FAIL|WARN|SKIP)\s+` + regexp.QuoteMeta(check) + `: .*$`).FindString(out)
	require.NotEmpty(t, m, "no %q line in:\n%s", check, out)
	return m
}

// TestDoctor runs `osprey secrets doctor` inside the pod against a healthy
// set-up and against each failure users meet, checking the verdict and the
// fix of the line that matters.
func TestDoctor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		o    podOptions
		down bool
		// prepare breaks the set-up further before the doctor runs.
		prepare func(p *pod)
		code    int
		check   string
		want    []string
	}{
		{name: "healthy", o: podOptions{role: azurefake.RoleSecretsOfficer}, code: 0, check: "set permission", want: []string{"PASS"}},
		{name: "no webhook variables", o: podOptions{noTokenFileVar: true, role: azurefake.RoleSecretsOfficer}, code: 1, check: "environment",
			want: []string{"FAIL", "AZURE_FEDERATED_TOKEN_FILE not set", `azure.workload.identity/use: "true"`}},
		{name: "no federated credential", o: podOptions{noFederated: true, role: azurefake.RoleSecretsOfficer}, code: 1, check: "token exchange",
			want: []string{"FAIL", "AADSTS70021", "az identity federated-credential create", "--subject system:serviceaccount:osprey:osprey"}},
		{name: "subject mismatch", o: podOptions{subject: azurefake.Subject("osprey", "someone-else"), role: azurefake.RoleSecretsOfficer}, code: 1, check: "token exchange",
			want: []string{"FAIL", "AADSTS700213", "subject"}},
		{name: "secrets user only", o: podOptions{role: azurefake.RoleSecretsUser}, code: 1, check: "set permission",
			want: []string{"FAIL", `"Key Vault Secrets Officer"`, "az role assignment create", "read-only: true"}},
		{name: "secrets user read-only", o: podOptions{role: azurefake.RoleSecretsUser, yaml: guideYAML + "    read-only: true\n"}, code: 0, check: "set permission",
			want: []string{"SKIP"}},
		{name: "no role", o: podOptions{}, code: 1, check: "get permission",
			want: []string{"FAIL", `"Key Vault Secrets User"`}},
		{name: "vault in another tenant", o: podOptions{role: azurefake.RoleSecretsOfficer, vaultTenant: "11111111-2222-3333-4444-555555555555"}, code: 1, check: "vault challenge",
			want: []string{"FAIL", "trusts tenant 11111111-2222-3333-4444-555555555555", "additionally-allowed-tenants"}},
		{name: "vault down", o: podOptions{role: azurefake.RoleSecretsOfficer}, down: true, code: 1, check: "vault challenge",
			want: []string{"FAIL", "cannot reach"}},
		{name: "token not rotated", o: podOptions{role: azurefake.RoleSecretsOfficer, frozenToken: true}, code: 1, check: "token file",
			prepare: func(p *pod) { p.emu.Clock().Advance(2 * time.Hour) },
			want:    []string{"FAIL", "expired", "kubelet"}},
		{name: "token not rotated exchange", o: podOptions{role: azurefake.RoleSecretsOfficer, frozenToken: true}, code: 1, check: "token exchange",
			prepare: func(p *pod) { p.emu.Clock().Advance(2 * time.Hour) },
			want:    []string{"FAIL", "AADSTS700024", "projected token"}},
		{name: "throttled vault", o: podOptions{role: azurefake.RoleSecretsOfficer}, code: 1, check: "list permission",
			prepare: func(p *pod) { p.vault.Faults().ThrottleNext(100, time.Second) },
			want:    []string{"FAIL", "throttling (429)", "expire-after-write"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPod(t, tc.o)
			if tc.down {
				p.vault.Faults().SetDown(true)
			}
			if tc.prepare != nil {
				tc.prepare(p)
			}
			code, out, stderr := p.run("secrets", "doctor")
			require.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", out, stderr)
			line := doctorLine(t, out, tc.check)
			for _, w := range tc.want {
				require.Contains(t, line, w)
			}
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				require.Regexp(t, `^(PASS|FAIL|WARN|SKIP)\s+[a-z ]+: `, l, "one line per check")
			}
			t.Log("\n" + out)
			if tc.name == "healthy" {
				for _, c := range []string{"config", "environment", "token file", "token exchange", "vault challenge", "list permission", "get permission"} {
					require.Contains(t, doctorLine(t, out, c), "PASS")
				}
				require.Contains(t, doctorLine(t, out, "token file"), "sub system:serviceaccount:osprey:osprey")
			}
		})
	}
}
