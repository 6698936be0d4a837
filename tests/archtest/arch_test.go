package archtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const mod = "github.com/ospreyhq/osprey"

// doc holds the table of allowed imports this test enforces.
const doc = "docs/ARCHITECTURE.md"

// tableHeading starts the section whose table lists every package.
const tableHeading = "## Packages and the directions they may import"

// testSupport may be imported by any package's tests: harnesses, shared
// suites and the real store drivers tests run on.
var testSupport = []string{
	"devkit/azurefake", "devkit/pgtest", "devkit/conformance", "devkit/shared", "devkit/testkit",
	"store/storetest", "secrets/secretstest", "trigger/triggertest",
	"store/sqlite", "store/postgres", "flowcache", "storage/storagetest",
}

// testOnly lists what a package's tests import beyond its row of the table
// and testSupport, with the reason.
var testOnly = map[string][]string{
	// The engine's tests run real task types and expressions.
	"engine": {"expr", "tasks"},
	// The server's tests steer executions with a real launcher and answer
	// plugin and schema routes from the real registry; their secrets are
	// real backends.
	"server": {"launch", "tasks", "internal/seal", "secrets/embedded", "secrets/env",
		// …and run a real executor to apply the commands the actions send.
		"engine", "executor", "expr", "render",
		// …and store FILE inputs in real local storage.
		"storage/local"},
	// The executor's tests run it with real tasks, a worker and the
	// launcher's subflow starts.
	"executor": {"expr", "launch", "render", "tasks", "worker"},
	// The launcher's tests check commands against real task types.
	"launch": {"tasks"},
	// The scheduler's tests fire schedules through the real renderer.
	"scheduler": {"engine", "expr", "input", "render"},
	// The trigger tests render conditions with the real renderer and tasks.
	"trigger": {"engine", "expr", "render", "tasks", "internal/seal"},
	"tasks":   {"expr", "render"},
	"render":  {"expr", "storage/local"},
	// The metrics wrapper is proved on a real backend.
	"storage":          {"storage/local"},
	"mask":             {"expr"},
	"secrets/embedded": {"mask"},
	// End-to-end tests drive the whole system.
	"tests/e2e":              {"*"},
	"tests/e2e/secrets":      {"*"},
	"tests/e2e/files":        {"*"},
	"tests/e2e/taskidentity": {"*"},
	// The task identity tests check tokens come out as the worker masks them.
	"taskidentity":  {"mask"},
	"tests/browser": {"*"},
	"tests/redteam": {"*"},
	"deploy/helm":   {"deploy/image"},
	"cli":           {"*"},
}

// readTable parses the allowed-imports table of docs/ARCHITECTURE.md: a
// row's first cell names one or more packages, its second lists what they
// may import (`*` anything, — nothing).
func readTable(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", doc))
	require.NoError(t, err)
	defer f.Close()
	code := regexp.MustCompile("`([^`]+)`")
	allowed := map[string][]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == tableHeading
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		require.GreaterOrEqual(t, len(cells), 4, "%s: malformed row %q", doc, line)
		var deps []string
		for _, m := range code.FindAllStringSubmatch(cells[2], -1) {
			deps = append(deps, m[1])
		}
		for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
			_, dup := allowed[m[1]]
			require.False(t, dup, "%s places %s twice", doc, m[1])
			allowed[m[1]] = deps
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, allowed, "%s has no table under %q", doc, tableHeading)
	return allowed
}

type pkg struct {
	ImportPath                         string
	Imports, TestImports, XTestImports []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", mod+"/...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	require.NoError(t, err)
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		require.NoError(t, dec.Decode(&p))
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// own keeps the module's packages of imports, relative to the module.
func own(imports []string) []string {
	var out []string
	for _, i := range imports {
		if strings.HasPrefix(i, mod+"/") {
			out = append(out, strings.TrimPrefix(i, mod+"/"))
		}
	}
	return out
}

func allows(list []string, dep string) bool {
	return slices.Contains(list, "*") || slices.Contains(list, dep)
}

// violations lists every import the table does not allow, every package
// without a row and every row naming no package.
func violations(allowed map[string][]string, pkgs []pkg) []string {
	var out, listed []string
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p.ImportPath, mod+"/")
		listed = append(listed, rel)
		row, ok := allowed[rel]
		if !ok {
			out = append(out, fmt.Sprintf("package %s is not placed: add a row for it to the table under %q in %s (what it may import, and why), and a line to the tree above it",
				rel, tableHeading, doc))
			continue
		}
		for _, dep := range own(p.Imports) {
			if !allows(row, dep) {
				out = append(out, fmt.Sprintf("%s imports %s, which its row in %s does not allow; move the code, or change the architecture there first", rel, dep, doc))
			}
		}
		for _, dep := range own(append(slices.Clone(p.TestImports), p.XTestImports...)) {
			if dep == rel || allows(row, dep) || slices.Contains(testSupport, dep) || allows(testOnly[rel], dep) {
				continue
			}
			out = append(out, fmt.Sprintf("the tests of %s import %s: allow it in %s's row of %s, or as a test-only allowance (with the reason) in tests/archtest/arch_test.go",
				rel, dep, rel, doc))
		}
	}
	for _, rel := range slices.Sorted(maps.Keys(allowed)) {
		if !slices.Contains(listed, rel) {
			out = append(out, fmt.Sprintf("%s places %s, which is not a package of the module; remove its row", doc, rel))
		}
	}
	return out
}

// TestImportDirections checks every package's imports, and its tests',
// against the table in docs/ARCHITECTURE.md.
func TestImportDirections(t *testing.T) {
	t.Parallel()
	for _, v := range violations(readTable(t), listPackages(t)) {
		t.Error(v)
	}
}

// TestViolations checks the rule itself on made-up graphs.
func TestViolations(t *testing.T) {
	t.Parallel()
	allowed := map[string][]string{"flow": nil, "engine": {"flow"}, "cli": {"*"}}
	p := func(path string, imports ...string) pkg {
		var full []string
		for _, i := range imports {
			full = append(full, mod+"/"+i)
		}
		return pkg{ImportPath: mod + "/" + path, Imports: append(full, "fmt")}
	}
	for _, tc := range []struct {
		name string
		pkgs []pkg
		want string
	}{
		{"allowed", []pkg{p("flow"), p("engine", "flow"), p("cli", "engine", "flow")}, ""},
		{"unplaced package", []pkg{p("flow"), p("engine"), p("cli"), p("newpkg", "flow")}, "package newpkg is not placed: add a row"},
		{"forbidden import", []pkg{p("flow", "engine"), p("engine"), p("cli")}, "flow imports engine, which its row"},
		{"forbidden test import", []pkg{p("flow"), {ImportPath: mod + "/engine", XTestImports: []string{mod + "/cli"}}, p("cli")}, "the tests of engine import cli"},
		{"stale row", []pkg{p("flow"), p("cli")}, "places engine, which is not a package"},
	} {
		got := violations(allowed, tc.pkgs)
		if tc.want == "" {
			require.Empty(t, got, tc.name)
			continue
		}
		require.Len(t, got, 1, tc.name)
		require.Contains(t, got[0], tc.want, tc.name)
	}
}

// TestTableKeepsTheSeams pins the rules the architecture rests on.
func TestTableKeepsTheSeams(t *testing.T) {
	t.Parallel()
	allowed := readTable(t)
	require.False(t, allows(allowed["engine"], "store"), "the engine never reaches the store")
	require.False(t, allows(allowed["server"], "executor"), "the webserver never imports the executor")
	require.False(t, allows(allowed["server"], "engine"), "the webserver never imports the engine")
	require.False(t, allows(allowed["worker"], "executor"), "the worker takes the job payload from engine")
	for _, leaf := range []string{"internal/seal", "internal/isoduration", "secrets"} {
		require.Empty(t, allowed[leaf], "%s imports nothing of Osprey's", leaf)
	}
}
