// Package postgres is the shared store driver: PostgreSQL through pgx, for
// `server standalone` and the split components of a cluster, several
// processes on one database.
//
// Claims lock candidate rows with FOR UPDATE SKIP LOCKED so executors and
// workers on many hosts take disjoint work without waiting on each other.
// Wake-ups travel with LISTEN/NOTIFY on one channel ("osprey", payload the
// topic) over a dedicated connection that reconnects on failure; writes
// that create work send their NOTIFY once they committed, outside their
// transaction (see notifier: a NOTIFY inside it would serialize every
// commit).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/internal/hub"
	"github.com/ospreyhq/osprey/store/internal/sqlfile"
)

//go:embed migrations/*.sql
var migrations embed.FS

// channel is the one LISTEN/NOTIFY channel; the payload names the topic.
const channel = "osprey"

// Options tune the driver. The zero value is usable.
type Options struct {
	// Now is the clock; leases, wake-ups and timestamps use it. Default
	// time.Now. Every time is computed here, never by the database, so
	// hosts must keep their clocks in sync (NTP), as leases assume.
	Now func() time.Time
	// MaxConns is the pool size (Kestra's maximum-pool-size). Default:
	// pgxpool's, max(4, CPUs).
	MaxConns int32
	// User and Password override the DSN's, as Kestra's separate
	// datasources.postgres.username/password do.
	User, Password string
	// Logger receives migration notices and listener reconnects. Default:
	// discard.
	Logger *slog.Logger
}

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	pool    *pgxpool.Pool
	q       map[string]string
	now     func() time.Time
	log     *slog.Logger
	hub     hub.Hub
	stop    context.CancelFunc
	stopped chan struct{}
	// notifier sends wake-ups to other processes after commits.
	notifier notifier
}

var _ store.Store = (*Store)(nil)

// Open connects to dsn (a postgres:// URL or key=value string; a JDBC
// "jdbc:postgresql://" URL is accepted too), applies the embedded
// migrations under an advisory lock so that pods starting together migrate
// once, and starts listening for wake-ups.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(strings.TrimPrefix(dsn, "jdbc:"))
	if err != nil {
		// pgx's message may echo the DSN, password included.
		return nil, errors.New("parse postgres dsn: invalid connection string")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.User != "" {
		cfg.ConnConfig.User = opts.User
	}
	if opts.Password != "" {
		cfg.ConnConfig.Password = opts.Password
	}
	s := &Store{now: opts.Now, log: opts.Logger, stopped: make(chan struct{}),
		notifier: notifier{kick: make(chan struct{}, 1), stopped: make(chan struct{})}}
	// The pool's sessions are known by their backend pids, so that the
	// listener can tell this process's notifications from the others'.
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		s.notifier.senders.Store(c.PgConn().PID(), struct{}{})
		return nil
	}
	cfg.BeforeClose = func(c *pgx.Conn) { s.notifier.senders.Delete(c.PgConn().PID()) }
	qs, err := sqlfile.Parse(queriesSQL)
	if err != nil {
		return nil, fmt.Errorf("parse postgres queries: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	s.pool, s.q = pool, qs
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	lctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	ready := make(chan error, 1)
	go s.listen(lctx, cfg.ConnConfig.Copy(), ready)
	go s.notifyLoop(lctx)
	select {
	case err := <-ready:
		if err != nil {
			s.Close()
			return nil, err
		}
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("listen for wake-ups: %w", ctx.Err())
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("load postgres migrations: %w", err)
	}
	// Poll the lock every second (goose's default is every 5s) for up to 5
	// minutes: other pods migrating hold it meanwhile.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, dir,
		goose.WithDisableGlobalRegistry(true), goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("load postgres migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate postgres: %w", err)
	}
	for _, r := range res {
		s.log.InfoContext(ctx, "applied migration", "component", "store", "version", r.Source.Version)
	}
	return nil
}

// sql returns the statement name; a missing name is a programming error
// the conformance suite catches.
func (s *Store) sql(name string) string {
	q, ok := s.q[name]
	if !ok {
		panic("postgres: no query named " + name)
	}
	return q
}

// tx runs fn in one transaction.
func (s *Store) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return translate(pgx.BeginFunc(ctx, s.pool, fn))
}

// batch sends b as one pipeline, which PostgreSQL runs as one implicit
// transaction: every statement commits at its end or none does, in one
// round trip. read reads the results it needs, in order; the others are
// read and checked when it returns. A statement that fails (a check
// calling osprey_fail) rolls back the whole batch, those before it
// included, and its error is returned, translated.
func (s *Store) batch(ctx context.Context, b *pgx.Batch, read func(br pgx.BatchResults) error) error {
	br := s.pool.SendBatch(ctx, b)
	err := read(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return translate(err)
}

// Errors raised by the checks of a batch (osprey_fail, migration 00012).
var (
	errStale  = errors.New("stale version")
	errNoSlot = errors.New("no free concurrency slot")
)

// translate maps PostgreSQL errors to the seam's sentinels and to the
// checks' errors.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %s", store.ErrConflict, pe.ConstraintName)
		case "OSV01":
			return fmt.Errorf("%w: %s", errStale, pe.Message)
		case "OSNS1":
			return fmt.Errorf("%w: %s", errNoSlot, pe.Message)
		}
	}
	return err
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close stops the listener, sends the wake-ups still queued and closes
// the pool.
func (s *Store) Close() error {
	if s.stop != nil {
		s.stop()
		<-s.stopped
		<-s.notifier.stopped
		s.stop = nil
	}
	s.pool.Close()
	return nil
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

// utc returns t in UTC with the microsecond precision PostgreSQL keeps.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := utc(*t)
	return &v
}
