package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// maxGroup bounds how many callers' writes one commit carries.
const maxGroup = 64

// errClosed answers writes that arrive once the store is closing.
var errClosed = errors.New("sqlite store closed")

// write is one caller's write, waiting for the writer.
type write struct {
	ctx context.Context
	fn  func(ctx context.Context, tx *sql.Tx) error
	// single: fn runs one statement, atomic by itself, so it needs no
	// savepoint inside a group and runs in autocommit when alone.
	single bool
	err    error
	done   chan struct{}
}

// writer is the group commit in front of SQLite's one writer connection.
//
// Every write waits for that connection anyway; the writes queued while
// one commit runs share the next: one BEGIN, each caller's statements in
// a savepoint of its own, one COMMIT. A commit appends every page its
// transaction changed to the WAL, and the writes of concurrent executions
// (creates, claims, steps, results) change the same few pages — the ends
// of the executions, jobs and logs tables and of their time-ordered
// indexes, the claim index — so a group writes them once for all its
// members instead of once each, and the readers' page caches, which
// SQLite empties whenever the WAL changed, are emptied once per group. A
// write that finds the writer idle runs at once, alone: no group waits
// to fill.
//
// A member's failure rolls back to its savepoint and the others commit.
// Its statements never see its caller's cancellation: an interrupted
// statement inside a transaction rolls back SQLite's whole transaction,
// every member's work with it. A caller whose context ended before its
// turn is skipped; once its turn came, its write runs to the end. The
// errors SQLite ends a whole transaction on (a full disk, an I/O error,
// out of memory) fail every member of that group, which then committed
// nothing, as one such error would fail a transaction of its own.
type writer struct {
	db   *sql.DB
	reqs chan *write
	// mu guards closed: a write is queued under its read lock, so none is
	// queued once close has set it.
	mu     sync.RWMutex
	closed bool
	done   chan struct{}
	// groups counts the groups run (tests read it).
	groups atomic.Int64
}

// newWriter returns a writer for db; start runs it.
func newWriter(db *sql.DB) *writer {
	return &writer{db: db, reqs: make(chan *write, maxGroup), done: make(chan struct{})}
}

func (w *writer) start() { go w.run() }

// close stops the writer once every write queued before it ran.
func (w *writer) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.done
		return
	}
	w.closed = true
	close(w.reqs)
	w.mu.Unlock()
	<-w.done
}

// do runs fn in a write transaction, shared with the writes queued beside
// it, and returns once that transaction committed or failed.
func (w *writer) do(ctx context.Context, single bool, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &write{ctx: ctx, fn: fn, single: single, done: make(chan struct{})}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return errClosed
	}
	w.reqs <- r
	w.mu.RUnlock()
	<-r.done
	return r.err
}

func (w *writer) run() {
	defer close(w.done)
	group := make([]*write, 0, maxGroup)
	for r := range w.reqs {
		group = append(group[:0], r)
		// Under load, let the goroutines that are about to write queue
		// their writes first: they join this group rather than each
		// waiting for a commit of its own. When nothing else is
		// runnable, this returns at once.
		runtime.Gosched()
	fill:
		for len(group) < maxGroup {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break fill
				}
				group = append(group, r)
			default:
				break fill
			}
		}
		w.groups.Add(1)
		w.commit(group)
		for i, r := range group {
			close(r.done)
			group[i] = nil
		}
	}
}

// commit runs a group and sets each member's err.
func (w *writer) commit(group []*write) {
	live := group[:0:0]
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		live = append(live, r)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		r := live[0]
		ctx := context.WithoutCancel(r.ctx)
		if r.single {
			r.err = call(ctx, r.fn, nil)
			return
		}
		r.err = w.alone(ctx, r.fn)
		return
	}
	ctx := context.Background()
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range live {
			r.err = translate(err)
		}
		return
	}
	ok := 0
	for _, r := range live {
		if r.err = w.member(tx, r); r.err == nil {
			ok++
		} else if errors.Is(r.err, errGroupLost) {
			_ = tx.Rollback()
			for _, m := range live {
				if m.err == nil || m == r {
					m.err = r.err
				}
			}
			return
		}
	}
	if ok == 0 {
		_ = tx.Rollback()
		return
	}
	if err := translate(tx.Commit()); err != nil {
		for _, r := range live {
			if r.err == nil {
				r.err = err
			}
		}
	}
}

// errGroupLost is a member's error after which SQLite had rolled back the
// whole transaction.
var errGroupLost = errors.New("the transaction was rolled back")

// member runs one member of a group in tx.
func (w *writer) member(tx *sql.Tx, r *write) error {
	ctx := context.WithoutCancel(r.ctx)
	if r.single {
		// One statement is atomic: a failure leaves nothing of it.
		err := call(ctx, r.fn, tx)
		if err != nil && endsTransaction(err) {
			return fmt.Errorf("%w: %w", errGroupLost, err)
		}
		return err
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT member"); err != nil {
		return fmt.Errorf("%w: savepoint: %w", errGroupLost, err)
	}
	err := call(ctx, r.fn, tx)
	if err == nil {
		if _, err := tx.ExecContext(ctx, "RELEASE member"); err != nil {
			return fmt.Errorf("%w: release savepoint: %w", errGroupLost, err)
		}
		return nil
	}
	if endsTransaction(err) {
		return fmt.Errorf("%w: %w", errGroupLost, err)
	}
	// ROLLBACK TO also fails when no savepoint is left: SQLite ended the
	// whole transaction.
	if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO member"); rerr != nil {
		return fmt.Errorf("%w: %w", errGroupLost, err)
	}
	if _, rerr := tx.ExecContext(ctx, "RELEASE member"); rerr != nil {
		return fmt.Errorf("%w: %w", errGroupLost, err)
	}
	return err
}

// errPanic is a write that panicked; the transaction it ran in is rolled
// back whole, since what it left undone is unknown.
var errPanic = errors.New("write panicked")

// call runs fn, turning a panic into an error: fn runs on the writer's
// goroutine, which serves every caller.
func call(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error, tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errPanic, p)
		}
	}()
	return fn(ctx, tx)
}

// endsTransaction reports whether err is one of the errors after which
// SQLite may have rolled back the whole transaction by itself
// (sqlite.org/lang_transaction.html, "Response To Errors Within A
// Transaction"); the group is then treated as lost.
func endsTransaction(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return errors.Is(err, errPanic) || errors.Is(err, sql.ErrTxDone) || errors.Is(err, driver.ErrBadConn)
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_NOMEM,
		sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}

// alone runs fn in a transaction of its own.
func (w *writer) alone(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	if err := call(ctx, fn, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return translate(tx.Commit())
}
