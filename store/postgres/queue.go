package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

type queue struct{ s *Store }

func (q queue) ClaimExecutions(ctx context.Context, owner string, limit int, lease time.Duration) ([]string, error) {
	now := utc(q.s.now())
	rows, err := q.s.pool.Query(ctx, q.s.sql("execClaim"), owner, now.Add(lease), now, limit)
	if err != nil {
		return nil, fmt.Errorf("claim executions for %s: %w", owner, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("claim executions for %s: %w", owner, err)
	}
	return ids, nil
}

// jobRow is a job with its insertion sequence, the tie-breaker of "oldest
// first".
type jobRow struct {
	seq int64
	store.Job
}

func scanJobs(rows pgx.Rows) ([]store.Job, error) {
	defer rows.Close()
	var js []jobRow
	for rows.Next() {
		var j jobRow
		var lease *time.Time
		var state string
		if err := rows.Scan(&j.seq, &j.ID, &j.ExecutionID, &j.TaskRunID, &j.Attempt, &j.Payload, &state, &j.Owner,
			&lease, &j.Cancel, &j.Result, &j.Created, &j.Lost, &j.Expired); err != nil {
			return nil, err
		}
		j.State = store.JobState(state)
		if lease != nil {
			j.LeaseUntil = lease.UTC()
		}
		j.Created = j.Created.UTC()
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

func (q queue) ClaimJobs(ctx context.Context, owner string, limit int, lease time.Duration) ([]store.Job, error) {
	rows, err := q.s.pool.Query(ctx, q.s.sql("jobClaim"), owner, utc(q.s.now()).Add(lease), limit)
	if err != nil {
		return nil, fmt.Errorf("claim jobs for %s: %w", owner, err)
	}
	out, err := scanJobs(rows)
	if err != nil {
		return nil, fmt.Errorf("claim jobs for %s: %w", owner, err)
	}
	return out, nil
}

func (q queue) Heartbeat(ctx context.Context, owner string, jobIDs []string, lease time.Duration) ([]string, error) {
	if len(jobIDs) == 0 {
		return nil, nil
	}
	rows, err := q.s.pool.Query(ctx, q.s.sql("jobHeartbeat"), utc(q.s.now()).Add(lease), jobIDs, owner)
	if err != nil {
		return nil, fmt.Errorf("heartbeat jobs of %s: %w", owner, err)
	}
	defer rows.Close()
	var cancel []string
	for rows.Next() {
		var id string
		var c bool
		if err := rows.Scan(&id, &c); err != nil {
			return nil, fmt.Errorf("heartbeat jobs of %s: %w", owner, err)
		}
		if c {
			cancel = append(cancel, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("heartbeat jobs of %s: %w", owner, err)
	}
	slices.Sort(cancel)
	return cancel, nil
}

func (q queue) Complete(ctx context.Context, owner, jobID string, result []byte) error {
	var execID string
	err := q.s.pool.QueryRow(ctx, q.s.sql("jobComplete"), result, jobID, owner).Scan(&execID)
	if errors.Is(err, pgx.ErrNoRows) {
		err = fmt.Errorf("%s does not hold it: %w", owner, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("complete job %s: %w", jobID, err)
	}
	q.s.notify(store.TopicExecutions)
	return nil
}

// CompleteAll sends the whole batch in one round trip within one
// transaction: the log lines, then each job's completion, in the order of
// their executions so that two batches touching the same executions lock
// their rows in the same order and never wait on each other in a cycle.
func (q queue) CompleteAll(ctx context.Context, owner string, done []store.Completion) ([]string, error) {
	if len(done) == 0 {
		return nil, nil
	}
	var lines []flow.LogEntry
	for _, c := range done {
		lines = append(lines, c.Logs...)
	}
	var lost, topics []string
	err := q.s.tx(ctx, func(tx pgx.Tx) error {
		lost = lost[:0]
		var err error
		if len(lines) > 0 {
			if topics, err = (logs{q.s}).appendTx(ctx, tx, lines); err != nil {
				return fmt.Errorf("append log lines: %w", err)
			}
		}
		order, err := q.executionsOf(ctx, tx, done)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, i := range order {
			b.Queue(q.s.sql("jobComplete"), done[i].Result, done[i].JobID, owner)
		}
		br := tx.SendBatch(ctx, b)
		for _, i := range order {
			var execID string
			err := br.QueryRow().Scan(&execID)
			if errors.Is(err, pgx.ErrNoRows) {
				lost = append(lost, done[i].JobID)
				continue
			}
			if err != nil {
				br.Close()
				return fmt.Errorf("complete job %s: %w", done[i].JobID, err)
			}
		}
		return br.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("complete %d jobs of %s: %w", len(done), owner, err)
	}
	if len(lost) < len(done) {
		topics = append(topics, store.TopicExecutions)
	}
	q.s.notify(topics...)
	return lost, nil
}

// executionsOf returns the indexes of done ordered by their jobs'
// executions, then job ids.
func (q queue) executionsOf(ctx context.Context, tx pgx.Tx, done []store.Completion) ([]int, error) {
	ids := make([]string, len(done))
	for i, c := range done {
		ids[i] = c.JobID
	}
	rows, err := tx.Query(ctx, q.s.sql("jobExecutions"), ids)
	if err != nil {
		return nil, fmt.Errorf("find the executions of %d jobs: %w", len(ids), err)
	}
	exec := map[string]string{}
	for rows.Next() {
		var id, e string
		if err := rows.Scan(&id, &e); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find the executions of %d jobs: %w", len(ids), err)
		}
		exec[id] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find the executions of %d jobs: %w", len(ids), err)
	}
	order := make([]int, len(done))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(exec[ids[a]], exec[ids[b]]), cmp.Compare(ids[a], ids[b]))
	})
	return order, nil
}

func (q queue) Results(ctx context.Context, executionID string) ([]store.Job, error) {
	rows, err := q.s.pool.Query(ctx, q.s.sql("jobResults"), executionID)
	if err != nil {
		return nil, fmt.Errorf("results of execution %s: %w", executionID, err)
	}
	out, err := scanJobs(rows)
	if err != nil {
		return nil, fmt.Errorf("results of execution %s: %w", executionID, err)
	}
	return out, nil
}

func (q queue) RequeueExpired(ctx context.Context) (int, error) {
	tag, err := q.s.pool.Exec(ctx, q.s.sql("jobRequeue"), utc(q.s.now()))
	if err != nil {
		return 0, fmt.Errorf("requeue expired jobs: %w", err)
	}
	n := int(tag.RowsAffected())
	if n > 0 {
		q.s.notify(store.TopicJobs)
	}
	return n, nil
}

func (q queue) Release(ctx context.Context, owner, jobID string) error {
	tag, err := q.s.pool.Exec(ctx, q.s.sql("jobRelease"), jobID, owner)
	if err != nil {
		return fmt.Errorf("release job %s: %w", jobID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("release job %s: %s does not hold it: %w", jobID, owner, store.ErrConflict)
	}
	q.s.notify(store.TopicJobs)
	return nil
}

// Notify wakes the subscribers of topic in this process at once and in
// every other process sharing the database soon after (see notifier): it
// returns before the notification left, and never fails.
func (q queue) Notify(_ context.Context, topic string) error {
	q.s.notify(topic)
	return nil
}

func (q queue) Subscribe(ctx context.Context, topic string) (<-chan struct{}, error) {
	return q.s.hub.Subscribe(ctx, topic), nil
}

var _ store.QueueInspector = queue{}

// Stats reports the queue's depth.
func (q queue) Stats(ctx context.Context) (store.QueueStats, error) {
	var st store.QueueStats
	var oldest *time.Time
	if err := q.s.pool.QueryRow(ctx, q.s.sql("queueStats")).Scan(&st.JobsQueued, &st.JobsRunning, &oldest, &st.ExecutionsPending); err != nil {
		return st, fmt.Errorf("queue stats: %w", translate(err))
	}
	if oldest != nil {
		st.OldestQueued = oldest.UTC()
	}
	return st, nil
}
