// Package sqlite is the embedded store driver: one SQLite file in WAL mode,
// for `osprey server local` and single-process deployments.
//
// SQLite allows one writer at a time, so the driver owns exactly one writer
// connection (database/sql queues writers in Go instead of letting them
// spin on SQLITE_BUSY) and a pool of read-only connections that WAL lets
// run beside it. Every write is a short BEGIN IMMEDIATE transaction; claims
// are single UPDATE … RETURNING statements. Wake-ups stay in the process.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/internal/hub"
	"github.com/ospreyhq/osprey/store/internal/sqlfile"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune the driver. The zero value is usable.
type Options struct {
	// Now is the clock; leases, wake-ups and timestamps use it. Default
	// time.Now.
	Now func() time.Time
	// Readers is the size of the read-only pool. Default: GOMAXPROCS, at
	// least 2.
	Readers int
	// BusyTimeout bounds how long a connection waits for a lock held by
	// another process sharing the file. Default 5s.
	BusyTimeout time.Duration
	// NoSync skips fsync (synchronous=OFF): much faster to create and
	// write, but a power loss or OS crash may corrupt the file. For tests
	// and throwaway data only.
	NoSync bool
	// Logger receives migration notices. Default: discard.
	Logger *slog.Logger
}

// Store is the SQLite implementation of store.Store.
type Store struct {
	w, r   *sql.DB
	ws, rs map[string]*sql.Stmt // prepared on the writer and on the readers
	// wr is the only user of w once Open returned: every write goes
	// through its group commit.
	wr  *writer
	now func() time.Time
	hub hub.Hub
	// ck is the checkpointer's connection (file databases only).
	ck     *sql.DB
	ckStop context.CancelFunc
	ckDone chan struct{}
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path, applies the
// embedded migrations and prepares every statement. Path ":memory:" opens
// a private in-memory database on a single connection, for tests.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Readers <= 0 {
		opts.Readers = max(2, runtime.GOMAXPROCS(0))
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{now: opts.Now}
	var err error
	if path == ":memory:" {
		s.w, err = sql.Open("sqlite", dsn(":memory:", opts, false))
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		s.w.SetMaxOpenConns(1)
		s.w.SetConnMaxLifetime(0)
		s.w.SetConnMaxIdleTime(0)
		s.r = s.w
	} else {
		// The file holds sealed secrets and execution data: owner-only.
		// SQLite gives its -wal and -shm files the same mode.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		f.Close()
		s.w, err = sql.Open("sqlite", dsn(path, opts, false))
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		s.w.SetMaxOpenConns(1)
		s.r, err = sql.Open("sqlite", dsn(path, opts, true))
		if err != nil {
			s.w.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		s.r.SetMaxOpenConns(opts.Readers)
		s.r.SetMaxIdleConns(opts.Readers)
	}
	if err := s.migrate(ctx, opts.Logger); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.wr = newWriter(s.w)
	s.wr.start()
	if path != ":memory:" {
		if s.ck, err = sql.Open("sqlite", dsn(path, opts, true)); err != nil {
			s.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		s.ck.SetMaxOpenConns(1)
		cctx, stop := context.WithCancel(context.Background())
		s.ckStop, s.ckDone = stop, make(chan struct{})
		go s.checkpoints(cctx, s.ck)
	}
	return s, nil
}

// dsn builds a modernc.org/sqlite URI. WAL lets readers run beside the
// writer; synchronous=NORMAL is durable across process crashes (a power
// loss may drop the last commits), the usual trade for WAL.
func dsn(path string, opts Options, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if path != ":memory:" {
		// No mmap: every page of the file a connection touched through a
		// mapping counts in the process's RSS, which then grew with the
		// number of stored executions, and each connection re-mapped the
		// file as it grew (a tenth of the CPU at saturation). Reads go
		// through each connection's page cache, bounded by cache_size
		// (SQLite's default, 2 MiB), and the OS page cache below it.
		// The WAL file is trimmed back after checkpoints.
		q.Add("_pragma", "mmap_size(0)")
		q.Add("_pragma", "journal_size_limit(67108864)")
		q.Add("_pragma", "journal_mode(WAL)")
		if opts.NoSync {
			q.Add("_pragma", "synchronous(OFF)")
		} else {
			q.Add("_pragma", "synchronous(NORMAL)")
		}
		if !readOnly {
			// The checkpointer copies the WAL back in the background
			// (see checkpoints); the writer checkpoints only past this.
			q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", autoCheckpointPages))
		}
	}
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
		// The undo copies a savepoint or a statement keeps of the pages
		// it changes (the group commit's savepoints, see writer) stay in
		// memory: in a temporary file, each page cost two system calls.
		q.Add("_pragma", "temp_store(2)")
	}
	return "file:" + path + "?" + q.Encode()
}

func (s *Store) migrate(ctx context.Context, log *slog.Logger) error {
	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("load sqlite migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.w, dir, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("load sqlite migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	for _, r := range res {
		log.InfoContext(ctx, "applied migration", "component", "store", "version", r.Source.Version)
	}
	return nil
}

func (s *Store) prepare(ctx context.Context) error {
	qs, err := sqlfile.Parse(queriesSQL)
	if err != nil {
		return fmt.Errorf("parse sqlite queries: %w", err)
	}
	s.ws, s.rs = map[string]*sql.Stmt{}, map[string]*sql.Stmt{}
	for name, q := range qs {
		if s.ws[name], err = s.w.PrepareContext(ctx, q); err != nil {
			return fmt.Errorf("prepare %s: %w", name, err)
		}
		if s.r == s.w {
			s.rs[name] = s.ws[name]
			continue
		}
		if s.rs[name], err = s.r.PrepareContext(ctx, q); err != nil {
			return fmt.Errorf("prepare %s: %w", name, err)
		}
	}
	return nil
}

// wq returns the writer's prepared statement name; rq the readers'.
func (s *Store) wq(name string) *sql.Stmt { return mustStmt(s.ws, name) }
func (s *Store) rq(name string) *sql.Stmt { return mustStmt(s.rs, name) }

func mustStmt(m map[string]*sql.Stmt, name string) *sql.Stmt {
	st, ok := m[name]
	if !ok {
		panic("sqlite: no query named " + name)
	}
	return st
}

// tx runs fn in one write transaction, which it may share with other
// callers' (see writer): fn runs once, with a context that is never
// cancelled, and its work is committed when tx returns nil.
func (s *Store) tx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.wr.do(ctx, false, fn)
}

// exec1 runs fn, which runs one statement through stmt, as tx does; when
// no other write waits, without a transaction (tx is nil): autocommit
// spares the BEGIN and COMMIT calls.
func (s *Store) exec1(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.wr.do(ctx, true, fn)
}

// stmt binds the writer's prepared statement name to tx; with a nil tx,
// the statement runs in autocommit.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, name string) *sql.Stmt {
	if tx == nil {
		return s.wq(name)
	}
	return tx.StmtContext(ctx, s.wq(name))
}

// translate maps SQLite errors to the seam's sentinels.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		}
	}
	return err
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// Close closes the statements and connections, first letting SQLite
// refresh the planner statistics it found missing (PRAGMA optimize).
func (s *Store) Close() error {
	if s.wr != nil {
		s.wr.close()
	}
	if s.ckStop != nil {
		s.ckStop()
		<-s.ckDone
		s.ck.Close()
		s.ckStop = nil
	}
	if s.w != nil {
		_, _ = s.w.Exec("PRAGMA optimize")
	}
	for _, m := range []map[string]*sql.Stmt{s.rs, s.ws} {
		for _, st := range m {
			st.Close()
		}
	}
	var err error
	if s.r != nil && s.r != s.w {
		err = s.r.Close()
	}
	if s.w != nil {
		err = errors.Join(err, s.w.Close())
	}
	return err
}

// Flows returns the flow repository.
func (s *Store) Flows() store.FlowStore { return flows{s} }

// Executions returns the execution repository.
func (s *Store) Executions() store.ExecutionStore { return executions{s} }

// Logs returns the log repository.
func (s *Store) Logs() store.LogStore { return logs{s} }

// Triggers returns the trigger-state repository.
func (s *Store) Triggers() store.TriggerStore { return triggers{s} }

// Queue returns the work queue.
func (s *Store) Queue() store.QueueStore { return queue{s} }

// Secrets returns the embedded secrets repository.
func (s *Store) Secrets() store.SecretStore { return secrets{s} }

// micros converts t to the stored form.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts the stored form back to a UTC time.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// nullMicros stores an optional time.
func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}
