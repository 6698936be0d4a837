package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/store"
)

func openPostgres(ctx context.Context, cfg *config.Config, log *slog.Logger) (store.Store, error) {
	return nil, fmt.Errorf("postgres store not wired yet")
}
