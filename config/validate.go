package config

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// repositoryAliases maps every accepted kestra.repository.type /
// kestra.queue.type onto Osprey's store.
var repositoryAliases = map[string]string{
	"sqlite":     RepositorySQLite,
	"embedded":   RepositorySQLite,
	"h2":         RepositorySQLite,
	"memory":     RepositorySQLite,
	"jdbc":       RepositorySQLite,
	"postgres":   RepositoryPostgres,
	"postgresql": RepositoryPostgres,
}

// secretAliases maps every accepted kestra.secret.type onto a backend.
var secretAliases = map[string]string{
	"azure-key-vault": SecretAzureKeyVault,
	"env":             SecretEnv,
	"embedded":        SecretEmbedded,
	"jdbc":            SecretEmbedded,
}

// services are Kestra's component names, as isolation.denied-services takes them.
var services = []string{"executor", "indexer", "scheduler", "webserver", "worker"}

// vaultName is Azure's rule for vault names.
var vaultName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$`)

// normalise resolves aliases and spellings into the values components
// switch on, with a notice where Osprey reads Kestra's value differently.
func (l *loader) normalise(c *Config) {
	const repoKey, queueKey = "kestra.repository.type", "kestra.queue.type"
	if t, ok := repositoryAliases[strings.ToLower(c.Repository.Type)]; ok {
		if t == RepositorySQLite && !strings.EqualFold(c.Repository.Type, RepositorySQLite) && !strings.EqualFold(c.Repository.Type, "embedded") {
			l.warn(WarnNotice, repoKey, c.SourceOf(repoKey), "Kestra's %s store is read as Osprey's embedded SQLite store", c.Repository.Type)
		}
		c.Repository.Type = t
	} else {
		l.fail(errorf(repoKey, c.SourceOf(repoKey), "%q is not a repository type; write sqlite (embedded; Kestra's h2 and memory are read as sqlite) or postgres", c.Repository.Type))
	}
	switch q := strings.ToLower(c.Queue.Type); {
	case q == "":
		c.Queue.Type = c.Repository.Type
	case repositoryAliases[q] == "":
		l.fail(errorf(queueKey, c.SourceOf(queueKey), "%q is not a queue type; write sqlite or postgres (the same as kestra.repository.type), or leave it out", c.Queue.Type))
	case repositoryAliases[q] != c.Repository.Type && repositoryAliases[strings.ToLower(c.Repository.Type)] != "":
		l.fail(errorf(queueKey, c.SourceOf(queueKey), "%s does not match kestra.repository.type %s: Osprey's queue lives in the repository's database; set both to the same value or leave kestra.queue.type out", c.Queue.Type, c.Repository.Type))
	default:
		c.Queue.Type = repositoryAliases[q]
	}

	const secretKey = "kestra.secret.type"
	if t, ok := secretAliases[kebab(strings.TrimSpace(c.Secret.Type))]; ok {
		c.Secret.Type = t
	} else {
		l.fail(errorf(secretKey, c.SourceOf(secretKey), "%q is not a secret manager type; write one of azure-key-vault, env, embedded (Kestra's jdbc is read as embedded)", c.Secret.Type))
	}
	c.Secret.Env.Encoding = strings.ToLower(c.Secret.Env.Encoding)
	for i, s := range c.Secret.Isolation.DeniedServices {
		c.Secret.Isolation.DeniedServices[i] = strings.ToLower(s)
	}
	if c.Secret.Embedded.Key.IsZero() {
		c.Secret.Embedded.Key = c.Encryption.SecretKey
	}
	const storageKey = "kestra.storage.type"
	switch t := strings.ToLower(strings.TrimSpace(c.Storage.Type)); t {
	case StorageLocal, StorageAzure:
		c.Storage.Type = t
	case "gcs", "s3", "minio", "gcp", "aws":
		l.fail(errorf(storageKey, c.SourceOf(storageKey), "%q storage is Kestra's but not Osprey's: write local (files under the data directory) or azure (a Blob Storage container)", c.Storage.Type))
	default:
		l.fail(errorf(storageKey, c.SourceOf(storageKey), "%q is not a storage type; write local or azure", c.Storage.Type))
	}
	if c.Server.URL != "" && !strings.HasSuffix(c.Server.URL, "/") {
		// Kestra documents kestra.url with a trailing slash; links are built on it.
		c.Server.URL += "/"
	}
}

// validate checks values against each other and spells out the fix.
func (l *loader) validate(c *Config) {
	bad := func(key, format string, args ...any) {
		l.fail(errorf(key, c.SourceOf(key), format, args...))
	}
	// required reports a missing key at the place of the setting that
	// requires it, since the missing one has no place.
	required := func(key, because, format string, args ...any) {
		l.fail(errorf(key, c.SourceOf(because), format, args...))
	}

	for _, p := range []struct {
		key  string
		port int
	}{{"micronaut.server.port", c.Server.Port}, {"endpoints.all.port", c.Server.ManagementPort}} {
		if p.port < 0 || p.port > 65535 {
			bad(p.key, "%d is not a TCP port; use 1-65535", p.port)
		}
	}
	if c.Server.Port != 0 && c.Server.Port == c.Server.ManagementPort {
		bad("endpoints.all.port", "%d is also micronaut.server.port: the management server needs its own port (default 8081)", c.Server.ManagementPort)
	}
	if c.Server.URL != "" {
		if u, err := url.Parse(c.Server.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("kestra.url", "%q is not an absolute http(s) URL; write e.g. https://osprey.example.com/", c.Server.URL)
		}
	}
	ba := c.Server.BasicAuth
	if ba.Active() || ba.Username != "" || !ba.Password.IsZero() {
		switch {
		case ba.ExplicitlyDisabled():
		case ba.Username == "":
			required("kestra.server.basic-auth.username", "kestra.server.basic-auth.enabled", "is required when basic auth is enabled: set it, or set kestra.server.basic-auth.enabled: false")
		case ba.Password.IsZero():
			required("kestra.server.basic-auth.password", "kestra.server.basic-auth.username", "is required when basic auth is enabled: set it (KESTRA_SERVER_BASIC_AUTH_PASSWORD keeps it out of files), or set kestra.server.basic-auth.enabled: false")
		}
	}

	if c.Repository.Type == RepositoryPostgres {
		if c.Datasource.URL.IsZero() {
			required("datasources.postgres.url", "kestra.repository.type", "is required when kestra.repository.type is postgres: set it to jdbc:postgresql://host:5432/kestra or postgres://host:5432/kestra (or DATASOURCES_POSTGRES_URL)")
		}
	}
	if !c.Datasource.URL.IsZero() {
		_, _, notices, err := pgURL(c.Datasource.URL.Reveal())
		if err != nil {
			// The message never repeats the URL: it may hold a password.
			bad("datasources.postgres.url", "%s", err.Error())
		}
		for _, n := range notices {
			l.warn(WarnNotice, "datasources.postgres.url", c.SourceOf("datasources.postgres.url"), "%s", n)
		}
	}
	if c.Datasource.MaximumPoolSize < 1 {
		bad("datasources.postgres.maximum-pool-size", "%d: must be at least 1 (default 10)", c.Datasource.MaximumPoolSize)
	}
	if d := c.Datasource.DriverClassName; d != "" && d != "org.postgresql.Driver" {
		l.warn(WarnNotice, "datasources.postgres.driver-class-name", c.SourceOf("datasources.postgres.driver-class-name"), "%s is ignored: Osprey always uses its own PostgreSQL driver", d)
	}

	l.validateSecret(c, bad, required)
	l.validateStorage(c, bad, required)

	if strings.TrimSpace(c.Tasks.TmpDir) == "" {
		bad("kestra.tasks.tmp-dir.path", "must not be empty (default /tmp/osprey)")
	}
	if strings.TrimSpace(c.Osprey.DataDir) == "" {
		bad("osprey.data-dir", "must not be empty (default ./data)")
	}
	if c.Osprey.MaxLeaseExpiries < 1 {
		bad("osprey.worker.max-lease-expiries", "%d: must be at least 1 (default 3)", c.Osprey.MaxLeaseExpiries)
	}
	if c.Osprey.WorkerLease < time.Second {
		bad("osprey.worker.lease", "%s: must be at least 1s (default PT30S)", c.Osprey.WorkerLease)
	}
	if c.Osprey.Limits.LoopItems < 1 {
		bad("osprey.limits.loop-items", "must be at least 1 (default 10000)")
	}
	if c.Osprey.Limits.ExpressionTimeout <= 0 {
		bad("osprey.limits.expression-timeout", "must be a positive duration such as 10s (default 10s)")
	}
	if c.Osprey.Limits.JQMemoryMB < 1 {
		bad("osprey.limits.jq-memory-mb", "must be at least 1 (default 256)")
	}
	for ns, v := range c.Osprey.AllowedNamespaces {
		if _, ok := v.([]any); !ok {
			if _, ok := v.(string); !ok {
				bad("osprey.secret.allowed-namespaces."+ns, "must be a list of namespaces (or comma-separated text)")
			}
		}
	}
	for ns, v := range c.Osprey.TaskIdentityAudiences {
		ok := false
		switch x := v.(type) {
		case string:
			ok = true
		case []any:
			ok = !slices.ContainsFunc(x, func(a any) bool { _, s := a.(string); return !s })
		}
		if !ok {
			bad("osprey.task-identity.audiences."+ns, "must be a list of audiences such as [https://storage.azure.com]")
		}
	}
	for _, k := range []struct {
		key string
		s   Secret
	}{{"kestra.encryption.secret-key", c.Encryption.SecretKey}, {"kestra.secret.embedded.key", c.Secret.Embedded.Key}} {
		if c.IsSet(k.key) && len(k.s.Reveal()) < 32 {
			bad(k.key, "must be at least 32 characters; generate one with: openssl rand -base64 32")
		}
	}
}

func (l *loader) validateSecret(c *Config, bad func(key, format string, args ...any), required func(key, because, format string, args ...any)) {
	s := c.Secret
	if s.Cache.Enabled {
		if s.Cache.MaximumSize < 1 {
			bad("kestra.secret.cache.maximum-size", "%d: must be at least 1 while the cache is enabled (default 1000), or set kestra.secret.cache.enabled: false", s.Cache.MaximumSize)
		}
		if s.Cache.ExpireAfterWrite <= 0 {
			bad("kestra.secret.cache.expire-after-write", "must be positive while the cache is enabled (default PT1M)")
		}
	}
	for _, d := range s.Isolation.DeniedServices {
		if !slices.Contains(services, d) {
			bad("kestra.secret.isolation.denied-services", "%q is not a service; write any of %s", d, strings.Join(services, ", "))
		}
	}
	if s.Type == SecretEnv && s.Env.Encoding != "base64" && s.Env.Encoding != "raw" {
		bad("kestra.secret.env.encoding", "%q is not an encoding; write base64 (Kestra's default) or raw", s.Env.Encoding)
	}
	if s.Type != SecretAzureKeyVault {
		return
	}
	a := s.Azure
	if a.VaultName == "" && a.KeyVaultURI == "" {
		required("kestra.secret.azure-key-vault.vault-name", "kestra.secret.type", "is required when kestra.secret.type is azure-key-vault: set it to your vault's name (az keyvault list -o table), or set kestra.secret.azure-key-vault.key-vault-uri")
	}
	if a.VaultName != "" && !vaultName.MatchString(a.VaultName) {
		bad("kestra.secret.azure-key-vault.vault-name", "%q is not a Key Vault name: 3-24 letters, digits and hyphens, starting with a letter (az keyvault list -o table shows yours)", a.VaultName)
	}
	if a.KeyVaultURI != "" {
		if u, err := url.Parse(a.KeyVaultURI); err != nil || u.Scheme != "https" || u.Host == "" {
			bad("kestra.secret.azure-key-vault.key-vault-uri", "%q is not an https URL; write https://<vault-name>.vault.azure.net/ (az keyvault show -n <name> --query properties.vaultUri)", a.KeyVaultURI)
		}
	}
	if cs := a.ClientSecret; cs.Set() {
		for _, f := range []struct{ key, v string }{
			{"kestra.secret.azure-key-vault.client-secret.tenant-id", cs.TenantID},
			{"kestra.secret.azure-key-vault.client-secret.client-id", cs.ClientID},
		} {
			if f.v == "" {
				bad(f.key, "is required with the other client-secret settings: a client secret credential needs tenant-id, client-id and client-secret")
			}
		}
		if cs.ClientSecret.IsZero() {
			bad("kestra.secret.azure-key-vault.client-secret.client-secret", "is required with the other client-secret settings: a client secret credential needs tenant-id, client-id and client-secret")
		}
	}
	if a.ManagedIdentityClientID != "" && a.ManagedIdentityResourceID != "" {
		bad("kestra.secret.azure-key-vault.managed-identity-resource-id", "set either managed-identity-client-id or managed-identity-resource-id, not both: they name the same identity two ways")
	}
	if s.ReadOnly && a.Prefix != "" && a.FilterOnPrefix.Prefix == "" {
		l.warn(WarnNotice, "kestra.secret.azure-key-vault.prefix", c.SourceOf("kestra.secret.azure-key-vault.prefix"),
			"prefix applies to secrets Osprey writes; in read-only mode use filter-on-prefix.prefix to select existing secrets")
	}
}

func (l *loader) validateStorage(c *Config, bad func(key, format string, args ...any), required func(key, because, format string, args ...any)) {
	if c.Storage.Type != StorageAzure {
		return
	}
	a := c.Storage.Azure
	const pre = "kestra.storage.azure."
	if a.Container == "" {
		required(pre+"container", "kestra.storage.type", "is required when kestra.storage.type is azure: set it to the Blob container that holds flows' files (az storage container list --account-name <account> --auth-mode login)")
	} else if !containerName.MatchString(a.Container) {
		bad(pre+"container", "%q is not a container name: 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit", a.Container)
	}
	if a.Endpoint == "" && a.ConnectionString.IsZero() {
		required(pre+"endpoint", "kestra.storage.type", "is required when kestra.storage.type is azure: set it to https://<account>.blob.core.windows.net (or set connection-string)")
	}
	if a.Endpoint != "" {
		if u, err := url.Parse(a.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(pre+"endpoint", "%q is not a URL; write https://<account>.blob.core.windows.net", a.Endpoint)
		}
	}
	if (a.SharedKeyAccountName == "") != a.SharedKeyAccountAccessKey.IsZero() {
		bad(pre+"shared-key-account-access-key", "shared-key-account-name and shared-key-account-access-key go together: set both (az storage account keys list), or neither")
	}
	if a.ManagedIdentityClientID != "" && a.ManagedIdentityResourceID != "" {
		bad(pre+"managed-identity-resource-id", "set either managed-identity-client-id or managed-identity-resource-id, not both: they name the same identity two ways")
	}
}

// containerName is Azure's rule for Blob container names.
var containerName = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$`)
