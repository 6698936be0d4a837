package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/internal/seal"
	"github.com/ospreyhq/osprey/mask"
	"github.com/ospreyhq/osprey/render"
	"github.com/ospreyhq/osprey/secrets"
	"github.com/ospreyhq/osprey/secrets/azurekv"
	"github.com/ospreyhq/osprey/secrets/embedded"
	"github.com/ospreyhq/osprey/secrets/env"
	"github.com/ospreyhq/osprey/store"
)

// now is the clock of env (time.Now unless a test set one).
func (env *Env) now() time.Time {
	if env.Now != nil {
		return env.Now()
	}
	return time.Now()
}

// newSecrets is the one switch over secret backends. It also teaches the
// process logger every resolved value, so the server's own log lines are
// masked too.
func newSecrets(ctx context.Context, a *app) (render.Secrets, error) {
	masker := &mask.Masker{}
	a.log = slog.New(mask.NewHandler(a.log.Handler(), masker))
	m, err := newSecretManager(ctx, a.cfg, a.store, a.env, a.log, masker.Add)
	if err != nil {
		return nil, err
	}
	if kv, ok := m.Backend().(*azurekv.Backend); ok {
		go checkVault(ctx, kv, a.log)
	}
	return m, nil
}

// checkVault proves the token exchange, the vault's tenant and the list
// permission at start-up, so a broken set-up shows in the first log lines
// with its fix rather than in the first flow. It does not stop the server:
// a vault that is down at start may come back, and flows that need no
// secret keep running. So it runs beside start-up rather than in it: its
// token exchange and TLS handshakes took 50-170 ms, which the server's
// readiness need not wait for.
func checkVault(ctx context.Context, kv *azurekv.Backend, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := kv.Check(ctx); err != nil {
		if errors.Is(err, context.Canceled) || ctx.Err() == context.Canceled {
			return // the server stopped before the vault answered
		}
		log.ErrorContext(ctx, "key vault check failed; flows using secret() will fail until this is fixed (osprey secrets doctor shows each step)",
			"component", "secrets", "vault", kv.URI(), "err", err)
		return
	}
	log.InfoContext(ctx, "key vault reachable", "component", "secrets", "vault", kv.URI(), "credential", kv.Plan().Kind)
}

// newSecretManager builds the configured backend inside a Manager.
func newSecretManager(ctx context.Context, cfg *config.Config, st store.Store, host *Env, log *slog.Logger, learn func(string)) (*secrets.Manager, error) {
	sc := cfg.Secret
	b, err := newSecretBackend(ctx, cfg, st, host, log)
	if err != nil {
		return nil, err
	}
	size := sc.Cache.MaximumSize
	if !sc.Cache.Enabled {
		size = 0
	}
	return secrets.New(secrets.Options{
		Backend: b, ReadOnly: sc.ReadOnly, CacheSize: size, CacheTTL: sc.Cache.ExpireAfterWrite,
		Learn: learn, Logger: log,
	}), nil
}

func newSecretBackend(ctx context.Context, cfg *config.Config, st store.Store, host *Env, log *slog.Logger) (secrets.Backend, error) {
	sc := cfg.Secret
	environ := host.Environ
	switch sc.Type {
	case config.SecretEnv:
		return env.New(env.Options{Environ: environ, Prefix: sc.Env.Prefix, Raw: sc.Env.Encoding == "raw", Logger: log}), nil
	case config.SecretEmbedded, "":
		key, err := embeddedKey(ctx, cfg, log)
		if err != nil {
			return nil, err
		}
		return embedded.New(st.Secrets(), key)
	case config.SecretAzureKeyVault:
		b, err := azurekv.New(azurekv.Options{
			Config: sc.Azure, ReadOnly: sc.ReadOnly, Environ: azurekv.ParseEnviron(environ),
			Transport: host.AzureTransport, Logger: log,
		})
		if err != nil {
			return nil, fmt.Errorf("kestra.secret.type azure-key-vault: %w", err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("kestra.secret.type %q: use azure-key-vault, env or embedded (Kestra's jdbc)", sc.Type)
	}
}

// embeddedKey is the configured key, or on SQLite one generated under the
// data directory. With PostgreSQL every replica must share the key, so it
// must be configured.
func embeddedKey(ctx context.Context, cfg *config.Config, log *slog.Logger) ([]byte, error) {
	if k := cfg.Secret.Embedded.Key; !k.IsZero() {
		key, err := seal.DeriveKey(k.Reveal())
		if err != nil {
			return nil, fmt.Errorf("kestra.secret.embedded.key: %w", err)
		}
		return key, nil
	}
	if cfg.Repository.Type != config.RepositorySQLite {
		return nil, fmt.Errorf("kestra.secret.embedded.key (or kestra.encryption.secret-key) is required with kestra.repository.type %s: every replica must seal secrets with the same key; generate one with openssl rand -base64 32", cfg.Repository.Type)
	}
	dir := cfg.Osprey.DataDir
	if dir == "" {
		dir = "data"
	}
	return embedded.LoadOrCreateKey(ctx, dir, log)
}

// inputBox returns the box that seals SECRET-type inputs: keyed by
// kestra.encryption.secret-key, else by the embedded secrets key (generated
// under the data directory on SQLite). Without a key, SECRET inputs are
// refused with the fix.
func inputBox(ctx context.Context, a *app) *seal.Box {
	var key []byte
	var err error
	if k := a.cfg.Encryption.SecretKey; !k.IsZero() {
		key, err = seal.DeriveKey(k.Reveal())
	} else {
		key, err = embeddedKey(ctx, a.cfg, a.log)
	}
	if err != nil {
		a.log.DebugContext(ctx, "SECRET inputs are disabled", "reason", err)
		return nil
	}
	box, err := seal.New(key, "osprey secret input v1")
	if err != nil {
		return nil
	}
	return box
}

// maskCache keeps what the worker's maskers learn of secrets (their forms,
// a tenth of a second for a PEM key) as long as the secret manager keeps
// the values themselves, and not at all when it keeps none.
func maskCache(cfg *config.Config) *mask.Cache {
	c := cfg.Secret.Cache
	if !c.Enabled {
		return nil
	}
	ttl := c.ExpireAfterWrite
	if ttl <= 0 {
		ttl = time.Minute // the secret manager's default
	}
	return mask.NewCache(c.MaximumSize, ttl)
}
