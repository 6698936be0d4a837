package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/internal/hub"
)

type logs struct{ s *Store }

// levelNum orders log levels for MinLevel; unknown levels sort with INFO.
func levelNum(level string) int {
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

func (l logs) Append(ctx context.Context, entries []flow.LogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	err := l.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return insertLogs(ctx, l.s.stmt(ctx, tx, "logInsert"), entries)
	})
	if err != nil {
		return fmt.Errorf("append %d log entries: %w", len(entries), err)
	}
	notifyLogs(&l.s.hub, entries)
	return nil
}

// insertLogs inserts entries with ins (logInsert, bound to a transaction)
// and sets their Seq.
func insertLogs(ctx context.Context, ins *sql.Stmt, entries []flow.LogEntry) error {
	for i := range entries {
		e := &entries[i]
		if err := ins.QueryRowContext(ctx, e.ExecutionID, e.TenantID, e.Namespace, e.FlowID, e.TaskID, e.TaskRunID,
			e.AttemptNumber, e.TriggerID, micros(e.Timestamp), e.Level, levelNum(e.Level), e.Thread, e.Message,
		).Scan(&e.Seq); err != nil {
			return err
		}
	}
	return nil
}

// notifyLogs wakes the followers of each execution the entries belong to.
func notifyLogs(h *hub.Hub, entries []flow.LogEntry) {
	last := ""
	for _, e := range entries {
		if e.ExecutionID != "" && e.ExecutionID != last {
			h.Notify(store.TopicExecution(e.ExecutionID))
			last = e.ExecutionID
		}
	}
}

func (l logs) List(ctx context.Context, q store.LogQuery) ([]flow.LogEntry, error) {
	minLevel := 0
	if q.MinLevel != "" {
		minLevel = levelNum(q.MinLevel)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = -1
	}
	rows, err := l.s.rq("logList").QueryContext(ctx, q.ExecutionID, q.TaskRunID, q.TaskID, minLevel, q.AfterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("list logs of execution %s: %w", q.ExecutionID, err)
	}
	defer rows.Close()
	var out []flow.LogEntry
	for rows.Next() {
		var e flow.LogEntry
		var ts int64
		if err := rows.Scan(&e.Seq, &e.ExecutionID, &e.TenantID, &e.Namespace, &e.FlowID, &e.TaskID, &e.TaskRunID,
			&e.AttemptNumber, &e.TriggerID, &ts, &e.Level, &e.Thread, &e.Message); err != nil {
			return nil, fmt.Errorf("list logs of execution %s: %w", q.ExecutionID, err)
		}
		e.Timestamp = fromMicros(ts)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list logs of execution %s: %w", q.ExecutionID, err)
	}
	return out, nil
}

func (l logs) DeleteByExecution(ctx context.Context, executionID string) error {
	err := l.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := l.s.stmt(ctx, tx, "logDeleteByExecution").ExecContext(ctx, executionID)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete logs of execution %s: %w", executionID, err)
	}
	return nil
}

// levelMask is the bit set of the level_num values of levels (0: all).
func levelMask(levels []string) int64 {
	var m int64
	for _, l := range levels {
		m |= 1 << levelNum(l)
	}
	return m
}

func (l logs) Purge(ctx context.Context, p store.LogPurgeParams) (int, error) {
	var n int64
	err := l.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := l.s.stmt(ctx, tx, "logPurge").ExecContext(ctx, p.ExecutionID, p.Namespace, p.FlowID,
			levelMask(p.Levels), nullMicros(p.From), nullMicros(p.To))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge logs: %w", err)
	}
	return int(n), nil
}
