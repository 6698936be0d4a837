package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

type logs struct{ s *Store }

// levelNum orders log levels for MinLevel; unknown levels sort with INFO.
func levelNum(level string) int16 {
	switch strings.ToUpper(level) {
	case "TRACE":
		return 0
	case "DEBUG":
		return 1
	case "WARN", "WARNING":
		return 3
	case "ERROR":
		return 4
	}
	return 2
}

// Append inserts the whole batch as one statement over column arrays,
// under a lock per execution that makes each execution's Seq order equal
// its commit order: one round trip.
func (l logs) Append(ctx context.Context, entries []flow.LogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	topics, read := l.queueAppend(b, entries)
	if err := l.s.batch(ctx, b, read); err != nil {
		return fmt.Errorf("append %d log entries: %w", len(entries), err)
	}
	l.s.notify(topics...)
	return nil
}

// queueAppend adds to b the statements that insert entries, and returns
// the topics to wake once b committed (each execution's) and the reader of
// their results, which sets the entries' Seq.
func (l logs) queueAppend(b *pgx.Batch, entries []flow.LogEntry) ([]string, func(pgx.BatchResults) error) {
	n := len(entries)
	var (
		execID, tenant, ns, flowID, task, taskRun, trigger, level, thread, msg = make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n)
		attempt = make([]int32, n)
		ts      = make([]time.Time, n)
		lvl     = make([]int16, n)
	)
	for i, e := range entries {
		execID[i], tenant[i], ns[i], flowID[i], task[i], taskRun[i] = e.ExecutionID, e.TenantID, e.Namespace, e.FlowID,
			e.TaskID, e.TaskRunID
		attempt[i], trigger[i], ts[i], level[i], lvl[i], thread[i], msg[i] = int32(e.AttemptNumber), e.TriggerID,
			utc(e.Timestamp), e.Level, levelNum(e.Level), e.Thread, e.Message
	}
	// Followers of each execution are woken once the lines are committed.
	var ids, topics []string
	seen := map[string]bool{}
	for _, e := range entries {
		if !seen[e.ExecutionID] {
			seen[e.ExecutionID] = true
			ids = append(ids, e.ExecutionID)
			topics = append(topics, store.TopicExecution(e.ExecutionID))
		}
	}
	b.Queue(l.s.sql("logLock"), ids)
	b.Queue(l.s.sql("logInsert"), execID, tenant, ns, flowID, task, taskRun, attempt, trigger, ts,
		level, lvl, thread, msg)
	return topics, func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		// Rows are numbered in input order; RETURNING promises no order.
		slices.Sort(seqs)
		for i := range entries {
			entries[i].Seq = seqs[i]
		}
		return nil
	}
}

func (l logs) List(ctx context.Context, q store.LogQuery) ([]flow.LogEntry, error) {
	var minLevel int16
	if q.MinLevel != "" {
		minLevel = levelNum(q.MinLevel)
	}
	var limit *int
	if q.Limit > 0 {
		limit = &q.Limit
	}
	rows, err := l.s.pool.Query(ctx, l.s.sql("logList"), q.ExecutionID, q.TaskRunID, q.TaskID, minLevel, q.AfterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("list logs of execution %s: %w", q.ExecutionID, err)
	}
	defer rows.Close()
	var out []flow.LogEntry
	for rows.Next() {
		var e flow.LogEntry
		var attempt int32
		if err := rows.Scan(&e.Seq, &e.ExecutionID, &e.TenantID, &e.Namespace, &e.FlowID, &e.TaskID, &e.TaskRunID,
			&attempt, &e.TriggerID, &e.Timestamp, &e.Level, &e.Thread, &e.Message); err != nil {
			return nil, fmt.Errorf("list logs of execution %s: %w", q.ExecutionID, err)
		}
		e.AttemptNumber, e.Timestamp = int(attempt), e.Timestamp.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list logs of execution %s: %w", q.ExecutionID, err)
	}
	return out, nil
}

func (l logs) DeleteByExecution(ctx context.Context, executionID string) error {
	if _, err := l.s.pool.Exec(ctx, l.s.sql("logDeleteByExecution"), executionID); err != nil {
		return fmt.Errorf("delete logs of execution %s: %w", executionID, err)
	}
	return nil
}

// levelMask is the bit set of the level_num values of levels (0: all).
func levelMask(levels []string) int32 {
	var m int32
	for _, l := range levels {
		m |= 1 << levelNum(l)
	}
	return m
}

func (l logs) Purge(ctx context.Context, p store.LogPurgeParams) (int, error) {
	tag, err := l.s.pool.Exec(ctx, l.s.sql("logPurge"), p.ExecutionID, p.Namespace, p.FlowID,
		levelMask(p.Levels), utcPtr(p.From), utcPtr(p.To))
	if err != nil {
		return 0, fmt.Errorf("purge logs: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
