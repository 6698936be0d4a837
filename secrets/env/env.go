// Package env is Kestra OSS's secret backend: secret('KEY') reads the
// environment variable SECRET_KEY (the prefix is configurable). Values are
// base64-encoded as Kestra expects, line breaks ignored, or taken as they
// are with encoding raw, which Kestra's users have long asked for (Kestra
// issue #17844). Every secret is global: it is visible to every namespace.
package env

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/ospreyhq/osprey/secrets"
)

// Options configures the backend.
type Options struct {
	// Environ is the process environment, KEY=VALUE.
	Environ []string
	// Prefix marks secret variables; SECRET_ when empty.
	Prefix string
	// Raw takes values as written instead of base64-decoding them.
	Raw    bool
	Logger *slog.Logger
}

// Backend holds the decoded values of the environment's secret variables,
// read once at start.
type Backend struct {
	values map[string]string
}

var (
	_ secrets.Backend          = (*Backend)(nil)
	_ secrets.KeyCanonicalizer = (*Backend)(nil)
)

// New reads the secret variables out of o.Environ. A variable that is not
// valid base64 is skipped with a warning naming it (never its value).
func New(o Options) *Backend {
	if o.Prefix == "" {
		o.Prefix = "SECRET_"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Backend{values: map[string]string{}}
	for _, kv := range o.Environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, o.Prefix) || len(k) == len(o.Prefix) {
			continue
		}
		key := strings.ToUpper(strings.TrimPrefix(k, o.Prefix))
		if o.Raw {
			b.values[key] = v
			continue
		}
		dec, err := decode(v)
		if err != nil {
			o.Logger.Warn("environment secret is not valid base64; encode it (base64 -w0) or set kestra.secret.env.encoding: raw to read values as they are",
				"component", "secrets", "variable", k)
			continue
		}
		b.values[key] = dec
	}
	return b
}

// decode reads base64 as Kestra does, ignoring line breaks and accepting
// missing padding.
func decode(v string) (string, error) {
	v = strings.NewReplacer("\r", "", "\n", "").Replace(v)
	if dec, err := base64.StdEncoding.DecodeString(v); err == nil {
		return string(dec), nil
	}
	dec, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "="))
	if err != nil {
		return "", fmt.Errorf("decode base64: %w", err)
	}
	return string(dec), nil
}

// CanonicalKey upper-cases keys, as environment variable names are.
func (b *Backend) CanonicalKey(key string) string { return strings.ToUpper(key) }

// Get returns the value of SECRET_<KEY>. Environment secrets live only in
// the global namespace "".
func (b *Backend) Get(_ context.Context, namespace, key string) (string, error) {
	if namespace != "" {
		return "", fmt.Errorf("secret %q in %s: %w", key, namespace, secrets.ErrNotFound)
	}
	if v, ok := b.values[strings.ToUpper(key)]; ok {
		return v, nil
	}
	return "", fmt.Errorf("secret %q: %w", key, secrets.ErrNotFound)
}

// List lists the keys found in the environment, all global.
func (b *Backend) List(_ context.Context, namespace string) ([]secrets.Meta, error) {
	if namespace != "" && namespace != secrets.AllNamespaces {
		return nil, nil
	}
	out := make([]secrets.Meta, 0, len(b.values))
	for k := range b.values {
		out = append(out, secrets.Meta{Key: k})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
