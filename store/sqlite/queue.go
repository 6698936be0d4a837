package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

type queue struct{ s *Store }

// ClaimExecutions is one UPDATE … RETURNING: in autocommit when the writer
// is idle (a single statement is atomic, and BEGIN/COMMIT would cost two
// more calls), else in the next group commit.
func (q queue) ClaimExecutions(ctx context.Context, owner string, limit int, lease time.Duration) ([]string, error) {
	now := q.s.now()
	var ids []string
	err := q.s.exec1(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ids = ids[:0]
		rows, err := q.s.stmt(ctx, tx, "execClaim").QueryContext(ctx, owner, micros(now.Add(lease)), micros(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim executions for %s: %w", owner, translate(err))
	}
	return ids, nil
}

// jobRow is a job with its insertion sequence, the tie-breaker of "oldest
// first".
type jobRow struct {
	seq int64
	store.Job
}

func scanJob(row scanner) (jobRow, error) {
	var j jobRow
	var lease sql.NullInt64
	var created int64
	var state string
	if err := row.Scan(&j.seq, &j.ID, &j.ExecutionID, &j.TaskRunID, &j.Attempt, &j.Payload, &state, &j.Owner, &lease,
		&j.Cancel, &j.Result, &created, &j.Lost, &j.Expired); err != nil {
		return j, err
	}
	j.State = store.JobState(state)
	if lease.Valid {
		j.LeaseUntil = fromMicros(lease.Int64)
	}
	j.Created = fromMicros(created)
	return j, nil
}

func collectJobs(rows *sql.Rows) ([]store.Job, error) {
	defer rows.Close()
	var js []jobRow
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		js = append(js, j)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// RETURNING yields rows in no promised order.
	slices.SortFunc(js, func(a, b jobRow) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.seq, b.seq))
	})
	out := make([]store.Job, len(js))
	for i, j := range js {
		out[i] = j.Job
	}
	return out, nil
}

// ClaimJobs is one UPDATE … RETURNING, like ClaimExecutions.
func (q queue) ClaimJobs(ctx context.Context, owner string, limit int, lease time.Duration) ([]store.Job, error) {
	until := micros(q.s.now().Add(lease))
	var out []store.Job
	err := q.s.exec1(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := q.s.stmt(ctx, tx, "jobClaim").QueryContext(ctx, owner, until, limit)
		if err != nil {
			return err
		}
		out, err = collectJobs(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim jobs for %s: %w", owner, translate(err))
	}
	return out, nil
}

func (q queue) Heartbeat(ctx context.Context, owner string, jobIDs []string, lease time.Duration) ([]string, error) {
	if len(jobIDs) == 0 {
		return nil, nil
	}
	until := micros(q.s.now().Add(lease))
	var cancel []string
	err := q.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		st := q.s.stmt(ctx, tx, "jobHeartbeat")
		for _, id := range jobIDs {
			var c bool
			err := st.QueryRowContext(ctx, until, id, owner).Scan(&c)
			if errors.Is(err, sql.ErrNoRows) {
				continue // lost: requeued or completed; Complete will say so
			}
			if err != nil {
				return err
			}
			if c {
				cancel = append(cancel, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("heartbeat jobs of %s: %w", owner, err)
	}
	return cancel, nil
}

// Complete is one UPDATE, as ClaimExecutions; the jobs_done_marks_execution
// trigger marks the execution dirty within it.
func (q queue) Complete(ctx context.Context, owner, jobID string, result []byte) error {
	err := q.s.exec1(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var execID string
		return q.s.stmt(ctx, tx, "jobComplete").QueryRowContext(ctx, result, jobID, owner).Scan(&execID)
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("%s does not hold it: %w", owner, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("complete job %s: %w", jobID, translate(err))
	}
	q.s.hub.Notify(store.TopicExecutions)
	return nil
}

// CompleteAll runs in one write transaction: SQLite has one writer, so the
// batch commits once instead of once per job and per batch of log lines.
func (q queue) CompleteAll(ctx context.Context, owner string, done []store.Completion) ([]string, error) {
	if len(done) == 0 {
		return nil, nil
	}
	var lost []string
	var lines []flow.LogEntry
	err := q.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		lost, lines = lost[:0], lines[:0]
		ins, complete := q.s.stmt(ctx, tx, "logInsert"), q.s.stmt(ctx, tx, "jobComplete")
		for _, c := range done {
			if err := insertLogs(ctx, ins, c.Logs); err != nil {
				return fmt.Errorf("append log lines of job %s: %w", c.JobID, err)
			}
			lines = append(lines, c.Logs...)
			var execID string
			err := complete.QueryRowContext(ctx, c.Result, c.JobID, owner).Scan(&execID)
			if errors.Is(err, sql.ErrNoRows) {
				lost = append(lost, c.JobID)
				continue
			}
			if err != nil {
				return fmt.Errorf("complete job %s: %w", c.JobID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("complete %d jobs of %s: %w", len(done), owner, translate(err))
	}
	notifyLogs(&q.s.hub, lines)
	if len(lost) < len(done) {
		q.s.hub.Notify(store.TopicExecutions)
	}
	return lost, nil
}

func (q queue) Results(ctx context.Context, executionID string) ([]store.Job, error) {
	rows, err := q.s.rq("jobResults").QueryContext(ctx, executionID)
	if err != nil {
		return nil, fmt.Errorf("results of execution %s: %w", executionID, err)
	}
	out, err := collectJobs(rows)
	if err != nil {
		return nil, fmt.Errorf("results of execution %s: %w", executionID, err)
	}
	return out, nil
}

func (q queue) RequeueExpired(ctx context.Context) (int, error) {
	var n int64
	err := q.s.exec1(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := q.s.stmt(ctx, tx, "jobRequeue").ExecContext(ctx, micros(q.s.now()))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("requeue expired jobs: %w", translate(err))
	}
	if n > 0 {
		q.s.hub.Notify(store.TopicJobs)
	}
	return int(n), nil
}

func (q queue) Release(ctx context.Context, owner, jobID string) error {
	var n int64
	err := q.s.exec1(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := q.s.stmt(ctx, tx, "jobRelease").ExecContext(ctx, jobID, owner)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("release job %s: %w", jobID, translate(err))
	}
	if n == 0 {
		return fmt.Errorf("release job %s: %s does not hold it: %w", jobID, owner, store.ErrConflict)
	}
	q.s.hub.Notify(store.TopicJobs)
	return nil
}

// Notify wakes this process's subscribers: an embedded database has no
// other process to tell.
func (q queue) Notify(_ context.Context, topic string) error {
	q.s.hub.Notify(topic)
	return nil
}

func (q queue) Subscribe(ctx context.Context, topic string) (<-chan struct{}, error) {
	return q.s.hub.Subscribe(ctx, topic), nil
}

var _ store.QueueInspector = queue{}

// Stats reports the queue's depth.
func (q queue) Stats(ctx context.Context) (store.QueueStats, error) {
	var st store.QueueStats
	var oldest sql.NullInt64
	if err := q.s.rq("queueStats").QueryRowContext(ctx).Scan(&st.JobsQueued, &st.JobsRunning, &oldest, &st.ExecutionsPending); err != nil {
		return st, fmt.Errorf("queue stats: %w", translate(err))
	}
	if oldest.Valid {
		st.OldestQueued = fromMicros(oldest.Int64)
	}
	return st, nil
}
