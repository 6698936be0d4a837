package embedded_test

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/ospreyhq/osprey/internal/seal"
	"github.com/ospreyhq/osprey/mask"
	"github.com/ospreyhq/osprey/secrets"
	"github.com/ospreyhq/osprey/secrets/embedded"
	"github.com/ospreyhq/osprey/secrets/secretstest"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
)

func openStore(t *testing.T, dir string) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "osprey.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func testKey(t *testing.T) []byte {
	k, err := seal.DeriveKey("a configured key of at least thirty-two characters")
	require.NoError(t, err)
	return k
}

func TestConformance(t *testing.T) {
	t.Parallel()
	secretstest.Exercise(t, func(t *testing.T, seed []secrets.PutParams) secrets.Backend {
		b, err := embedded.New(openStore(t, t.TempDir()).Secrets(), testKey(t))
		require.NoError(t, err)
		for _, s := range seed {
			require.NoError(t, b.Put(t.Context(), s))
		}
		return b
	}, secretstest.Options{})
}

// The database file and every row hold no plaintext, in any common
// encoding, after writes, a patch and a WAL checkpoint.
func TestDatabaseHoldsNoPlaintext(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := openStore(t, dir)
	b, err := embedded.New(st.Secrets(), testKey(t))
	require.NoError(t, err)
	vals := []string{"correct horse battery staple", `{"password":"Tr0ub4dor&3"}`}
	for i, v := range vals {
		require.NoError(t, b.Put(t.Context(), secrets.PutParams{Namespace: "acme", Key: []string{"A", "B"}[i], Value: v, Description: "db"}))
	}
	desc := "patched"
	require.NoError(t, b.Patch(t.Context(), secrets.PatchParams{Namespace: "acme", Key: "A", Description: &desc}))
	got, err := b.Get(t.Context(), "acme", "A")
	require.NoError(t, err)
	require.Equal(t, vals[0], got)

	db, err := sql.Open("sqlite", filepath.Join(dir, "osprey.db"))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	require.NoError(t, err)
	var files [][]byte
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		files = append(files, raw)
	}
	rows, err := db.Query("SELECT * FROM secrets")
	require.NoError(t, err)
	defer rows.Close()
	cols, _ := rows.Columns()
	n := 0
	for rows.Next() {
		cells := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range cells {
			ptrs[i] = &cells[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		for _, c := range cells {
			switch x := c.(type) {
			case []byte:
				files = append(files, x)
			case string:
				files = append(files, []byte(x))
			}
		}
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 2, n)
	for _, v := range vals {
		for _, form := range append(mask.Forms(v), base64.StdEncoding.EncodeToString([]byte(v))) {
			if len(form) < 6 {
				continue
			}
			for _, f := range files {
				require.False(t, bytes.Contains(f, []byte(form)), "plaintext form %q found in the database", form)
			}
		}
	}
}

func TestWrongKeyAndSwappedRows(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir())
	b, err := embedded.New(st.Secrets(), testKey(t))
	require.NoError(t, err)
	require.NoError(t, b.Put(t.Context(), secrets.PutParams{Namespace: "acme", Key: "A", Value: "value-of-a"}))

	other, err := seal.DeriveKey(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	require.NoError(t, err)
	wrong, err := embedded.New(st.Secrets(), other)
	require.NoError(t, err)
	_, err = wrong.Get(t.Context(), "acme", "A")
	require.ErrorContains(t, err, "kestra.secret.embedded.key")
	require.NotContains(t, err.Error(), "value-of-a")

	rec, err := st.Secrets().Get(t.Context(), "acme", "A")
	require.NoError(t, err)
	rec.Key = "B"
	require.NoError(t, st.Secrets().Put(t.Context(), rec))
	_, err = b.Get(t.Context(), "acme", "B")
	require.Error(t, err, "a ciphertext moved to another key must not open")
}

func TestGeneratedKeyIsStable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k1, err := embedded.LoadOrCreateKey(t.Context(), dir, discard())
	require.NoError(t, err)
	k2, err := embedded.LoadOrCreateKey(t.Context(), dir, discard())
	require.NoError(t, err)
	require.Equal(t, k1, k2)
	fi, err := os.Stat(filepath.Join(dir, embedded.KeyFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
