package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ospreyhq/osprey/config"
)

// FuzzLoad feeds arbitrary documents through KESTRA_CONFIGURATION and an
// arbitrary environment variable: Load must return a configuration or
// errors, never panic, and never put a planted secret into an error.
func FuzzLoad(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.yml"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), "KESTRA_SECRET_TYPE=env")
	}
	f.Add("kestra.secret.azureKeyVault.vaultName: ${A:${B:x}}", "A=")
	f.Add("a: &a [*a]", "DATASOURCES_POSTGRES_URL=jdbc:postgresql://h/d?x=1")
	f.Add("kestra:\n  <<: [{url: 'http://x/'}]\n", "MICRONAUT_SERVER_PORT=1")
	f.Add("kestra: {variables: {globals: {1: [1, {2: 3}]}}}", "KESTRA_URL=${")
	f.Fuzz(func(t *testing.T, doc, envVar string) {
		if len(doc) > 1<<14 || len(envVar) > 1<<10 {
			t.Skip()
		}
		const planted = "planted-pa55word"
		cfg, _, err := config.Load(t.Context(), config.Sources{Env: []string{
			"KESTRA_CONFIGURATION=" + doc,
			envVar,
			"DATASOURCES_POSTGRES_PASSWORD=" + planted,
		}})
		if err != nil {
			if strings.Contains(err.Error(), planted) {
				t.Fatalf("error leaks the password: %v", err)
			}
			return
		}
		for _, p := range cfg.Properties() {
			if strings.Contains(p.Value, planted) {
				t.Fatalf("property %s leaks the password", p.Key)
			}
		}
	})
}
