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
	// Planned at each call (an unnamed statement): the table grows from
	// nothing to millions of rows over a server's life, and a plan
	// prepared while it was nearly empty (a sequential scan of every
	// execution) would be kept by the connection until the table's first
	// ANALYZE. Planned with its limit and the table as it stands, the claim
	// reads the claimable rows' index.
	rows, err := q.s.pool.Query(ctx, q.s.sql("execClaim"), pgx.QueryExecModeCacheDescribe, owner, now.Add(lease), now, limit)
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

// CompleteAll sends the whole batch as one pipeline, one implicit
// transaction and one round trip: the log lines, a lock on the jobs'
// executions taken in the order of their ids, then every job's completion
// in one statement. Two batches touching the same executions lock their
// rows in the same order, so they never wait on each other in a cycle.
func (q queue) CompleteAll(ctx context.Context, owner string, done []store.Completion) ([]string, error) {
	if len(done) == 0 {
		return nil, nil
	}
	var lines []flow.LogEntry
	ids := make([]string, len(done))
	results := make([][]byte, len(done))
	for i, c := range done {
		lines = append(lines, c.Logs...)
		ids[i], results[i] = c.JobID, c.Result
	}
	b := &pgx.Batch{}
	var topics []string
	var readLogs func(pgx.BatchResults) error
	if len(lines) > 0 {
		topics, readLogs = (logs{q.s}).queueAppend(b, lines)
	}
	b.Queue(q.s.sql("jobLockExecutions"), ids)
	b.Queue(q.s.sql("jobCompleteAll"), ids, results, owner)
	var completed []string
	err := q.s.batch(ctx, b, func(br pgx.BatchResults) error {
		if readLogs != nil {
			if err := readLogs(br); err != nil {
				return fmt.Errorf("append log lines: %w", err)
			}
		}
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("lock the executions of the jobs: %w", err)
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		completed, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("complete %d jobs of %s: %w", len(done), owner, err)
	}
	var lost []string
	for _, id := range ids {
		if !slices.Contains(completed, id) {
			lost = append(lost, id)
		}
	}
	if len(completed) > 0 {
		topics = append(topics, store.TopicExecutions)
	}
	q.s.notify(topics...)
	return lost, nil
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

var _ store.StepBatchReader = queue{}

// ReadSteps reads the executions asked for, the results and the commands
// of every execution of reads in one round trip: three statements however
// many executions, each reading what Get, Results and Commands read.
func (q queue) ReadSteps(ctx context.Context, reads []store.StepRead) ([]store.StepInput, error) {
	if len(reads) == 0 {
		return nil, nil
	}
	all := make([]string, len(reads))
	var cold []string
	at := make(map[string]int, len(reads))
	for i, r := range reads {
		all[i] = r.ExecutionID
		at[r.ExecutionID] = i
		if r.WithExecution {
			cold = append(cold, r.ExecutionID)
		}
	}
	out := make([]store.StepInput, len(reads))
	b := &pgx.Batch{}
	if len(cold) > 0 {
		b.Queue(q.s.sql("execGetAll"), cold)
	}
	b.Queue(q.s.sql("jobResultsAll"), all)
	b.Queue(q.s.sql("cmdListAll"), all)
	err := q.s.batch(ctx, b, func(br pgx.BatchResults) error {
		if len(cold) > 0 {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				var doc []byte
				var runs [][]byte
				var version int64
				if err := rows.Scan(&id, &doc, &version, &runs); err != nil {
					rows.Close()
					return err
				}
				e, err := assemble(doc, runs)
				if err != nil {
					rows.Close()
					return fmt.Errorf("execution %s: %w", id, err)
				}
				out[at[id]].Execution, out[at[id]].Version = e, version
			}
			if err := rows.Err(); err != nil {
				return err
			}
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		jobs, err := scanJobs(rows)
		if err != nil {
			return fmt.Errorf("results: %w", err)
		}
		for _, j := range jobs {
			out[at[j.ExecutionID]].Results = append(out[at[j.ExecutionID]].Results, j)
		}
		if rows, err = br.Query(); err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c store.Command
			if err := rows.Scan(&c.ExecutionID, &c.ID, &c.Payload, &c.Created); err != nil {
				return fmt.Errorf("commands: %w", err)
			}
			c.Created = c.Created.UTC()
			out[at[c.ExecutionID]].Commands = append(out[at[c.ExecutionID]].Commands, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read the step inputs of %d executions: %w", len(reads), err)
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
