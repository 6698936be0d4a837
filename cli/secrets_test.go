package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// runCLI runs osprey in-process with a config file and an environment.
func runCLI(t *testing.T, cfg string, environ []string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "application.yml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	var out, errb bytes.Buffer
	code := Main(context.Background(), append([]string{"-c", path}, args...), strings.NewReader(stdin), &out, &errb, environ)
	return code, out.String(), errb.String()
}

func TestSecretsCommandsEmbedded(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	cfg := "kestra:\n  secret:\n    type: embedded\n"
	run := func(stdin string, args ...string) (int, string, string) {
		return runCLI(t, cfg, nil, stdin, append(args, "--data-dir", data)...)
	}
	code, out, errs := run("cli-s3cret-value\n", "secrets", "put", "company", "DB_PASSWORD", "--description", "primary", "--tag", "team=data")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "secret DB_PASSWORD written in company")

	code, out, _ = run("", "secrets", "list")
	require.Equal(t, 0, code)
	require.Contains(t, out, "company")
	require.Contains(t, out, "DB_PASSWORD")
	require.Contains(t, out, "primary")
	require.NotContains(t, out, "cli-s3cret-value")

	code, _, errs = run("", "secrets", "put", "company", "OTHER", "--value", "on-the-command-line")
	require.Equal(t, 2, code)
	require.Contains(t, errs, "--value-from-argv")

	code, out, _ = run("", "secrets", "doctor")
	require.Equal(t, 0, code)
	require.Contains(t, out, "PASS  list: 1 secret(s) visible")

	code, _, _ = run("", "secrets", "delete", "company", "DB_PASSWORD")
	require.Equal(t, 0, code)
	code, _, errs = run("", "secrets", "delete", "company", "DB_PASSWORD")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "not found")

	raw, err := os.ReadFile(filepath.Join(data, "osprey.db"))
	require.NoError(t, err)
	require.NotContains(t, string(raw), "cli-s3cret-value")
}

func TestSecretsCommandsReadOnlyEnv(t *testing.T) {
	t.Parallel()
	environ := []string{"SECRET_API_TOKEN=" + base64.StdEncoding.EncodeToString([]byte("tok-abcdef"))}
	cfg := "kestra:\n  secret:\n    type: env\n"
	code, out, _ := runCLI(t, cfg, environ, "", "secrets", "list")
	require.Equal(t, 0, code)
	require.Contains(t, out, "(global)")
	require.Contains(t, out, "API_TOKEN")
	require.NotContains(t, out, "tok-abcdef")
	code, _, errs := runCLI(t, cfg, environ, "v\n", "secrets", "put", "a", "K")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "read-only")
}
