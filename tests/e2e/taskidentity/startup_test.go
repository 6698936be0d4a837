package taskidentity

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/cli"
	"github.com/ospreyhq/osprey/devkit/testkit"
)

// TestStartupRefusesWhatCannotWork: a worker allowed to hand out tokens
// but without a usable identity, or with an audience that is not one,
// stops at start-up with the key or the missing piece named.
func TestStartupRefusesWhatCannotWork(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml string
		environ    []string
		want       string
	}{
		{
			name: "token file missing",
			yaml: "osprey:\n  task-identity:\n    audiences:\n      company: [https://storage.azure.com]\n",
			environ: []string{"AZURE_CLIENT_ID=" + clientID, "AZURE_TENANT_ID=tenant",
				"AZURE_FEDERATED_TOKEN_FILE=/nonexistent/azure-identity-token"},
			want: "osprey.task-identity.audiences is set, so the worker needs an Azure identity of its own: AZURE_FEDERATED_TOKEN_FILE /nonexistent/azure-identity-token cannot be read",
		},
		{
			name: "not an audience",
			yaml: "osprey:\n  task-identity:\n    audiences:\n      company: [storage]\n",
			want: `osprey.task-identity.audiences.company: "storage" is not an audience; write the resource URI, e.g. https://storage.azure.com or https://vault.azure.net`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "application.yml"), []byte(tc.yaml), 0o600))
			var out, errb bytes.Buffer
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			code := cli.Run(ctx, &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: tc.environ},
				[]string{"-c", filepath.Join(dir, "application.yml"), "server", "local", "--port", fmt.Sprint(testkit.Port(t)),
					"--management-port", "0", "--data-dir", filepath.Join(dir, "data")})
			require.NoError(t, ctx.Err(), "osprey stopped by itself")
			require.NotEqual(t, 0, code)
			require.Contains(t, errb.String()+out.String(), tc.want)
		})
	}
}
