package cli

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/secrets/azurekv"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/storage/azureblob"
	"github.com/ospreyhq/osprey/storage/local"
)

// openStorage is the one switch over internal storage backends.
func openStorage(ctx context.Context, cfg *config.Config, host *Env, log *slog.Logger) (storage.Storage, error) {
	switch cfg.Storage.Type {
	case config.StorageLocal, "":
		base := cfg.Storage.Local.BasePath
		if base == "" {
			base = filepath.Join(cfg.Osprey.DataDir, "storage")
		}
		s, err := local.New(base)
		if err != nil {
			return nil, err
		}
		log.InfoContext(ctx, "storage ready", "component", "storage", "type", "local", "path", base)
		return s, nil
	case config.StorageAzure:
		o := azureblob.Options{Config: cfg.Storage.Azure, Logger: log, CreateContainer: true}
		if host != nil {
			o.Environ, o.Transport = azurekv.ParseEnviron(host.Environ), host.AzureTransport
		}
		s, err := azureblob.New(o)
		if err != nil {
			return nil, err
		}
		// Like the vault check: a broken set-up shows in the first log
		// lines with its fix, and flows without files keep running.
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := s.Check(cctx); err != nil {
			log.ErrorContext(ctx, "blob storage check failed; flows with files will fail until this is fixed", "component", "storage", "err", err)
		} else {
			log.InfoContext(ctx, "storage ready", "component", "storage", "type", "azure", "container", cfg.Storage.Azure.Container, "credential", s.Kind())
		}
		return s, nil
	default:
		return nil, fmt.Errorf("kestra.storage.type %q: use local or azure", cfg.Storage.Type)
	}
}
