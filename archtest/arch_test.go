package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const mod = "github.com/ospreyhq/osprey/"

// forbidden maps a package to the Osprey packages it must never import,
// directly or not.
var forbidden = map[string][]string{
	"flow":              {"*"},
	"expr":              {"engine", "store", "server", "executor", "worker", "tasks", "cli", "flow", "config", "secrets", "mask"},
	"mask":              {"engine", "store", "server", "executor", "worker", "tasks", "cli", "flow", "config", "secrets"},
	"config":            {"*"},
	"engine":            {"store", "server", "executor", "worker", "expr", "tasks", "cli", "secrets"},
	"server":            {"engine", "executor", "worker", "tasks", "cli", "store/sqlite", "store/postgres"},
	"executor":          {"server", "worker", "tasks", "cli", "store/sqlite", "store/postgres"},
	"worker":            {"server", "tasks", "cli", "store/sqlite", "store/postgres"},
	"tasks":             {"server", "cli", "store/sqlite", "store/postgres"},
	"launch":            {"server", "cli", "store/sqlite", "store/postgres"},
	"store":             {"engine", "server", "executor", "worker", "tasks", "cli"},
	"seal":              {"*"},
	"input":             {"engine", "store", "server", "executor", "worker", "tasks", "cli", "expr"},
	"trigger":           {"engine", "server", "executor", "worker", "tasks", "cli", "scheduler", "store/sqlite", "store/postgres"},
	"calendar":          {"*"},
	"nsfile":            {"*"},
	"textcase":          {"*"},
	"kv":                {"engine", "server", "executor", "worker", "tasks", "cli", "render", "store/sqlite", "store/postgres"},
	"schedule":          {"engine", "server", "executor", "worker", "tasks", "cli", "scheduler", "launch"},
	"scheduler":         {"engine", "server", "executor", "worker", "tasks", "cli", "store/sqlite", "store/postgres"},
	"render":            {"server", "cli", "tasks"},
	"storage":           {"*"},
	"storage/local":     {"engine", "server", "executor", "worker", "tasks", "cli", "store", "secrets", "config"},
	"storage/azureblob": {"engine", "server", "executor", "worker", "tasks", "cli", "store"},
}

func TestImportDirections(t *testing.T) {
	t.Parallel()
	for pkg, banned := range forbidden {
		out, err := exec.Command("go", "list", "-json", "-deps=false", mod+pkg).Output()
		require.NoError(t, err, pkg)
		var info struct{ Deps []string }
		require.NoError(t, json.Unmarshal(out, &info))
		for _, dep := range info.Deps {
			if !strings.HasPrefix(dep, mod) {
				continue
			}
			rel := strings.TrimPrefix(dep, mod)
			for _, b := range banned {
				if b == "*" || rel == b || strings.HasPrefix(rel, b+"/") {
					t.Errorf("%s imports %s, which docs/ARCHITECTURE.md forbids", pkg, rel)
				}
			}
		}
	}
}
