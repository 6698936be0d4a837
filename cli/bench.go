package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ospreyhq/osprey/devkit/bench"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
)

// benchCommands returns `osprey bench`: the benchmark harness.
func benchCommands(env *Env) []*cobra.Command {
	var o bench.Options
	var scenarios, jsonOut string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure Osprey over its HTTP API: start a server process, drive it from a bounded load generator on loopback",
		Long: `Starts "osprey server" (this binary) as a separate process on loopback, on SQLite or on the
PostgreSQL (--postgres starts one with fsync on; --postgres-url names one), and runs the scenarios of docs/performance.md against it over HTTP:
the two-task flow at fixed rates and at saturation, ten If tasks, a 40-task chain, three secret() calls
against a local Key Vault emulator, a log follow (SSE) and ForEach over 100 to 100,000 values. Every
scenario is bounded in time and count. It prints a table, and the JSON report with --json.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if scenarios != "" {
				o.Scenarios = strings.Split(scenarios, ",")
			}
			o.Log = env.Stderr
			o.OpenSQLite = func(ctx context.Context, path string) (store.Store, error) {
				// Seeding writes a throwaway database: no fsync.
				return sqlite.Open(ctx, path, sqlite.Options{NoSync: true})
			}
			rep, err := bench.Run(cmd.Context(), o)
			if rep != nil {
				if werr := rep.WriteTable(env.Stdout); werr != nil && err == nil {
					err = werr
				}
				if jsonOut != "" {
					f, ferr := os.Create(jsonOut)
					if ferr != nil {
						return fmt.Errorf("write %s: %w", jsonOut, ferr)
					}
					defer f.Close()
					if werr := rep.WriteJSON(f); werr != nil && err == nil {
						err = werr
					}
				}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Short, "short", false, "about a second per scenario, small sizes (CI)")
	f.StringVar(&scenarios, "scenarios", "", "comma-separated scenario names (default: all)")
	f.DurationVar(&o.Duration, "duration", 0, "length of each rate and saturation scenario (default 10s; 1s with --short)")
	f.DurationVar(&o.Timeout, "timeout", 0, "bound of each ForEach execution (default 3m; 30s with --short)")
	f.IntVar(&o.Clients, "clients", 0, "concurrent clients at saturation (default 64)")
	f.IntVar(&o.Threads, "worker-thread", 0, "the server's --worker-thread (default: its own)")
	f.BoolVar(&o.Postgres, "postgres", false, "run the server on a local PostgreSQL started from the machine's binaries, fsync on")
	f.StringVar(&o.PostgresURL, "postgres-url", "", "run the server on this PostgreSQL database instead of SQLite")
	f.StringVar(&o.ProfileDir, "profile-dir", "", "write a CPU profile of the server per scenario, and a heap profile, here")
	f.IntVar(&o.Seed, "seed", 0, "store this many ended executions before the server starts (SQLite)")
	f.StringVar(&o.Binary, "binary", "", "the osprey binary to start as the server (default: this one), e.g. an older build to compare")
	f.StringVar(&jsonOut, "json", "", "also write the report as JSON to this file")
	return []*cobra.Command{cmd}
}
