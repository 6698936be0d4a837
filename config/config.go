package config

import (
	"time"
)

// Config is Osprey's effective configuration. It is grouped by the component
// that consumes it, so that each component can be handed only its part
// (cfg.Server to the HTTP server, cfg.Secret to the secret manager, …); the
// Kestra key each field is read from is in its `key` tag, and in
// docs/configuration.md.
type Config struct {
	Server     Server
	Repository Repository
	Queue      Queue
	Datasource Datasource
	Secret     SecretManager
	Storage    Storage
	Variables  Variables
	Tasks      Tasks
	Encryption Encryption
	Osprey     Osprey

	// sources records where each key's value came from, for Properties and
	// IsSet.
	sources map[string]Source
}

// Server configures the API server and the management server.
type Server struct {
	// Port is the API port (the --port flag sets it).
	Port int `key:"micronaut.server.port"`
	// Host is the address the API binds to; empty means the server decides
	// (loopback when basic auth is off).
	Host string `key:"micronaut.server.host"`
	// ManagementPort serves /health and /metrics.
	ManagementPort int `key:"endpoints.all.port"`
	// URL is the public URL of this Osprey, used in links it generates.
	URL       string `key:"kestra.url"`
	BasicAuth BasicAuth
}

// BasicAuth configures HTTP basic authentication of the API.
type BasicAuth struct {
	// Enabled is nil when the key is absent: the server then treats basic
	// auth as on when a username and password are set, and refuses to bind
	// beyond loopback without it unless Enabled is explicitly false.
	Enabled  *bool  `key:"kestra.server.basic-auth.enabled"`
	Username string `key:"kestra.server.basic-auth.username"`
	Password Secret `key:"kestra.server.basic-auth.password"`
}

// Active reports whether the API must require basic authentication.
func (b BasicAuth) Active() bool {
	if b.Enabled != nil {
		return *b.Enabled
	}
	return b.Username != "" && !b.Password.IsZero()
}

// ExplicitlyDisabled reports whether the configuration says
// kestra.server.basic-auth.enabled: false, the opt-in to serve without
// authentication on a non-loopback address.
func (b BasicAuth) ExplicitlyDisabled() bool { return b.Enabled != nil && !*b.Enabled }

// Repository types, after aliases are resolved.
const (
	RepositorySQLite   = "sqlite"
	RepositoryPostgres = "postgres"
)

// Repository selects the store.
type Repository struct {
	// Type is sqlite (embedded) or postgres. Kestra's h2 and memory are read
	// as sqlite with a notice.
	Type string `key:"kestra.repository.type"`
}

// Queue selects the queue between components. Osprey's queue lives in the
// repository's database, so Type always equals Repository.Type after Load.
type Queue struct {
	Type string `key:"kestra.queue.type"`
}

// Datasource is the PostgreSQL connection, used when Repository.Type is
// postgres.
type Datasource struct {
	// URL is as written: jdbc:postgresql://… or postgres://… or a key=value
	// DSN; it prints with any password redacted. Use ConnString to get what
	// pgx takes.
	URL             ConnURL `key:"datasources.postgres.url"`
	Username        string  `key:"datasources.postgres.username"`
	Password        Secret  `key:"datasources.postgres.password"`
	MaximumPoolSize int     `key:"datasources.postgres.maximum-pool-size"`
	// DriverClassName is Kestra's org.postgresql.Driver; accepted and
	// otherwise ignored.
	DriverClassName string `key:"datasources.postgres.driver-class-name"`
}

// Secret manager types, after aliases are resolved.
const (
	SecretAzureKeyVault = "azure-key-vault"
	SecretEnv           = "env"
	SecretEmbedded      = "embedded"
)

// SecretManager configures where secret('KEY') values live (Kestra's
// kestra.secret tree).
type SecretManager struct {
	// Type is azure-key-vault, env or embedded (Kestra's jdbc is read as
	// embedded).
	Type      string `key:"kestra.secret.type"`
	ReadOnly  bool   `key:"kestra.secret.read-only"`
	Cache     SecretCache
	Isolation SecretIsolation
	Env       EnvSecrets
	Embedded  EmbeddedSecrets
	Azure     AzureKeyVault
}

// SecretCache bounds the in-process cache of resolved secrets.
type SecretCache struct {
	Enabled          bool          `key:"kestra.secret.cache.enabled"`
	MaximumSize      int           `key:"kestra.secret.cache.maximum-size"`
	ExpireAfterWrite time.Duration `key:"kestra.secret.cache.expire-after-write"`
}

// SecretIsolation stops named components from resolving secret values.
type SecretIsolation struct {
	Enabled bool `key:"kestra.secret.isolation.enabled"`
	// DeniedServices holds lower-case component names (executor, indexer,
	// scheduler, webserver, worker).
	DeniedServices []string `key:"kestra.secret.isolation.denied-services"`
}

// Denies reports whether component (e.g. "webserver") may not resolve
// secret values.
func (i SecretIsolation) Denies(component string) bool {
	if !i.Enabled {
		return false
	}
	for _, s := range i.DeniedServices {
		if s == component {
			return true
		}
	}
	return false
}

// EnvSecrets configures the env backend: secret KEY is read from the
// variable Prefix+KEY.
type EnvSecrets struct {
	Prefix string `key:"kestra.secret.env.prefix"`
	// Encoding is base64 (Kestra's behaviour) or raw.
	Encoding string `key:"kestra.secret.env.encoding"`
}

// EmbeddedSecrets configures the embedded backend (values encrypted in the
// store).
type EmbeddedSecrets struct {
	// Key is the encryption key; when unset, kestra.encryption.secret-key is
	// used. Kestra's kestra.secret.jdbc.secret is read into it.
	Key Secret `key:"kestra.secret.embedded.key"`
}

// AzureKeyVault configures the azure-key-vault backend. Credentials are tried
// in Kestra's order: client secret, managed identity, workload identity, then
// Azure's default chain.
type AzureKeyVault struct {
	VaultName                  string `key:"kestra.secret.azure-key-vault.vault-name"`
	KeyVaultURI                string `key:"kestra.secret.azure-key-vault.key-vault-uri"`
	ClientSecret               AzureClientSecret
	ManagedIdentityClientID    string   `key:"kestra.secret.azure-key-vault.managed-identity-client-id"`
	ManagedIdentityResourceID  string   `key:"kestra.secret.azure-key-vault.managed-identity-resource-id"`
	WorkloadIdentityClientID   string   `key:"kestra.secret.azure-key-vault.workload-identity-client-id"`
	AdditionallyAllowedTenants []string `key:"kestra.secret.azure-key-vault.additionally-allowed-tenants"`
	// Prefix is prepended to every vault secret name Osprey writes.
	Prefix string `key:"kestra.secret.azure-key-vault.prefix"`
	// Tags are added to every vault secret Osprey writes.
	Tags           map[string]string `key:"kestra.secret.azure-key-vault.tags"`
	FilterOnTags   AzureFilterOnTags
	FilterOnPrefix AzureFilterOnPrefix
	// ExcludedTags names tags whose presence hides a vault secret.
	ExcludedTags []string `key:"kestra.secret.azure-key-vault.excluded-tags"`
	// PurgeOnDelete purges a secret Osprey deletes instead of leaving it
	// soft-deleted (Osprey's key; the vault's purge protection can refuse).
	PurgeOnDelete bool `key:"kestra.secret.azure-key-vault.purge-on-delete"`
}

// URI returns the vault's URI: KeyVaultURI when set, otherwise the public
// cloud URI derived from VaultName.
func (a AzureKeyVault) URI() string {
	if a.KeyVaultURI != "" {
		return a.KeyVaultURI
	}
	if a.VaultName == "" {
		return ""
	}
	return "https://" + a.VaultName + ".vault.azure.net/"
}

// Azure credential kinds, in the order Kestra tries them.
const (
	CredentialClientSecret     = "client-secret"
	CredentialManagedIdentity  = "managed-identity"
	CredentialWorkloadIdentity = "workload-identity"
	CredentialDefault          = "default"
)

// Credential returns which credential the configuration selects, in Kestra's
// order: a client secret, then a managed identity, then workload identity,
// then Azure's default chain (which itself reads AZURE_* variables, workload
// identity, managed identity and the az CLI).
func (a AzureKeyVault) Credential() string {
	switch {
	case a.ClientSecret.Set():
		return CredentialClientSecret
	case a.ManagedIdentityClientID != "" || a.ManagedIdentityResourceID != "":
		return CredentialManagedIdentity
	case a.WorkloadIdentityClientID != "":
		return CredentialWorkloadIdentity
	}
	return CredentialDefault
}

// AzureClientSecret is a service principal's credential.
type AzureClientSecret struct {
	TenantID     string `key:"kestra.secret.azure-key-vault.client-secret.tenant-id"`
	ClientID     string `key:"kestra.secret.azure-key-vault.client-secret.client-id"`
	ClientSecret Secret `key:"kestra.secret.azure-key-vault.client-secret.client-secret"`
}

// Set reports whether any part of the client secret credential is configured.
func (c AzureClientSecret) Set() bool {
	return c.TenantID != "" || c.ClientID != "" || !c.ClientSecret.IsZero()
}

// AzureFilterOnTags keeps only vault secrets carrying all these tags
// (read-only discovery).
type AzureFilterOnTags struct {
	Tags map[string]string `key:"kestra.secret.azure-key-vault.filter-on-tags.tags"`
}

// AzureFilterOnPrefix keeps only vault secrets whose name starts with Prefix;
// KeepPrefix keeps it in the Kestra key.
type AzureFilterOnPrefix struct {
	Prefix     string `key:"kestra.secret.azure-key-vault.filter-on-prefix.prefix"`
	KeepPrefix bool   `key:"kestra.secret.azure-key-vault.filter-on-prefix.keep-prefix"`
}

// Storage types.
const (
	StorageLocal = "local"
	StorageAzure = "azure"
)

// Storage selects internal storage, where flows' files live (Kestra's
// kestra.storage tree).
type Storage struct {
	// Type is local (the default) or azure.
	Type  string `key:"kestra.storage.type"`
	Local LocalStorage
	Azure AzureStorage
}

// LocalStorage keeps files on the local disk.
type LocalStorage struct {
	// BasePath is the directory; <data-dir>/storage when empty.
	BasePath string `key:"kestra.storage.local.base-path"`
}

// AzureStorage keeps files in an Azure Blob Storage container. Credentials
// are tried in Kestra's order: connection string, shared key, SAS token,
// then an Entra credential (workload identity, managed identity, Azure's
// default chain).
type AzureStorage struct {
	Endpoint                   string   `key:"kestra.storage.azure.endpoint"`
	Container                  string   `key:"kestra.storage.azure.container"`
	ConnectionString           Secret   `key:"kestra.storage.azure.connection-string"`
	SharedKeyAccountName       string   `key:"kestra.storage.azure.shared-key-account-name"`
	SharedKeyAccountAccessKey  Secret   `key:"kestra.storage.azure.shared-key-account-access-key"`
	SasToken                   Secret   `key:"kestra.storage.azure.sas-token"`
	ManagedIdentityClientID    string   `key:"kestra.storage.azure.managed-identity-client-id"`
	ManagedIdentityResourceID  string   `key:"kestra.storage.azure.managed-identity-resource-id"`
	WorkloadIdentityClientID   string   `key:"kestra.storage.azure.workload-identity-client-id"`
	AdditionallyAllowedTenants []string `key:"kestra.storage.azure.additionally-allowed-tenants"`
}

// Variables are exposed to flow expressions.
type Variables struct {
	// Globals is {{ globals.x }}, kept as written (original key case, nested
	// maps and lists).
	Globals map[string]any `key:"kestra.variables.globals"`
	// EnvVarsPrefix selects the environment variables visible as
	// {{ envs.x }} (prefix stripped, lower-cased).
	EnvVarsPrefix string `key:"kestra.variables.env-vars-prefix"`
}

// Tasks configures task execution.
type Tasks struct {
	TmpDir string `key:"kestra.tasks.tmp-dir.path"`
}

// Encryption holds the key for encrypted values (Kestra's SECRET-type
// inputs and outputs, and the embedded secret backend's fallback).
type Encryption struct {
	SecretKey Secret `key:"kestra.encryption.secret-key"`
}

// Osprey holds settings Kestra has no key for.
type Osprey struct {
	// DataDir is where `server local` keeps its SQLite database and
	// generated keys (the --data-dir flag sets it).
	DataDir string `key:"osprey.data-dir"`
	// Pprof serves Go's profiler under /debug/pprof/ on the management
	// port. Off by default: a profile shows what the process is doing.
	Pprof bool `key:"osprey.pprof"`
	// MaxLeaseExpiries is how many times a job may lose its worker (its
	// lease ran out) before its task run fails instead of running again.
	MaxLeaseExpiries int `key:"osprey.worker.max-lease-expiries"`
	// WorkerLease is how long a worker holds a job without a heartbeat:
	// how soon the job of a dead worker runs again.
	WorkerLease time.Duration `key:"osprey.worker.lease"`
	// TaskReadPaths are more directories task processes may read and
	// execute from, beyond the system's (docs/task-isolation.md).
	TaskReadPaths []string `key:"osprey.tasks.read-paths"`
	// TaskDenyPaths are more paths task processes may never read, beyond
	// the data directory, the configuration files and the token file.
	TaskDenyPaths []string `key:"osprey.tasks.deny-paths"`
	// HolidaysDirectory holds holiday calendars as iCalendar files, each
	// named by the ISO 3166 code it is for (CL.ics, DE-BY.ics), for the
	// PublicHoliday condition and isPublicHoliday(). Every component reads
	// it at start; a file replaces the built-in calendar of its code.
	HolidaysDirectory string `key:"osprey.holidays.directory"`
	// Limits bound what one flow may cost the process.
	Limits Limits
	// AllowedNamespaces restricts cross-namespace secret reads, Kestra
	// EE's allowedNamespaces: namespace → the namespaces (a list, or
	// comma-separated text) whose flows may read its secrets with
	// secret('K', namespace='…'). A namespace not listed lets every
	// namespace read (Kestra's default). The API's settings add to these.
	AllowedNamespaces map[string]any `key:"osprey.secret.allowed-namespaces"`
	// TaskIdentityAudiences allows script tasks Azure tokens through the
	// worker's identity endpoint: namespace → the audiences (resource
	// URIs) its tasks and its child namespaces' may get. Nothing by
	// default (docs/task-identity.md).
	TaskIdentityAudiences map[string]any `key:"osprey.task-identity.audiences"`
}

// Limits bound the work one flow can make Osprey do.
type Limits struct {
	// LoopItems bounds the values of one ForEach / EachParallel /
	// EachSequential: each value is a task run stored with the execution.
	LoopItems int `key:"osprey.limits.loop-items"`
	// ExpressionTimeout bounds one expression's evaluation.
	ExpressionTimeout time.Duration `key:"osprey.limits.expression-timeout"`
	// JQMemoryMB bounds the heap one jq program may grow, in MiB.
	JQMemoryMB int `key:"osprey.limits.jq-memory-mb"`
}

// Default returns the built-in defaults, the lowest layer.
func Default() *Config {
	return &Config{
		Server: Server{
			Port:           8080,
			ManagementPort: 8081,
		},
		Repository: Repository{Type: RepositorySQLite},
		Datasource: Datasource{MaximumPoolSize: 10},
		Secret: SecretManager{
			Type: SecretEmbedded,
			Cache: SecretCache{
				Enabled:          true,
				MaximumSize:      1000,
				ExpireAfterWrite: time.Minute,
			},
			Env: EnvSecrets{Prefix: "SECRET_", Encoding: "base64"},
		},
		Storage:   Storage{Type: StorageLocal},
		Variables: Variables{EnvVarsPrefix: "ENV_"},
		Tasks:     Tasks{TmpDir: "/tmp/osprey"},
		Osprey: Osprey{DataDir: "./data", MaxLeaseExpiries: 3, WorkerLease: 30 * time.Second, Limits: Limits{
			LoopItems: 10_000, ExpressionTimeout: 10 * time.Second, JQMemoryMB: 256,
		}},
	}
}

// IsSet reports whether key (in any spelling) was given by a layer above the
// defaults.
func (c *Config) IsSet(key string) bool {
	s, ok := c.sources[canonicalKey(key)]
	return ok && s.Layer != LayerDefault
}

// SourceOf returns where key's value came from.
func (c *Config) SourceOf(key string) Source {
	if s, ok := c.sources[canonicalKey(key)]; ok {
		return s
	}
	return Source{Layer: LayerDefault}
}
