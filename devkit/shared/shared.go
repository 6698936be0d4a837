// Package shared finds the reference material that lives beside the
// repository, never in it: Kestra's test flows (kestra-corpus), its OpenAPI
// spec (kestra-openapi) and Helm values (kestra-helm). The repository holds
// only what Osprey's authors wrote, so a fresh clone has none of it: a test
// that needs it is skipped there with a message saying where it looked, and
// fails under CI=true, where the material must be present.
package shared

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// EnvDir names the variable that points at the shared folder; without it
// the folder is "shared" beside the module's root.
const EnvDir = "OSPREY_SHARED_DIR"

// Dir returns the absolute path of name inside the shared folder
// ("kestra-corpus", "kestra-corpus/flows"). When it is missing, t is
// skipped outside CI and fails under CI=true.
func Dir(t testing.TB, name string) string {
	t.Helper()
	path, err := locate(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%v: CI needs the shared material beside the repository (or %s set)", err, EnvDir)
	}
	t.Skipf("skipped: %v (the shared material is not part of the repository; put it beside the clone as shared/, or set %s)", err, EnvDir)
	return ""
}

// Find returns the absolute path of name inside the shared folder, or an
// error saying where it looked: for a test that carries on without it
// (adding the material to a wider check when it is there).
func Find(name string) (string, error) { return locate(name) }

func locate(name string) (string, error) {
	root := os.Getenv(EnvDir)
	if root == "" {
		mod, err := moduleRoot()
		if err != nil {
			return "", err
		}
		root = filepath.Join(filepath.Dir(mod), "shared")
	}
	path, err := filepath.Abs(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err != nil {
		return "", errors.New("no " + name + " at " + path)
	}
	return path, nil
}

// moduleRoot walks up from the working directory (a test runs in its
// package's folder) to the folder holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
