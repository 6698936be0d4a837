package cli

import (
	"path/filepath"
	"strings"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/taskproc"
)

// taskRunner is the worker's task-process runner: the server's
// environment to take the allow-list from, and the paths no task may read
// whatever directory they sit in (docs/task-isolation.md).
func taskRunner(cfg *config.Config, env *Env) *taskproc.Runner {
	return &taskproc.Runner{
		Environ: env.Environ,
		Policy:  taskproc.Policy{Read: cfg.Osprey.TaskReadPaths, Deny: taskDenyPaths(cfg, env)},
	}
}

// taskDenyPaths lists the server's own files: the data directory (the
// SQLite database, generated keys), every configuration file, the
// federated token (and the directory it is projected into), a PostgreSQL
// password file, and what osprey.tasks.deny-paths adds.
func taskDenyPaths(cfg *config.Config, env *Env) []string {
	deny := []string{cfg.Osprey.DataDir}
	deny = append(deny, env.configFiles...)
	lookup := func(name string) string {
		for _, kv := range env.Environ {
			if k, v, ok := strings.Cut(kv, "="); ok && k == name {
				return v
			}
		}
		return ""
	}
	for _, name := range []string{"MICRONAUT_CONFIG_FILES", "OSPREY_CONFIG_FILES"} {
		for _, f := range strings.Split(lookup(name), ",") {
			if f = strings.TrimSpace(f); f != "" {
				deny = append(deny, f)
			}
		}
	}
	if tok := lookup("AZURE_FEDERATED_TOKEN_FILE"); tok != "" {
		deny = append(deny, tok, filepath.Dir(tok))
	}
	for _, name := range []string{"PGPASSFILE", "KESTRA_CONFIGURATION_PATH"} {
		if p := lookup(name); p != "" {
			deny = append(deny, p)
		}
	}
	return append(deny, cfg.Osprey.TaskDenyPaths...)
}
