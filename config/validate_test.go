package config_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/config"
)

func TestValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		env  []string
		want string
	}{
		{
			name: "azure key vault without a vault",
			doc:  "kestra:\n  secret:\n    type: azure-key-vault\n",
			want: "KESTRA_CONFIGURATION:3: kestra.secret.azure-key-vault.vault-name: is required when kestra.secret.type is azure-key-vault: set it to your vault's name (az keyvault list -o table), or set kestra.secret.azure-key-vault.key-vault-uri",
		},
		{
			name: "unknown secret type lists the valid ones",
			env:  []string{"KESTRA_SECRET_TYPE=vault"},
			want: `KESTRA_SECRET_TYPE: kestra.secret.type: "vault" is not a secret manager type; write one of azure-key-vault, env, embedded (Kestra's jdbc is read as embedded)`,
		},
		{
			name: "postgres without a datasource",
			doc:  "kestra:\n  repository:\n    type: postgres\n",
			want: "datasources.postgres.url: is required when kestra.repository.type is postgres: set it to jdbc:postgresql://host:5432/kestra or postgres://host:5432/kestra (or DATASOURCES_POSTGRES_URL)",
		},
		{
			name: "unknown repository type",
			doc:  "kestra:\n  repository:\n    type: elasticsearch\n",
			want: `KESTRA_CONFIGURATION:3: kestra.repository.type: "elasticsearch" is not a repository type; write sqlite`,
		},
		{
			name: "queue on another database",
			doc:  "kestra:\n  queue:\n    type: postgres\n",
			want: "kestra.queue.type: postgres does not match kestra.repository.type sqlite: Osprey's queue lives in the repository's database",
		},
		{
			name: "basic auth enabled without a password",
			doc:  "kestra:\n  server:\n    basic-auth:\n      enabled: true\n      username: admin\n",
			want: "kestra.server.basic-auth.password: is required when basic auth is enabled",
		},
		{
			name: "basic auth enabled without a username",
			doc:  "kestra:\n  server:\n    basic-auth:\n      enabled: true\n",
			want: "kestra.server.basic-auth.username: is required when basic auth is enabled",
		},
		{
			name: "invalid vault name",
			env:  []string{"KESTRA_SECRET_TYPE=azure-key-vault", "KESTRA_SECRET_AZURE_KEY_VAULT_VAULT_NAME=my_vault"},
			want: `kestra.secret.azure-key-vault.vault-name: "my_vault" is not a Key Vault name`,
		},
		{
			name: "vault uri must be https",
			env:  []string{"KESTRA_SECRET_TYPE=azure-key-vault", "KESTRA_SECRET_AZURE_KEY_VAULT_KEY_VAULT_URI=http://vault"},
			want: `kestra.secret.azure-key-vault.key-vault-uri: "http://vault" is not an https URL`,
		},
		{
			name: "partial client secret",
			doc:  "kestra:\n  secret:\n    type: azure-key-vault\n    azure-key-vault:\n      vault-name: my-vault\n      client-secret:\n        client-id: abc\n",
			want: "kestra.secret.azure-key-vault.client-secret.tenant-id: is required with the other client-secret settings",
		},
		{
			name: "unknown denied service",
			doc:  "kestra:\n  secret:\n    isolation:\n      enabled: true\n      denied-services: [EXECUTOR, ui]\n",
			want: `kestra.secret.isolation.denied-services: "ui" is not a service; write any of executor, indexer, scheduler, webserver, worker`,
		},
		{
			name: "env encoding",
			doc:  "kestra:\n  secret:\n    type: env\n    env:\n      encoding: hex\n",
			want: `kestra.secret.env.encoding: "hex" is not an encoding; write base64 (Kestra's default) or raw`,
		},
		{
			name: "short encryption key",
			env:  []string{"KESTRA_ENCRYPTION_SECRET_KEY=short"},
			want: "kestra.encryption.secret-key: must be at least 32 characters; generate one with: openssl rand -base64 32",
		},
		{
			name: "task identity audiences not a list",
			doc:  "osprey:\n  task-identity:\n    audiences:\n      company.team:\n        storage: true\n",
			want: "osprey.task-identity.audiences.company.team: must be a list of audiences such as [https://storage.azure.com]",
		},
		{
			name: "same port twice",
			env:  []string{"ENDPOINTS_ALL_PORT=8080"},
			want: "endpoints.all.port: 8080 is also micronaut.server.port",
		},
		{
			name: "port out of range",
			env:  []string{"MICRONAUT_SERVER_PORT=70000"},
			want: "micronaut.server.port: 70000 is not a TCP port",
		},
		{
			name: "relative kestra.url",
			env:  []string{"KESTRA_URL=osprey.example.com"},
			want: `kestra.url: "osprey.example.com/" is not an absolute http(s) URL`,
		},
		{
			name: "datasource for another database",
			env:  []string{"DATASOURCES_POSTGRES_URL=jdbc:mysql://db:3306/kestra"},
			want: "datasources.postgres.url: is a JDBC URL for another database",
		},
		{
			name: "cache without room",
			doc:  "kestra:\n  secret:\n    cache:\n      maximum-size: 0\n",
			want: "kestra.secret.cache.maximum-size: 0: must be at least 1 while the cache is enabled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := tt.env
			if tt.doc != "" {
				env = append(env, "KESTRA_CONFIGURATION="+tt.doc)
			}
			msg := loadErr(t, config.Sources{Env: env})
			require.Contains(t, msg, tt.want)
		})
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	t.Parallel()
	_, _, err := config.Load(t.Context(), config.Sources{Env: []string{
		"KESTRA_SECRET_TYPE=azure-key-vault",
		"KESTRA_REPOSITORY_TYPE=postgres",
		"MICRONAUT_SERVER_PORT=x",
	}})
	require.Len(t, config.Errors(err), 3)
}

func TestBasicAuthStates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		env              []string
		active, disabled bool
	}{
		{name: "absent", active: false, disabled: false},
		{name: "credentials imply enabled", env: []string{"KESTRA_SERVER_BASIC_AUTH_USERNAME=a", "KESTRA_SERVER_BASIC_AUTH_PASSWORD=b"}, active: true},
		{name: "explicitly disabled", env: []string{"KESTRA_SERVER_BASIC_AUTH_ENABLED=false"}, disabled: true},
		{name: "explicitly enabled", env: []string{"KESTRA_SERVER_BASIC_AUTH_ENABLED=TRUE", "KESTRA_SERVER_BASIC_AUTH_USERNAME=a", "KESTRA_SERVER_BASIC_AUTH_PASSWORD=b"}, active: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, _ := load(t, config.Sources{Env: tt.env})
			require.Equal(t, tt.active, cfg.Server.BasicAuth.Active())
			require.Equal(t, tt.disabled, cfg.Server.BasicAuth.ExplicitlyDisabled())
		})
	}
}
