package cli

import (
	"strings"

	"github.com/ospreyhq/osprey/config"
)

// defaultEnvPrefix is Kestra's since 0.23: only variables a deployment
// names for flows (ENV_REGION → {{ envs.region }}) are visible.
const defaultEnvPrefix = "ENV_"

// serverFamilies are the name prefixes of Osprey's own configuration and
// credentials, never visible as {{ envs.… }} whatever
// kestra.variables.env-vars-prefix says: the relaxed-binding settings
// (MICRONAUT_*, DATASOURCES_*, ENDPOINTS_*), Osprey's (OSPREY_*), the Azure
// SDK's (AZURE_CLIENT_SECRET, AZURE_FEDERATED_TOKEN_FILE, …) and
// PostgreSQL's client settings (PGPASSWORD).
var serverFamilies = []string{"OSPREY_", "AZURE_", "MICRONAUT_", "DATASOURCES_", "ENDPOINTS_", "PG"}

// kestraSections are the first segments of Kestra's configuration keys:
// KESTRA_<SECTION>_… is a setting (KESTRA_SERVER_BASIC_AUTH_PASSWORD,
// KESTRA_ENCRYPTION_SECRET_KEY), never a flow's variable. Any other
// KESTRA_ name (KESTRA_REGION) stays visible to a deployment that keeps
// Kestra's old prefix.
var kestraSections = []string{
	"CONFIGURATION", "SERVER", "ENCRYPTION", "SECRET", "REPOSITORY", "QUEUE", "DATASOURCES", "TASKS", "VARIABLES",
	"URL", "PLUGINS", "STORAGE", "JDBC", "SECURITY", "EE", "WEBSERVER", "WORKER", "EXECUTOR", "SCHEDULER", "INDEXER",
	"AI", "ANONYMOUS", "ELASTICSEARCH", "ENVIRONMENT", "FEATURES", "HEARTBEAT", "KAFKA", "LOGS", "METRICS",
	"SYSTEM", "TEMPLATES", "TRACING", "TUTORIAL", "UI", "JAVA", "HOME",
}

// envVars is {{ envs }}: the variables whose name starts with
// kestra.variables.env-vars-prefix (ENV_ by default), prefix removed and
// lower-cased, as Kestra 0.23 and later. Whatever the prefix, Osprey's own
// configuration and credentials stay out: a variable of a server family,
// a Kestra setting, one of the env secret backend's variables, or one
// whose value is a secret of the configuration (a ${PLACEHOLDER} may have
// carried it into the basic-auth password or the encryption key).
func envVars(environ []string, cfg *config.Config) map[string]any {
	prefix := cfg.Variables.EnvVarsPrefix
	if prefix == "" {
		prefix = defaultEnvPrefix
	}
	secrets := map[string]bool{}
	for _, s := range []config.Secret{
		cfg.Server.BasicAuth.Password, cfg.Encryption.SecretKey, cfg.Secret.Embedded.Key,
		cfg.Datasource.Password, cfg.Secret.Azure.ClientSecret.ClientSecret,
	} {
		if v := s.Reveal(); v != "" {
			secrets[v] = true
		}
	}
	if u := cfg.Datasource.URL.Reveal(); u != "" {
		secrets[u] = true
	}
	out := map[string]any{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, prefix) || serverVariable(k, cfg) || secrets[v] {
			continue
		}
		out[strings.ToLower(strings.TrimPrefix(k, prefix))] = v
	}
	return out
}

// serverVariable reports whether name is one of Osprey's configuration or
// credential variables.
func serverVariable(name string, cfg *config.Config) bool {
	for _, f := range serverFamilies {
		if strings.HasPrefix(name, f) {
			return true
		}
	}
	if p := cfg.Secret.Env.Prefix; p != "" && strings.HasPrefix(name, p) {
		return true // the env secret backend's values
	}
	if rest, ok := strings.CutPrefix(name, "KESTRA_"); ok {
		for _, s := range kestraSections {
			if rest == s || strings.HasPrefix(rest, s+"_") {
				return true
			}
		}
	}
	return false
}
