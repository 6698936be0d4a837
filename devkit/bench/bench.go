package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/devkit/azurefake"
	"github.com/ospreyhq/osprey/devkit/pgtest"
	"github.com/ospreyhq/osprey/store"
)

// Options configure Run. The zero value runs every scenario at full size
// on SQLite.
type Options struct {
	// Binary is the osprey executable to start; default: this program.
	Binary string
	// Postgres runs the server on PostgreSQL (`server standalone`) instead
	// of SQLite: a local one started from the machine's binaries with
	// fsync on, or the database at PostgresURL.
	Postgres    bool
	PostgresURL string
	// Scenarios to run, by name; empty: all (Short: all but the largest).
	Scenarios []string
	// Short runs each scenario for about a second with small sizes, so CI
	// can run the whole harness in well under a minute.
	Short bool
	// Duration of each rate and saturation scenario (default 10s; 1s when
	// Short).
	Duration time.Duration
	// Timeout bounds each ForEach execution (default 3m; 30s when Short).
	Timeout time.Duration
	// Clients is the number of concurrent clients at saturation (default 64).
	Clients int
	// Threads is the server's --worker-thread (0: its default).
	Threads int
	// ProfileDir, when set, receives a CPU profile of the server for each
	// scenario (<scenario>.cpu.pprof) and a heap profile at the end.
	ProfileDir string
	// Seed stores this many ended executions before the server starts
	// (SQLite only, through OpenSQLite), to measure idle memory and
	// latency with a full history.
	Seed       int
	OpenSQLite OpenSQLite
	// Log receives progress lines; default: discard.
	Log io.Writer
}

// OpenSQLite opens the SQLite store at path for seeding; the command line
// passes its driver, so this package depends on the store seam alone.
type OpenSQLite func(ctx context.Context, path string) (store.Store, error)

// Report is everything one run measured; it is also the JSON output.
type Report struct {
	Started time.Time `json:"started"`
	Cores   int       `json:"cores"`
	Store   string    `json:"store"`
	// LoadBefore and LoadAfter are /proc/loadavg when the run started and
	// ended: the machine may be shared.
	LoadBefore string `json:"loadBefore"`
	LoadAfter  string `json:"loadAfter"`
	// ReadyMillis is from starting the process to its first UP readiness
	// answer.
	ReadyMillis float64 `json:"readyMillis"`
	// Stored is how many executions the database held when idle RSS was read.
	IdleRSSMiB      float64  `json:"idleRssMiB"`
	Stored          int      `json:"storedExecutions"`
	IdleRSSAfterMiB float64  `json:"idleRssAfterMiB"`
	StoredAfter     int      `json:"storedExecutionsAfter"`
	Scenarios       []Result `json:"scenarios"`
}

// Result is one scenario's figures. Latencies are submit → end as the
// client sees it (POST …?wait=true), except for log-follow, where they are
// a log line's timestamp → its SSE event.
type Result struct {
	Name           string  `json:"name"`
	Executions     int     `json:"executions"`
	Failed         int     `json:"failed"`
	TaskRuns       int     `json:"taskRuns"`
	Seconds        float64 `json:"seconds"`
	ExecPerSec     float64 `json:"executionsPerSecond"`
	TaskRunsPerSec float64 `json:"taskRunsPerSecond"`
	P50Millis      float64 `json:"p50Millis"`
	P95Millis      float64 `json:"p95Millis"`
	P99Millis      float64 `json:"p99Millis"`
	MaxMillis      float64 `json:"maxMillis"`
	// CPUSecPer1000 is the server's CPU seconds (user + system) per 1,000
	// executions.
	CPUSecPer1000 float64 `json:"cpuSecondsPer1000Executions"`
	PeakRSSMiB    float64 `json:"peakRssMiB"`
	// KeyVaultCalls counts requests that reached the vault (and Entra's
	// token endpoint) during the scenario.
	KeyVaultCalls int `json:"keyVaultCalls"`
	TokenCalls    int `json:"tokenCalls"`
	// On PostgreSQL: the database's committed transactions (read-only
	// ones included) and WAL flushes to disk per execution, read from
	// pg_stat_database and pg_stat_wal, and the CPU seconds of the
	// database's processes per 1,000 executions when the harness started
	// it. Flushes are what durable writes wait for with fsync on.
	DBCommitsPerExec float64 `json:"dbCommitsPerExecution,omitempty"`
	DBFlushesPerExec float64 `json:"dbWalFlushesPerExecution,omitempty"`
	DBCPUSecPer1000  float64 `json:"dbCpuSecondsPer1000Executions,omitempty"`
	Note             string  `json:"note,omitempty"`
	Profile          string  `json:"profile,omitempty"`
}

// scenario is one measured workload.
type scenario struct {
	name  string
	flow  string // source of the flow it runs
	short bool   // part of a Short run
	full  bool   // part of a full run
	run   func(ctx context.Context, r *runner, res *Result) ([]sample, error)
}

// runner is a run in progress.
type runner struct {
	opts   Options
	srv    *server
	c      *client
	dev    *azurefake.Dev
	stored int
	// pgPID is the postmaster of the PostgreSQL the harness started.
	pgPID int
}

// Run starts the server, runs the scenarios and returns the report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the osprey binary: %w", err)
		}
		opts.Binary = exe
	}
	if opts.Duration <= 0 {
		opts.Duration = 10 * time.Second
		if opts.Short {
			opts.Duration = time.Second
		}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Minute
		if opts.Short {
			opts.Timeout = 30 * time.Second
		}
	}
	if opts.Clients <= 0 {
		opts.Clients = 64
	}
	chosen, err := choose(opts)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "osprey-bench-")
	if err != nil {
		return nil, fmt.Errorf("create work directory: %w", err)
	}
	defer os.RemoveAll(dir)
	if opts.ProfileDir != "" {
		if err := os.MkdirAll(opts.ProfileDir, 0o755); err != nil {
			return nil, fmt.Errorf("create profile directory: %w", err)
		}
	}

	rep := &Report{Started: time.Now().UTC(), Cores: runtime.NumCPU(), Store: "sqlite", LoadBefore: loadAvg()}
	pgPID := 0
	if opts.Postgres && opts.PostgresURL == "" {
		fmt.Fprintln(opts.Log, "starting PostgreSQL (fsync on)…")
		pg, err := pgtest.NewDurableServer()
		if err != nil {
			return nil, fmt.Errorf("start PostgreSQL: %w", err)
		}
		defer pg.Close()
		pgPID = pg.PID()
		if opts.PostgresURL, err = pg.CreateDatabase(ctx, "osprey_bench"); err != nil {
			return nil, err
		}
		rep.Store = "postgres (local, fsync on)"
	} else if opts.PostgresURL != "" {
		rep.Store = "postgres"
	}
	r := &runner{opts: opts, pgPID: pgPID}
	cfg := serverConfig{Dir: dir, PostgresURL: opts.PostgresURL, Threads: opts.Threads}
	if needsVault(chosen) {
		azDir := filepath.Join(dir, "azure")
		if err := os.MkdirAll(azDir, 0o700); err != nil {
			return nil, fmt.Errorf("create emulator directory: %w", err)
		}
		r.dev, err = azurefake.StartDev(ctx, azurefake.DevOptions{Dir: azDir})
		if err != nil {
			return nil, err
		}
		defer r.dev.Close()
		cfg.VaultURI, cfg.ClientID, cfg.Env = r.dev.Vault.URL(), r.dev.Identity.ClientID, r.dev.Environ()
	}
	if opts.Seed > 0 {
		if opts.PostgresURL != "" || opts.Postgres || opts.OpenSQLite == nil {
			return nil, errors.New("--seed fills a SQLite database; PostgreSQL runs take no seed")
		}
		fmt.Fprintf(opts.Log, "storing %d ended executions…\n", opts.Seed)
		if err := seed(ctx, opts.OpenSQLite, filepath.Join(dir, "data"), opts.Seed); err != nil {
			return nil, err
		}
		r.stored = opts.Seed
	}
	r.srv, err = startServer(ctx, opts.Binary, cfg)
	if err != nil {
		return nil, err
	}
	defer r.srv.stop()
	rep.ReadyMillis = millis(r.srv.ready)
	if opts.Seed > 0 {
		took, err := r.srv.settled(ctx, 10*time.Minute)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(opts.Log, "the executor settled the seeded executions in %s\n", took.Round(time.Second))
	}
	r.c = newClient(r.srv.api)
	if err := r.prepare(ctx, chosen); err != nil {
		return nil, err
	}
	rep.IdleRSSMiB, rep.Stored = r.idleRSS(ctx), r.stored
	fmt.Fprintf(opts.Log, "ready in %.1f ms; idle RSS %.1f MiB with %d stored executions\n", rep.ReadyMillis, rep.IdleRSSMiB, rep.Stored)

	for _, sc := range chosen {
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		fmt.Fprintf(opts.Log, "%s…\n", sc.name)
		res, err := r.measure(ctx, sc)
		if err != nil {
			return rep, fmt.Errorf("scenario %s: %w", sc.name, err)
		}
		rep.Scenarios = append(rep.Scenarios, res)
		fmt.Fprintf(opts.Log, "  %s\n", res.line())
	}
	rep.IdleRSSAfterMiB, rep.StoredAfter = r.idleRSS(ctx), r.stored
	if opts.ProfileDir != "" {
		_ = r.srv.fetch(ctx, "/debug/pprof/heap", filepath.Join(opts.ProfileDir, "heap.pprof"))
	}
	rep.LoadAfter = loadAvg()
	return rep, nil
}

func choose(opts Options) ([]scenario, error) {
	all := scenarios(opts)
	if len(opts.Scenarios) == 0 {
		var out []scenario
		for _, s := range all {
			if (opts.Short && s.short) || (!opts.Short && s.full) {
				out = append(out, s)
			}
		}
		return out, nil
	}
	var out []scenario
	for _, name := range opts.Scenarios {
		i := slices.IndexFunc(all, func(s scenario) bool { return s.name == name })
		if i < 0 {
			names := make([]string, len(all))
			for j, s := range all {
				names[j] = s.name
			}
			return nil, fmt.Errorf("no scenario %q; the scenarios are %s", name, strings.Join(names, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

func needsVault(sc []scenario) bool {
	return slices.ContainsFunc(sc, func(s scenario) bool { return strings.Contains(s.flow, "secret(") })
}

// prepare stores the flows (and the secrets) the scenarios use.
func (r *runner) prepare(ctx context.Context, sc []scenario) error {
	// The two-task flow also runs beside the wide ForEach scenarios.
	if err := r.c.createFlow(ctx, twoTasks); err != nil {
		return fmt.Errorf("store the two-task flow: %w", err)
	}
	seen := map[string]bool{twoTasks: true}
	for _, s := range sc {
		if s.flow == "" || seen[s.flow] {
			continue
		}
		seen[s.flow] = true
		if err := r.c.createFlow(ctx, s.flow); err != nil {
			return fmt.Errorf("store the flow of %s: %w", s.name, err)
		}
	}
	if r.dev != nil {
		for _, k := range secretNames {
			if err := r.c.putSecret(ctx, k, "value-of-"+strings.ToLower(k)); err != nil {
				return fmt.Errorf("store secret %s: %w", k, err)
			}
		}
	}
	return nil
}

// idleRSS lets the server settle, then reads its resident memory.
func (r *runner) idleRSS(ctx context.Context) float64 {
	select {
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
	}
	st, err := r.srv.stats()
	if err != nil {
		return 0
	}
	return mib(st.rss)
}

// measure runs one scenario between two readings of the server's CPU time,
// peak RSS and the vault's counters, with a CPU profile when asked.
func (r *runner) measure(ctx context.Context, sc scenario) (Result, error) {
	res := Result{Name: sc.name}
	r.srv.resetPeak()
	before, err := r.srv.stats()
	if err != nil {
		return res, err
	}
	kvBefore, tokBefore := r.vaultCalls()
	var dbBefore dbStats
	if r.opts.PostgresURL != "" {
		if dbBefore, err = pgStats(ctx, r.opts.PostgresURL, r.pgPID); err != nil {
			return res, err
		}
	}
	profDone := make(chan error, 1)
	profCtx, stopProf := context.WithCancel(ctx)
	defer stopProf()
	if r.opts.ProfileDir != "" {
		res.Profile = filepath.Join(r.opts.ProfileDir, strings.ReplaceAll(sc.name, "/", "-per-")+".cpu.pprof")
		go func() { profDone <- r.srv.profile(profCtx, r.opts.Duration, res.Profile) }()
	} else {
		profDone <- nil
	}
	began := time.Now()
	samples, err := sc.run(ctx, r, &res)
	elapsed := time.Since(began)
	if err != nil {
		return res, err
	}
	if perr := <-profDone; perr != nil {
		res.Note = strings.TrimSpace(res.Note + " (no profile: " + perr.Error() + ")")
		res.Profile = ""
	}
	after, err := r.srv.stats()
	if err != nil {
		return res, err
	}
	kvAfter, tokAfter := r.vaultCalls()
	res.KeyVaultCalls, res.TokenCalls = kvAfter-kvBefore, tokAfter-tokBefore
	res.PeakRSSMiB = mib(after.peakRSS)
	if res.Seconds == 0 {
		res.Seconds = elapsed.Seconds()
	}
	if res.Executions == 0 {
		for _, s := range samples {
			if s.err != nil {
				continue
			}
			res.Executions++
			res.TaskRuns += s.taskRuns
			if !s.ok {
				res.Failed++
			}
		}
		r.stored += res.Executions
		failedRequests := len(samples) - res.Executions
		if failedRequests > 0 {
			var first error
			for _, s := range samples {
				if s.err != nil {
					first = s.err
					break
				}
			}
			res.Note = strings.TrimSpace(fmt.Sprintf("%s %d requests failed (first: %v)", res.Note, failedRequests, first))
		}
	}
	if res.P50Millis == 0 {
		lat := latencies(samples)
		res.P50Millis, res.P95Millis = millis(percentile(lat, 50)), millis(percentile(lat, 95))
		res.P99Millis, res.MaxMillis = millis(percentile(lat, 99)), millis(percentile(lat, 100))
	}
	if res.Seconds > 0 {
		res.ExecPerSec = float64(res.Executions) / res.Seconds
		res.TaskRunsPerSec = float64(res.TaskRuns) / res.Seconds
	}
	if res.Executions > 0 {
		res.CPUSecPer1000 = (after.cpu - before.cpu).Seconds() / float64(res.Executions) * 1000
	}
	if r.opts.PostgresURL != "" && res.Executions > 0 {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(dbStatsSettle):
		}
		dbAfter, err := pgStats(ctx, r.opts.PostgresURL, r.pgPID)
		if err != nil {
			return res, err
		}
		n := float64(res.Executions)
		res.DBCommitsPerExec = float64(dbAfter.commits-dbBefore.commits) / n
		if dbBefore.walSyncs >= 0 && dbAfter.walSyncs >= 0 {
			res.DBFlushesPerExec = float64(dbAfter.walSyncs-dbBefore.walSyncs) / n
		}
		res.DBCPUSecPer1000 = (dbAfter.cpu - dbBefore.cpu).Seconds() / n * 1000
	}
	return res, nil
}

func (r *runner) vaultCalls() (vault, token int) {
	if r.dev == nil {
		return 0, 0
	}
	return len(r.dev.Vault.Requests()), r.dev.Emulator.Count("token")
}

// fetch saves the management endpoint path (a pprof profile) to file.
func (s *server) fetch(ctx context.Context, path, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.mgmt+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", path, err)
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mib(b int64) float64            { return float64(b) / (1 << 20) }
