package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	goccy "github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/ospreyhq/osprey/config"
)

// secretValues are planted in every secret-bearing key; none may appear in
// any output.
var secretValues = []string{
	"basic-auth-pa55word",
	"datasource-pa55word",
	"client-secret-pa55word",
	"encryption-key-0123456789abcdef0123456789",
	"embedded-key-0123456789abcdef0123456789ab",
	"url-pa55word",
}

func secretConfig(t *testing.T) *config.Config {
	t.Helper()
	doc := `
kestra:
  server:
    basic-auth: {username: admin, password: basic-auth-pa55word}
  repository: {type: postgres}
  encryption: {secret-key: encryption-key-0123456789abcdef0123456789}
  secret:
    type: azure-key-vault
    embedded: {key: embedded-key-0123456789abcdef0123456789ab}
    azure-key-vault:
      vault-name: my-vault
      client-secret: {tenant-id: t, client-id: c, client-secret: client-secret-pa55word}
datasources:
  postgres:
    url: jdbc:postgresql://db:5432/kestra?password=url-pa55word&ssl=true
    username: kestra
    password: datasource-pa55word
`
	cfg, _, err := config.Load(t.Context(), config.Sources{Env: []string{"KESTRA_CONFIGURATION=" + doc}})
	require.NoError(t, err)
	require.Equal(t, "client-secret-pa55word", cfg.Secret.Azure.ClientSecret.ClientSecret.Reveal(), "Reveal gives the value back")
	return cfg
}

func requireNoSecret(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range secretValues {
		require.NotContains(t, out, s, what)
	}
	require.NotContains(t, out, "pa55word", what)
}

func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	cfg := secretConfig(t)

	var props bytes.Buffer
	require.NoError(t, cfg.WriteProperties(&props, true))
	requireNoSecret(t, "properties", props.String())
	require.Contains(t, props.String(), "kestra.server.basic-auth.password=******")
	require.Contains(t, props.String(), "datasources.postgres.password=******")
	require.Contains(t, props.String(), "kestra.secret.azure-key-vault.client-secret.client-secret=******")

	j, err := json.Marshal(cfg)
	require.NoError(t, err)
	requireNoSecret(t, "json", string(j))
	require.Contains(t, string(j), `"Password":"******"`)

	y, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	requireNoSecret(t, "yaml", string(y))

	g, err := goccy.Marshal(cfg)
	require.NoError(t, err)
	requireNoSecret(t, "goccy yaml", string(g))

	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("config", "password", cfg.Datasource.Password, "datasource", cfg.Datasource, "secret", cfg.Secret)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "cfg", cfg, "key", cfg.Encryption.SecretKey)
	requireNoSecret(t, "slog", logs.String())
	require.Contains(t, logs.String(), `"password":"******"`)

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		requireNoSecret(t, verb, fmt.Sprintf(verb, cfg))
		requireNoSecret(t, verb, fmt.Sprintf(verb, *cfg))
		requireNoSecret(t, verb, fmt.Sprintf(verb, cfg.Datasource.Password))
	}
	requireNoSecret(t, "redacted url", cfg.Datasource.Redacted())
	require.Equal(t, "postgres://kestra:******@db:5432/kestra?sslmode=require", cfg.Datasource.Redacted())
}

func TestSecretsStayOutOfErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, doc string }{
		{"secret given as a mapping", "datasources:\n  postgres:\n    password: {value: datasource-pa55word}\n"},
		{"invalid datasource url carrying a password", "datasources:\n  postgres:\n    url: \"postgres://u:url-pa55word@db:5432/%zz\"\n"},
		{"mysql url with a password", "datasources:\n  postgres:\n    url: jdbc:mysql://db/kestra?password=url-pa55word\n"},
		{"short encryption key", "kestra:\n  encryption:\n    secret-key: url-pa55word\n"},
		{"unknown key holding a secret", "kestra:\n  secret:\n    azure-key-vault:\n      client-secrt: client-secret-pa55word\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, warns, err := config.Load(t.Context(), config.Sources{Env: []string{"KESTRA_CONFIGURATION=" + tt.doc}, Strict: true})
			require.Error(t, err)
			requireNoSecret(t, "error", err.Error())
			for _, w := range warns {
				requireNoSecret(t, "warning", w.String())
			}
		})
	}
}

func TestSecretZeroValue(t *testing.T) {
	t.Parallel()
	var s config.Secret
	require.True(t, s.IsZero())
	require.Empty(t, s.String(), "an unset secret shows as empty, so a missing value is visible")
	require.Empty(t, s.Reveal())
	require.True(t, config.NewSecret("").IsZero())
	require.Equal(t, "******", config.NewSecret("x").String())
	require.True(t, strings.HasPrefix(fmt.Sprintf("%#v", config.NewSecret("x")), "config.Secret("))
}
