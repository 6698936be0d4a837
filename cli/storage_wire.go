package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
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

// storageChecks are the doctor's lines for internal storage: the backend
// is built from the configuration, reached, and a probe file is written,
// read back and deleted — what flows with files will do.
func storageChecks(ctx context.Context, cfg *config.Config, host *Env) []azurekv.Check {
	name := "storage"
	st, err := openStorage(ctx, cfg, host, slog.New(slog.DiscardHandler))
	if err != nil {
		return []azurekv.Check{{Name: name, Status: azurekv.Fail, Detail: err.Error(), Fix: "see docs/storage.md for the kestra.storage keys"}}
	}
	detail := "local, " + cfg.Storage.Local.BasePath
	if az, ok := st.(*azureblob.Storage); ok {
		detail = fmt.Sprintf("azure, container %s at %s, credential %s", cfg.Storage.Azure.Container, cfg.Storage.Azure.Endpoint, az.Kind())
		if err := az.Check(ctx); err != nil {
			return []azurekv.Check{{Name: name, Status: azurekv.Fail, Detail: detail + ": " + err.Error()}}
		}
	} else if cfg.Storage.Local.BasePath == "" {
		detail = "local, " + filepath.Join(cfg.Osprey.DataDir, "storage")
	}
	out := []azurekv.Check{{Name: name, Status: azurekv.Pass, Detail: detail}}
	probe := "/.osprey-doctor/probe-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	step := func() error {
		if _, err := st.Put(ctx, probe, strings.NewReader("osprey doctor")); err != nil {
			return err
		}
		rc, err := st.Get(ctx, probe)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			return err
		}
		if string(b) != "osprey doctor" {
			return fmt.Errorf("read back %d bytes that differ from what was written", len(b))
		}
		_, err = st.Delete(ctx, probe)
		return err
	}
	if err := step(); err != nil {
		return append(out, azurekv.Check{Name: "storage write", Status: azurekv.Fail, Detail: err.Error()})
	}
	return append(out, azurekv.Check{Name: "storage write", Status: azurekv.Pass, Detail: "a probe file was written, read back and deleted"})
}
