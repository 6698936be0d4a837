package config_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/ospreyhq/osprey/config"
)

// memFiles serves configuration files from memory so tests stay hermetic.
func memFiles(files map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		s, ok := files[name]
		if !ok {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		return []byte(s), nil
	}
}

func load(t *testing.T, src config.Sources) (*config.Config, []config.Warning) {
	t.Helper()
	cfg, warns, err := config.Load(t.Context(), src)
	require.NoError(t, err)
	return cfg, warns
}

func loadErr(t *testing.T, src config.Sources) string {
	t.Helper()
	_, _, err := config.Load(t.Context(), src)
	require.Error(t, err)
	return err.Error()
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	cfg, warns := load(t, config.Sources{})
	require.Empty(t, warns)
	require.Equal(t, 8080, cfg.Server.Port)
	require.Equal(t, 8081, cfg.Server.ManagementPort)
	require.Equal(t, config.RepositorySQLite, cfg.Repository.Type)
	require.Equal(t, config.RepositorySQLite, cfg.Queue.Type, "the queue follows the repository")
	require.Equal(t, config.SecretEmbedded, cfg.Secret.Type)
	require.Equal(t, "ENV_", cfg.Variables.EnvVarsPrefix)
	require.Equal(t, "/tmp/osprey", cfg.Tasks.TmpDir)
	require.Equal(t, time.Minute, cfg.Secret.Cache.ExpireAfterWrite)
	require.Equal(t, 10, cfg.Datasource.MaximumPoolSize)
	require.False(t, cfg.Server.BasicAuth.Active())
	require.False(t, cfg.IsSet("micronaut.server.port"))
}

// TestLayerPrecedence sets one key in every layer and removes the highest
// layer one at a time: each time the next layer down must win.
func TestLayerPrecedence(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"env-a.yml": "micronaut:\n  server:\n    port: 1001\n",
		"env-b.yml": "micronaut:\n  server:\n    port: 1002\n",
		"flag.yml":  "micronaut:\n  server:\n    port: 1003\n",
	}
	full := config.Sources{
		Files: []string{"flag.yml"},
		Env: []string{
			"MICRONAUT_CONFIG_FILES=env-a.yml",
			"OSPREY_CONFIG_FILES=env-b.yml",
			"KESTRA_CONFIGURATION=micronaut:\n  server:\n    port: 1004\n",
			"MICRONAUT_SERVER_PORT=1005",
		},
		Overrides: map[string]string{"micronaut.server.port": "1006"},
		ReadFile:  memFiles(files),
	}
	tests := []struct {
		name   string
		modify func(*config.Sources)
		port   int
		source string
	}{
		{name: "flag wins", modify: func(*config.Sources) {}, port: 1006, source: "flag micronaut.server.port"},
		{name: "env binding beats KESTRA_CONFIGURATION", modify: func(s *config.Sources) { s.Overrides = nil }, port: 1005, source: "env MICRONAUT_SERVER_PORT"},
		{name: "KESTRA_CONFIGURATION beats files", modify: func(s *config.Sources) {
			s.Overrides = nil
			s.Env = s.Env[:3]
		}, port: 1004, source: "env KESTRA_CONFIGURATION:3"},
		{name: "-c beats env-listed files", modify: func(s *config.Sources) {
			s.Overrides = nil
			s.Env = s.Env[:2]
		}, port: 1003, source: "file flag.yml:3"},
		{name: "OSPREY_CONFIG_FILES beats MICRONAUT_CONFIG_FILES", modify: func(s *config.Sources) {
			s.Overrides, s.Files = nil, nil
			s.Env = s.Env[:2]
		}, port: 1002, source: "file env-b.yml:3"},
		{name: "a file beats the default", modify: func(s *config.Sources) {
			s.Overrides, s.Files = nil, nil
			s.Env = s.Env[:1]
		}, port: 1001, source: "file env-a.yml:3"},
		{name: "default", modify: func(s *config.Sources) {
			s.Overrides, s.Files, s.Env = nil, nil, nil
		}, port: 8080, source: "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := full
			src.Env = append([]string(nil), full.Env...)
			tt.modify(&src)
			cfg, _ := load(t, src)
			require.Equal(t, tt.port, cfg.Server.Port)
			require.Equal(t, tt.source, cfg.SourceOf("micronaut.server.port").String())
		})
	}
}

func TestLaterFilesWinAndMapsMerge(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"a.yml": "kestra:\n  url: http://a.example/\n  variables:\n    globals:\n      Keep: 1\n      Nested: {A: 1, B: 2}\n",
		"b.yml": "kestra:\n  url: http://b.example/\n  variables:\n    globals:\n      Nested: {B: 3}\n",
	}
	cfg, _ := load(t, config.Sources{Files: []string{"a.yml", "b.yml"}, ReadFile: memFiles(files)})
	require.Equal(t, "http://b.example/", cfg.Server.URL)
	require.Equal(t, map[string]any{"Keep": 1, "Nested": map[string]any{"A": 1, "B": 3}}, cfg.Variables.Globals)
}

func TestMissingFileNamesIt(t *testing.T) {
	t.Parallel()
	msg := loadErr(t, config.Sources{Files: []string{"nope.yml"}, ReadFile: memFiles(nil)})
	require.Contains(t, msg, "nope.yml: cannot read configuration file: file does not exist")
}

func TestKestraConfigurationWholeDocument(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("testdata", "azure-workload-identity.yml"))
	require.NoError(t, err)
	cfg, warns := load(t, config.Sources{Env: []string{"KESTRA_CONFIGURATION=" + string(doc)}, Strict: true})
	require.Empty(t, warns)
	require.Equal(t, config.SecretAzureKeyVault, cfg.Secret.Type)
	require.Equal(t, "my-demo-vault", cfg.Secret.Azure.VaultName)
	require.Equal(t, "00000000-0000-0000-0000-000000000000", cfg.Secret.Azure.WorkloadIdentityClientID)
	require.Equal(t, "https://my-demo-vault.vault.azure.net/", cfg.Secret.Azure.URI())
	require.Equal(t, "env KESTRA_CONFIGURATION:6", cfg.SourceOf("kestra.secret.azure-key-vault.vault-name").String())
}

func TestEnvRelaxedBinding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env   string
		check func(*testing.T, *config.Config)
	}{
		{"KESTRA_SECRET_TYPE=env", func(t *testing.T, c *config.Config) { require.Equal(t, config.SecretEnv, c.Secret.Type) }},
		{"KESTRA_SECRET_AZURE_KEY_VAULT_VAULT_NAME=vault-one", func(t *testing.T, c *config.Config) {
			require.Equal(t, "vault-one", c.Secret.Azure.VaultName)
		}},
		{"KESTRA_SECRET_AZUREKEYVAULT_VAULTNAME=vault-two", func(t *testing.T, c *config.Config) {
			require.Equal(t, "vault-two", c.Secret.Azure.VaultName)
		}},
		{"DATASOURCES_POSTGRES_URL=postgres://db:5432/kestra", func(t *testing.T, c *config.Config) {
			require.Equal(t, "postgres://db:5432/kestra", c.Datasource.URL.Reveal())
		}},
		{"DATASOURCES_POSTGRES_MAXIMUM_POOL_SIZE=25", func(t *testing.T, c *config.Config) { require.Equal(t, 25, c.Datasource.MaximumPoolSize) }},
		{"MICRONAUT_SERVER_PORT=9090", func(t *testing.T, c *config.Config) { require.Equal(t, 9090, c.Server.Port) }},
		{"MICRONAUT_SERVER_HOST=0.0.0.0", func(t *testing.T, c *config.Config) { require.Equal(t, "0.0.0.0", c.Server.Host) }},
		{"ENDPOINTS_ALL_PORT=9091", func(t *testing.T, c *config.Config) { require.Equal(t, 9091, c.Server.ManagementPort) }},
		{"KESTRA_TASKS_TMP_DIR_PATH=/scratch", func(t *testing.T, c *config.Config) { require.Equal(t, "/scratch", c.Tasks.TmpDir) }},
		{"KESTRA_VARIABLES_ENV_VARS_PREFIX=MY_", func(t *testing.T, c *config.Config) { require.Equal(t, "MY_", c.Variables.EnvVarsPrefix) }},
		{"KESTRA_SECRET_CACHE_EXPIRE_AFTER_WRITE=PT2M", func(t *testing.T, c *config.Config) {
			require.Equal(t, 2*time.Minute, c.Secret.Cache.ExpireAfterWrite)
		}},
		{"KESTRA_SECRET_AZURE_KEY_VAULT_ADDITIONALLY_ALLOWED_TENANTS=t1, t2", func(t *testing.T, c *config.Config) {
			require.Equal(t, []string{"t1", "t2"}, c.Secret.Azure.AdditionallyAllowedTenants)
		}},
		{"KESTRA_SECRET_AZURE_KEY_VAULT_FILTER_ON_PREFIX_KEEP_PREFIX=true", func(t *testing.T, c *config.Config) {
			require.True(t, c.Secret.Azure.FilterOnPrefix.KeepPrefix)
		}},
		{"KESTRA_SECRET_JDBC_SECRET=0123456789abcdef0123456789abcdef", func(t *testing.T, c *config.Config) {
			require.Equal(t, "0123456789abcdef0123456789abcdef", c.Secret.Embedded.Key.Reveal())
		}},
		{"OSPREY_DATA_DIR=/var/lib/osprey", func(t *testing.T, c *config.Config) { require.Equal(t, "/var/lib/osprey", c.Osprey.DataDir) }},
		{"OSPREY_HOLIDAYS_DIRECTORY=/etc/osprey/holidays", func(t *testing.T, c *config.Config) {
			require.Equal(t, "/etc/osprey/holidays", c.Osprey.HolidaysDirectory)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Parallel()
			cfg, warns := load(t, config.Sources{Env: []string{tt.env, "PATH=/usr/bin", "KESTRA_UNRELATED_THING=x"}})
			require.Empty(t, warns)
			tt.check(t, cfg)
			name, _, _ := strings.Cut(tt.env, "=")
			found := false
			for _, p := range cfg.Properties() {
				if p.Source.String() == "env "+name {
					found = true
				}
			}
			require.True(t, found, "Properties names %s as the source", name)
		})
	}
}

func TestKebabAndCamelCaseAreEquivalent(t *testing.T) {
	t.Parallel()
	docs := map[string]string{
		"kebab": `
kestra:
  secret:
    type: azure-key-vault
    azure-key-vault:
      vault-name: vault-1
      key-vault-uri: https://vault-1.vault.azure.net/
      filter-on-prefix: {prefix: p-, keep-prefix: true}
  server:
    basic-auth: {enabled: true, username: u, password: pw}
datasources:
  postgres:
    maximum-pool-size: 7
`,
		"camel": `
kestra:
  secret:
    type: azure-key-vault
    azureKeyVault:
      vaultName: vault-1
      keyVaultUri: https://vault-1.vault.azure.net/
      filterOnPrefix: {prefix: p-, keepPrefix: true}
  server:
    basicAuth: {enabled: true, username: u, password: pw}
datasources:
  postgres:
    maximumPoolSize: 7
`,
		"dotted": `
kestra.secret.type: azure-key-vault
kestra.secret.azureKeyVault.vault-name: vault-1
kestra.secret.azure-key-vault.keyVaultURI: https://vault-1.vault.azure.net/
kestra.secret.azure-key-vault.filter-on-prefix.prefix: p-
kestra.secret.azure-key-vault.filter-on-prefix.keepPrefix: true
kestra.server.basic-auth.enabled: true
kestra.server.basic-auth.username: u
kestra.server.basicAuth.password: pw
datasources.postgres.maximum-pool-size: 7
`,
	}
	var props [][]string
	for name, doc := range docs {
		cfg, warns := load(t, config.Sources{Env: []string{"KESTRA_CONFIGURATION=" + doc}, Strict: true})
		require.Empty(t, warns, name)
		require.Equal(t, "vault-1", cfg.Secret.Azure.VaultName, name)
		require.Equal(t, "https://vault-1.vault.azure.net/", cfg.Secret.Azure.KeyVaultURI, name)
		require.True(t, cfg.Secret.Azure.FilterOnPrefix.KeepPrefix, name)
		require.True(t, cfg.Server.BasicAuth.Active(), name)
		require.Equal(t, 7, cfg.Datasource.MaximumPoolSize, name)
		var kv []string
		for _, p := range cfg.Properties() {
			kv = append(kv, p.Key+"="+p.Value)
		}
		props = append(props, kv)
	}
	require.Equal(t, props[0], props[1])
	require.Equal(t, props[0], props[2])
}

func TestPlaceholders(t *testing.T) {
	t.Parallel()
	doc := `
kestra:
  url: ${PUBLIC_URL}
  tasks:
    tmp-dir:
      path: ${TMP_ROOT:/tmp}/osprey-${HOSTNAME:${POD_NAME:local}}
  variables:
    globals:
      region: ${REGION:westeurope}
datasources:
  postgres:
    password: ${PG_PASSWORD}
`
	cfg, _ := load(t, config.Sources{Env: []string{
		"KESTRA_CONFIGURATION=" + doc,
		"PUBLIC_URL=https://osprey.example.com",
		"POD_NAME=osprey-0",
		"PG_PASSWORD=s3cr3t",
	}})
	require.Equal(t, "https://osprey.example.com/", cfg.Server.URL)
	require.Equal(t, "/tmp/osprey-osprey-0", cfg.Tasks.TmpDir)
	require.Equal(t, "westeurope", cfg.Variables.Globals["region"])
	require.Equal(t, "s3cr3t", cfg.Datasource.Password.Reveal())

	t.Run("unresolved without default names the key, the variable and the line", func(t *testing.T) {
		t.Parallel()
		msg := loadErr(t, config.Sources{
			Files:    []string{"app.yml"},
			ReadFile: memFiles(map[string]string{"app.yml": "kestra:\n  url: ${PUBLIC_URL}\n"}),
		})
		require.Contains(t, msg, "app.yml:2: kestra.url: ${PUBLIC_URL} is not set in the environment: set PUBLIC_URL, or write ${PUBLIC_URL:default}")
	})
	t.Run("property-style names read their environment form", func(t *testing.T) {
		t.Parallel()
		cfg, _ := load(t, config.Sources{Env: []string{"KESTRA_CONFIGURATION=kestra:\n  url: ${public.url}\n", "PUBLIC_URL=http://x.example/"}})
		require.Equal(t, "http://x.example/", cfg.Server.URL)
	})
	t.Run("unresolved in globals", func(t *testing.T) {
		t.Parallel()
		msg := loadErr(t, config.Sources{Env: []string{"KESTRA_CONFIGURATION=kestra:\n  variables:\n    globals:\n      a: ${NOPE}\n"}})
		require.Contains(t, msg, "kestra.variables.globals: ${NOPE} is not set")
	})
}

func TestUnknownKeys(t *testing.T) {
	t.Parallel()
	doc := `kestra:
  secret:
    type: azure-key-vault
    azureKeyVault:
      vaultNme: vault-1
      vault-name: vault-1
    vault-name: oops
  storage:
    type: local
micronaut:
  sever:
    port: 1
  server:
    max-request-size: 10GB
logger:
  levels:
    io.kestra: DEBUG
osprey:
  something-new: 1
kestra.url.path: /x
`
	src := config.Sources{Files: []string{"app.yml"}, ReadFile: memFiles(map[string]string{"app.yml": doc})}
	_, warns := load(t, src)
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	require.ElementsMatch(t, []string{
		"app.yml:5: kestra.secret.azure-key-vault.vault-nme: unknown key; did you mean kestra.secret.azure-key-vault.vault-name?",
		"app.yml:7: kestra.secret.vault-name: unknown key; did you mean kestra.secret.azure-key-vault.vault-name?",
		"app.yml:11: micronaut.sever: unknown key; did you mean micronaut.server?",
		"app.yml:14: micronaut.server.max-request-size: Micronaut setting that Osprey does not use; ignored",
		"app.yml:19: osprey.something-new: unknown key; osprey takes data-dir, holidays, limits, pprof, secret, task-identity, tasks, worker",
		"app.yml:20: kestra.url.path: kestra.url takes a single value; it has no keys below it",
	}, got, "the logger section is ignored silently")

	t.Run("strict turns unknown keys into errors but not ignored ones", func(t *testing.T) {
		t.Parallel()
		src := src
		src.Strict = true
		_, _, err := config.Load(t.Context(), src)
		require.Error(t, err)
		errs := config.Errors(err)
		var keys []string
		for _, e := range errs {
			keys = append(keys, e.Key)
		}
		require.ElementsMatch(t, []string{
			"kestra.secret.azure-key-vault.vault-nme", "kestra.secret.vault-name", "micronaut.sever", "osprey.something-new", "kestra.url.path",
		}, keys)
	})
	t.Run("ignored sections are logged at debug", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		src := src
		src.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		load(t, src)
		require.Contains(t, buf.String(), `sections="[app.yml:15: logger]"`)
	})
}

func TestWrongTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, want string
	}{
		{"boolean", "kestra:\n  server:\n    basic-auth:\n      enabled: \"yes\"\n",
			`app.yml:4: kestra.server.basic-auth.enabled: "yes" is not a boolean; write true or false`},
		{"number", "micronaut:\n  server:\n    port: eighty\n",
			`app.yml:3: micronaut.server.port: "eighty" is not a whole number`},
		{"duration", "kestra:\n  secret:\n    cache:\n      expire-after-write: soon\n",
			`app.yml:4: kestra.secret.cache.expire-after-write: "soon" is not a duration; write an ISO-8601 duration such as PT1M or PT30S, or a Go duration such as 1m or 30s`},
		{"mapping for a string", "kestra:\n  url:\n    host: x\n",
			`app.yml:3: kestra.url: expected a string, not a mapping`},
		{"scalar for a section", "kestra:\n  secret: azure\n",
			`app.yml:2: kestra.secret: is a section; expected a mapping of its keys`},
		{"list for a map", "kestra:\n  variables:\n    globals: [a, b]\n",
			`app.yml:3: kestra.variables.globals: expected a mapping, not a list`},
		{"nested tag value", "kestra:\n  secret:\n    azure-key-vault:\n      tags:\n        team: {a: b}\n",
			`kestra.secret.azure-key-vault.tags: expected a mapping of strings; team is not a string`},
		{"invalid YAML", "kestra:\n  url: [\n", `app.yml:2: invalid YAML: did not find expected node content`},
		{"not a mapping", "- a\n- b\n", `app.yml:1: the configuration must be a mapping`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := loadErr(t, config.Sources{Files: []string{"app.yml"}, ReadFile: memFiles(map[string]string{"app.yml": tt.doc})})
			require.Contains(t, msg, tt.want)
		})
	}
	t.Run("env values name the variable", func(t *testing.T) {
		t.Parallel()
		msg := loadErr(t, config.Sources{Env: []string{"ENDPOINTS_ALL_PORT=x"}})
		require.Equal(t, `ENDPOINTS_ALL_PORT: endpoints.all.port: "x" is not a whole number`, msg)
		var e *config.Error
		require.True(t, errors.As(func() error {
			_, _, err := config.Load(t.Context(), config.Sources{Env: []string{"ENDPOINTS_ALL_PORT=x"}})
			return err
		}(), &e))
		require.Equal(t, "env ENDPOINTS_ALL_PORT", e.Source.String())
	})
}

func TestDurations(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"PT1M": time.Minute, "PT30S": 30 * time.Second, "PT0.5S": 500 * time.Millisecond, "P1DT2H": 26 * time.Hour,
		"pt1h30m": 90 * time.Minute, "1m30s": 90 * time.Second, "250ms": 250 * time.Millisecond,
		"+PT1M": time.Minute, // Java's Duration.parse takes a leading +, as flows do
	} {
		cfg, _ := load(t, config.Sources{Env: []string{"KESTRA_SECRET_CACHE_EXPIRE_AFTER_WRITE=" + in}})
		require.Equal(t, want, cfg.Secret.Cache.ExpireAfterWrite, in)
	}
	for _, in := range []string{"P", "PT", "P1H", "PT1D", "1x", "PT1M1"} {
		_, _, err := config.Load(t.Context(), config.Sources{Env: []string{"KESTRA_SECRET_CACHE_EXPIRE_AFTER_WRITE=" + in}})
		require.Error(t, err, in)
	}
}

func TestOverridesRejectUnknownKeys(t *testing.T) {
	t.Parallel()
	msg := loadErr(t, config.Sources{Overrides: map[string]string{"micronaut.server.prot": "1"}})
	require.Contains(t, msg, "micronaut.server.prot: not a key that can be set from a flag")
	cfg, _ := load(t, config.Sources{Overrides: map[string]string{"osprey.dataDir": "/srv/osprey"}})
	require.Equal(t, "/srv/osprey", cfg.Osprey.DataDir, "flag keys match in camelCase too")
	require.Equal(t, "flag osprey.dataDir", cfg.SourceOf("osprey.data-dir").String())
}

func TestExampleConfigurationsLoadStrict(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, p := range paths {
		_, _, err := config.Load(t.Context(), config.Sources{
			Files:  []string{p},
			Env:    []string{"AZURE_CLIENT_SECRET=from-env-secret"},
			Strict: true,
		})
		require.NoError(t, err, p)
	}
}

func TestKestraPostgresGuide(t *testing.T) {
	t.Parallel()
	cfg, warns := load(t, config.Sources{Files: []string{filepath.Join("testdata", "kestra-postgres.yml")}})
	require.Equal(t, config.RepositoryPostgres, cfg.Repository.Type)
	require.Equal(t, config.RepositoryPostgres, cfg.Queue.Type)
	require.True(t, cfg.Server.BasicAuth.ExplicitlyDisabled())
	require.False(t, cfg.Server.BasicAuth.Active())
	require.Equal(t, "/tmp/kestra-wd/tmp", cfg.Tasks.TmpDir)
	conn, err := cfg.Datasource.ConnString()
	require.NoError(t, err)
	require.Equal(t, "postgres://kestra:k3str4@postgres:5432/kestra", conn.Reveal())
	for _, w := range warns {
		require.Equal(t, config.WarnIgnored, w.Kind, w.String())
	}
	require.Len(t, warns, 2, "max-request-size and cors are noted as ignored")
	require.Equal(t, config.StorageLocal, cfg.Storage.Type)
	require.Equal(t, "/app/storage", cfg.Storage.Local.BasePath, "Kestra's basePath is read")
}

func TestAzureFull(t *testing.T) {
	t.Parallel()
	cfg, warns := load(t, config.Sources{
		Files: []string{filepath.Join("testdata", "azure-full.yml")},
		Env:   []string{"AZURE_CLIENT_SECRET=client-secret-value"},
	})
	require.Empty(t, warns)
	s := cfg.Secret
	require.True(t, s.ReadOnly)
	require.Equal(t, config.SecretCache{Enabled: true, MaximumSize: 500, ExpireAfterWrite: 5 * time.Minute}, s.Cache)
	require.True(t, s.Isolation.Denies("webserver"))
	require.False(t, s.Isolation.Denies("worker"))
	a := s.Azure
	require.Equal(t, "client-secret-value", a.ClientSecret.ClientSecret.Reveal())
	require.Equal(t, "22222222-2222-2222-2222-222222222222", a.ClientSecret.ClientID)
	require.Equal(t, []string{"*"}, a.AdditionallyAllowedTenants)
	require.Equal(t, map[string]string{"team": "Data"}, a.Tags)
	require.Equal(t, map[string]string{"application": "osprey"}, a.FilterOnTags.Tags)
	require.Equal(t, config.AzureFilterOnPrefix{Prefix: "prod-"}, a.FilterOnPrefix)
	require.Equal(t, []string{"archived"}, a.ExcludedTags)
	require.Equal(t, "OSPREY_", cfg.Variables.EnvVarsPrefix)
	require.Equal(t, map[string]any{
		"Region": "westeurope", "limits": map[string]any{"maxRows": 10}, "owners": []any{"alice", "bob"},
	}, cfg.Variables.Globals, "globals keep their key case")
	require.Equal(t, cfg.Encryption.SecretKey.Reveal(), s.Embedded.Key.Reveal(), "the embedded key falls back to the encryption key")
}

func TestLocalAliases(t *testing.T) {
	t.Parallel()
	cfg, warns := load(t, config.Sources{Files: []string{filepath.Join("testdata", "local.yml")}})
	require.Equal(t, config.RepositorySQLite, cfg.Repository.Type)
	require.Equal(t, config.SecretEmbedded, cfg.Secret.Type, "Kestra's jdbc secret type is the embedded backend")
	require.Equal(t, "0123456789abcdef0123456789abcdef", cfg.Secret.Embedded.Key.Reveal())
	require.Equal(t, 8090, cfg.Server.Port)
	require.Len(t, warns, 1)
	require.Equal(t, config.WarnNotice, warns[0].Kind)
	require.Contains(t, warns[0].String(), "kestra.repository.type: Kestra's h2 store is read as Osprey's embedded SQLite store")
}

func TestYAMLAnchorsAndMultipleDocuments(t *testing.T) {
	t.Parallel()
	doc := `
common: &common
  port: 9000
micronaut:
  server:
    <<: *common
    host: 0.0.0.0
---
endpoints:
  all:
    port: 9001
`
	cfg, _ := load(t, config.Sources{Env: []string{"KESTRA_CONFIGURATION=" + doc}})
	require.Equal(t, 9000, cfg.Server.Port)
	require.Equal(t, "0.0.0.0", cfg.Server.Host)
	require.Equal(t, 9001, cfg.Server.ManagementPort)
}

func TestLoadHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, err := config.Load(ctx, config.Sources{Files: []string{"a.yml"}, ReadFile: memFiles(map[string]string{"a.yml": ""})})
	require.ErrorIs(t, err, context.Canceled)
}

func ExampleLoad() {
	cfg, warnings, err := config.Load(context.Background(), config.Sources{
		Env: []string{
			"KESTRA_CONFIGURATION=kestra:\n  secret:\n    type: azure-key-vault\n    azureKeyVault:\n      vaultName: my-demo-vault\n",
			"DATASOURCES_POSTGRES_PASSWORD=hunter2hunter2",
		},
		Overrides: map[string]string{"micronaut.server.port": "9090"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(warnings), cfg.Server.Port, cfg.Secret.Azure.URI(), cfg.Datasource.Password)
	// Output: 0 9090 https://my-demo-vault.vault.azure.net/ ******
}

// ensure the yaml import is used by redaction tests in another file.
var _ = yaml.Marshal
var _ = json.Marshal

// TestHostileDocumentsAreBounded: aliases and merge keys can make a small
// document describe a huge or cyclic one; Load must refuse quickly.
func TestHostileDocumentsAreBounded(t *testing.T) {
	t.Parallel()
	laughs := "a: &a {x: 1}\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		laughs += fmt.Sprintf("%s: &%s {<<: [*%s, *%s, *%s, *%s]}\n", n, n, prev, prev, prev, prev)
		prev = n
	}
	laughs += "kestra: {<<: [*h, *h, *h, *h, *h, *h, *h, *h]}\n"
	tests := []struct{ name, doc, want string }{
		{"merge cycle", "kestra: &a\n  <<: [*a, *a]\n", "a merge key (<<) refers to the mapping that holds it"},
		{"merge explosion", laughs, "more than 10000 keys and mappings"},
		{"deep nesting", "kestra:" + strings.Repeat(" {a:", 100) + " 1" + strings.Repeat("}", 100), "kestra.a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, warns, err := config.Load(t.Context(), config.Sources{Env: []string{"KESTRA_CONFIGURATION=" + tt.doc}})
			if err != nil {
				require.Contains(t, err.Error(), tt.want)
				require.LessOrEqual(t, len(config.Errors(err)), 100)
			} else {
				require.Contains(t, warns[0].String(), tt.want)
			}
			require.LessOrEqual(t, len(warns), 100)
		})
	}
}

func TestDottedKeysInsideGlobalsNest(t *testing.T) {
	t.Parallel()
	cfg, _ := load(t, config.Sources{Env: []string{"KESTRA_CONFIGURATION=kestra.variables.globals.team.Name: data\nkestra.variables.globals.team.size: 3\n"}})
	require.Equal(t, map[string]any{"team": map[string]any{"Name": "data", "size": 3}}, cfg.Variables.Globals)
}

func TestAzureCredentialOrder(t *testing.T) {
	t.Parallel()
	base := []string{"KESTRA_SECRET_TYPE=azure-key-vault", "KESTRA_SECRET_AZURE_KEY_VAULT_VAULT_NAME=my-vault"}
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"nothing configured", nil, config.CredentialDefault},
		{"workload identity", []string{"KESTRA_SECRET_AZURE_KEY_VAULT_WORKLOAD_IDENTITY_CLIENT_ID=w"}, config.CredentialWorkloadIdentity},
		{"managed identity before workload identity", []string{
			"KESTRA_SECRET_AZURE_KEY_VAULT_WORKLOAD_IDENTITY_CLIENT_ID=w", "KESTRA_SECRET_AZURE_KEY_VAULT_MANAGED_IDENTITY_CLIENT_ID=m",
		}, config.CredentialManagedIdentity},
		{"client secret first", []string{
			"KESTRA_SECRET_AZURE_KEY_VAULT_MANAGED_IDENTITY_CLIENT_ID=m",
			"KESTRA_SECRET_AZURE_KEY_VAULT_CLIENT_SECRET_TENANT_ID=t",
			"KESTRA_SECRET_AZURE_KEY_VAULT_CLIENT_SECRET_CLIENT_ID=c",
			"KESTRA_SECRET_AZURE_KEY_VAULT_CLIENT_SECRET_CLIENT_SECRET=s",
		}, config.CredentialClientSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, _ := load(t, config.Sources{Env: append(append([]string(nil), base...), tt.env...)})
			require.Equal(t, tt.want, cfg.Secret.Azure.Credential())
		})
	}
}

func TestStorage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc string
		env       []string
		want      string // substring of the error; "" for success
	}{
		{name: "default is local", doc: "kestra:\n  url: http://x/\n"},
		{name: "azure with workload identity", doc: "kestra:\n  storage:\n    type: azure\n    azure:\n      endpoint: https://acct.blob.core.windows.net\n      container: flows\n      workloadIdentityClientId: 00000000-0000-0000-0000-000000000001\n"},
		{name: "azure by connection string alone", doc: "kestra:\n  storage:\n    type: azure\n    azure:\n      container: flows\n      connection-string: ${CS}\n", env: []string{"CS=AccountName=a;AccountKey=b"}},
		{name: "unknown type", doc: "kestra:\n  storage:\n    type: nfs\n", want: `kestra.storage.type: "nfs" is not a storage type; write local or azure`},
		{name: "kestra's gcs", doc: "kestra:\n  storage:\n    type: gcs\n", want: `"gcs" storage is Kestra's but not Osprey's`},
		{name: "azure without container", doc: "kestra:\n  storage:\n    type: azure\n    azure:\n      endpoint: https://a.blob.core.windows.net\n", want: "kestra.storage.azure.container: is required when kestra.storage.type is azure"},
		{name: "azure without endpoint", doc: "kestra:\n  storage:\n    type: azure\n    azure:\n      container: flows\n", want: "kestra.storage.azure.endpoint: is required"},
		{name: "bad container", doc: "kestra:\n  storage:\n    type: azure\n    azure:\n      endpoint: https://a.blob.core.windows.net\n      container: My_Files\n", want: `"My_Files" is not a container name`},
		{name: "half a shared key", doc: "kestra:\n  storage:\n    type: azure\n    azure:\n      endpoint: https://a.blob.core.windows.net\n      container: flows\n      shared-key-account-name: a\n", want: "shared-key-account-name and shared-key-account-access-key go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := config.Sources{Files: []string{"app.yml"}, ReadFile: memFiles(map[string]string{"app.yml": tc.doc}), Env: tc.env}
			if tc.want != "" {
				require.Contains(t, loadErr(t, src), tc.want)
				return
			}
			cfg, warns := load(t, src)
			require.Empty(t, warns)
			require.Contains(t, []string{config.StorageLocal, config.StorageAzure}, cfg.Storage.Type)
		})
	}
	t.Run("secrets are redacted", func(t *testing.T) {
		t.Parallel()
		cfg, _ := load(t, config.Sources{Env: []string{"KESTRA_STORAGE_TYPE=azure", "KESTRA_STORAGE_AZURE_CONTAINER=flows",
			"KESTRA_STORAGE_AZURE_CONNECTION_STRING=AccountName=a;AccountKey=topsecretkey", "KESTRA_STORAGE_AZURE_SAS_TOKEN=sv=1&sig=topsecretsig"}})
		require.Equal(t, "AccountName=a;AccountKey=topsecretkey", cfg.Storage.Azure.ConnectionString.Reveal())
		var out strings.Builder
		require.NoError(t, cfg.WriteProperties(&out, false))
		require.NotContains(t, out.String(), "topsecret")
	})
}
