// Package embedded keeps secrets in Osprey's own database, each value
// sealed with AES-256-GCM before it reaches the store, so the database (and
// its backups) never hold plaintext. It is the default backend of
// `osprey server local`. The additional data binds each ciphertext to its
// tenant, namespace and key, so a row copied onto another key fails to open
// instead of revealing its value under the wrong name.
package embedded

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/ospreyhq/osprey/internal/seal"
	"github.com/ospreyhq/osprey/secrets"
	"github.com/ospreyhq/osprey/store"
)

// tenant is the only tenant Osprey serves (Kestra's "main").
const tenant = "main"

// version prefixes every ciphertext so the format can change later.
const version byte = 1

// Backend stores sealed secrets in a store.SecretStore.
type Backend struct {
	st  store.SecretStore
	box *seal.Box
}

var (
	_ secrets.Backend = (*Backend)(nil)
	_ secrets.Writer  = (*Backend)(nil)
)

// New returns a backend sealing values with key (see seal.DeriveKey).
func New(st store.SecretStore, key []byte) (*Backend, error) {
	// The box's purpose is unused: each value is bound to its name by aad.
	box, err := seal.New(key, "")
	if err != nil {
		return nil, fmt.Errorf("embedded secrets key: %w", err)
	}
	return &Backend{st: st, box: box}, nil
}

// KeyFile is the name of the generated key under the data directory.
const KeyFile = "secrets.key"

// LoadOrCreateKey reads dir/secrets.key, creating it with a random key
// (mode 0600) when absent. It warns on creation: a key kept next to the
// database protects only against leaks of the database alone.
func LoadOrCreateKey(ctx context.Context, dir string, log *slog.Logger) ([]byte, error) {
	path := filepath.Join(dir, KeyFile)
	raw, err := os.ReadFile(path)
	if err == nil {
		return seal.DeriveKey(strings.TrimSpace(string(raw)))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read secrets key %s: %w", path, err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate secrets key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	enc := base64.StdEncoding.EncodeToString(key) + "\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateKey(ctx, dir, log) // another process won the race
	}
	if err != nil {
		return nil, fmt.Errorf("create secrets key %s: %w", path, err)
	}
	if _, err := f.WriteString(enc); err != nil {
		f.Close()
		return nil, fmt.Errorf("write secrets key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write secrets key %s: %w", path, err)
	}
	log.WarnContext(ctx, "generated a key for embedded secrets next to the database; back it up, and set kestra.secret.embedded.key (or kestra.encryption.secret-key) outside the data directory for anything beyond a laptop",
		"component", "secrets", "path", path)
	return key, nil
}

func aad(namespace, key string) []byte {
	return []byte("osprey-secret\x00" + tenant + "\x00" + namespace + "\x00" + key)
}

func (b *Backend) seal(namespace, key, value string) ([]byte, error) {
	return append([]byte{version}, b.box.SealBytes([]byte(value), aad(namespace, key))...), nil
}

func (b *Backend) open(namespace, key string, ct []byte) (string, error) {
	if len(ct) < 1 || ct[0] != version {
		return "", fmt.Errorf("secret %q in %q: unknown ciphertext format", key, namespace)
	}
	pt, err := b.box.OpenBytes(ct[1:], aad(namespace, key))
	if err != nil {
		return "", fmt.Errorf("secret %q in %q cannot be decrypted: the key differs from the one it was written with (kestra.secret.embedded.key)", key, namespace)
	}
	return string(pt), nil
}

func translate(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", secrets.ErrNotFound, err)
	}
	return err
}

// Get implements secrets.Backend.
func (b *Backend) Get(ctx context.Context, namespace, key string) (string, error) {
	r, err := b.st.Get(ctx, namespace, key)
	if err != nil {
		return "", translate(err)
	}
	return b.open(namespace, key, r.Ciphertext)
}

// List implements secrets.Backend.
func (b *Backend) List(ctx context.Context, namespace string) ([]secrets.Meta, error) {
	q := namespace
	if q == secrets.AllNamespaces {
		q = ""
	}
	recs, err := b.st.List(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]secrets.Meta, 0, len(recs))
	for _, r := range recs {
		if namespace != secrets.AllNamespaces && r.Namespace != namespace {
			continue
		}
		out = append(out, secrets.Meta{Namespace: r.Namespace, Key: r.Key, Description: r.Description, Tags: r.Tags, Updated: r.Updated})
	}
	return out, nil
}

// Put implements secrets.Writer.
func (b *Backend) Put(ctx context.Context, p secrets.PutParams) error {
	ct, err := b.seal(p.Namespace, p.Key, p.Value)
	if err != nil {
		return err
	}
	return b.st.Put(ctx, store.SecretRecord{
		TenantID: tenant, Namespace: p.Namespace, Key: p.Key, Ciphertext: ct,
		Description: p.Description, Tags: maps.Clone(p.Tags),
	})
}

// Patch implements secrets.Writer.
func (b *Backend) Patch(ctx context.Context, p secrets.PatchParams) error {
	r, err := b.st.Get(ctx, p.Namespace, p.Key)
	if err != nil {
		return translate(err)
	}
	if p.Description != nil {
		r.Description = *p.Description
	}
	if p.Tags != nil {
		r.Tags = maps.Clone(p.Tags)
	}
	return b.st.Put(ctx, r)
}

// Delete implements secrets.Writer.
func (b *Backend) Delete(ctx context.Context, namespace, key string) error {
	return translate(b.st.Delete(ctx, namespace, key))
}
