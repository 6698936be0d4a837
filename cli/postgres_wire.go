package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/postgres"
)

// openPostgres opens the PostgreSQL store from datasources.postgres.
func openPostgres(ctx context.Context, cfg *config.Config, log *slog.Logger) (store.Store, error) {
	ds := cfg.Datasource
	if ds.URL.IsZero() {
		return nil, fmt.Errorf("kestra.repository.type is postgres but datasources.postgres.url is empty: set it, e.g. jdbc:postgresql://db:5432/osprey")
	}
	conn, err := ds.ConnString()
	if err != nil {
		return nil, fmt.Errorf("datasources.postgres.url: %w", err)
	}
	st, err := postgres.Open(ctx, conn.Reveal(), postgres.Options{MaxConns: int32(ds.MaximumPoolSize), Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL store at %s: %w", ds.Redacted(), err)
	}
	log.InfoContext(ctx, "store ready", "type", "postgres", "datasource", ds.Redacted())
	return st, nil
}
