package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKebab(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"azureKeyVault": "azure-key-vault", "vaultName": "vault-name", "keyVaultURI": "key-vault-uri",
		"keyVaultUri": "key-vault-uri", "tmp_dir": "tmp-dir", "basic-auth": "basic-auth", "KESTRA": "kestra",
		"maximumPoolSize": "maximum-pool-size", "URLPath": "url-path", "Vault-Name": "vault-name",
	} {
		require.Equal(t, want, kebab(in), in)
	}
}

// TestEnvironmentNamesAreUnambiguous guards relaxed binding: two keys with
// the same environment name would make one of them unreachable.
func TestEnvironmentNamesAreUnambiguous(t *testing.T) {
	t.Parallel()
	s := loadSchema()
	seen := map[string]string{}
	for _, key := range s.keys {
		if s.fields[key].kind.isMap() {
			continue
		}
		n := envName(key)
		require.NotContains(t, seen, n, "%s and %s share %s", seen[n], key, n)
		seen[n] = key
		require.Equal(t, key, s.env[n])
	}
	require.Equal(t, "kestra.secret.azure-key-vault.vault-name", s.env["KESTRA_SECRET_AZURE_KEY_VAULT_VAULT_NAME"])
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	s := loadSchema()
	tests := []struct{ parent, seg, want string }{
		{"micronaut.server", "prot", "micronaut.server.port"},
		{"kestra.secret.azure-key-vault", "vault-nme", "kestra.secret.azure-key-vault.vault-name"},
		{"kestra.secret", "vault-name", "kestra.secret.azure-key-vault.vault-name"},
		{"kestra.secret", "typo-that-is-far", ""},
		{"micronaut.server", "cors", ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, s.suggest(tt.parent, tt.seg), tt.seg)
	}
}

// TestDocumentationListsEveryKey keeps docs/configuration.md complete: a key
// added to Config must be documented with its environment name.
func TestDocumentationListsEveryKey(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "configuration.md"))
	require.NoError(t, err)
	s := loadSchema()
	for _, key := range s.keys {
		require.Contains(t, string(doc), "`"+key+"`", "docs/configuration.md documents %s", key)
		if !s.fields[key].kind.isMap() {
			require.Contains(t, string(doc), "`"+envName(key)+"`", "docs/configuration.md gives the environment name of %s", key)
		}
	}
}
