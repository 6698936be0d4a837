package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// dbStats are PostgreSQL's own counters: how many transactions committed
// and how many times the WAL was flushed to disk, which is what a durable
// write waits for with fsync on; and, for a database the harness started,
// the CPU its processes spent.
type dbStats struct {
	commits, walSyncs int64
	cpu               time.Duration
}

// dbStatsSettle is how long the harness waits after a scenario before it
// reads the database's counters: a PostgreSQL session reports its
// statistics at most once a second, and one that went idle right after a
// report holds the rest for ten seconds (PGSTAT_IDLE_INTERVAL).
const dbStatsSettle = 11 * time.Second

// pgStats reads the counters of the database at dsn; pid is the
// postmaster of a database the harness started (0: not ours, no CPU).
func pgStats(ctx context.Context, dsn string, pid int) (dbStats, error) {
	var st dbStats
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return st, fmt.Errorf("connect to read database statistics: %w", err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`).Scan(&st.commits); err != nil {
		return st, fmt.Errorf("read pg_stat_database: %w", err)
	}
	// pg_stat_wal is PostgreSQL 14 and later; without it the flushes are
	// left unknown (-1).
	if err := conn.QueryRow(ctx, `SELECT wal_sync FROM pg_stat_wal`).Scan(&st.walSyncs); err != nil {
		st.walSyncs = -1
	}
	if pid > 0 {
		st.cpu = processTreeCPU(pid)
	}
	return st, nil
}

// processTreeCPU is the CPU time of process pid and of its children, the
// live ones and those it has reaped: a postmaster and its backends.
func processTreeCPU(pid int) time.Duration {
	var total time.Duration
	entries, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range entries {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended meanwhile
		}
		f, ok := statFields(string(raw))
		if !ok {
			continue
		}
		self := strings.TrimSuffix(strings.TrimPrefix(path, "/proc/"), "/stat") == strconv.Itoa(pid)
		if !self && f[1] != strconv.Itoa(pid) { // f[1] is field 4, the parent's pid
			continue
		}
		n := 2 // utime, stime
		if self {
			n = 4 // and cutime, cstime: backends that exited
		}
		for i := 11; i < 11+n; i++ {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			total += time.Duration(v) * clockTick
		}
	}
	return total
}

// statFields returns the fields of a /proc/PID/stat line after the
// command name (f[0] is field 3).
func statFields(stat string) ([]string, bool) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return nil, false
	}
	f := strings.Fields(stat[i+1:])
	return f, len(f) >= 15
}
