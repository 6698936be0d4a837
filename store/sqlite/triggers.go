package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

type triggers struct{ s *Store }

func scanTrigger(row scanner) (store.TriggerState, error) {
	var t store.TriggerState
	var next, last sql.NullInt64
	var updated int64
	if err := row.Scan(&t.Namespace, &t.FlowID, &t.TriggerID, &next, &last, &t.Disabled, &t.Data, &updated); err != nil {
		return t, translate(err)
	}
	t.Next, t.Last, t.Updated = fromNullMicros(next), fromNullMicros(last), fromMicros(updated)
	return t, nil
}

func (g triggers) Get(ctx context.Context, namespace, flowID, triggerID string) (store.TriggerState, error) {
	t, err := scanTrigger(g.s.rq("triggerGet").QueryRowContext(ctx, namespace, flowID, triggerID))
	if err != nil {
		return t, fmt.Errorf("get trigger %s/%s/%s: %w", namespace, flowID, triggerID, err)
	}
	return t, nil
}

func (g triggers) List(ctx context.Context) ([]store.TriggerState, error) {
	rows, err := g.s.rq("triggerList").QueryContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("list triggers: %w", err)
	}
	defer rows.Close()
	var out []store.TriggerState
	for rows.Next() {
		t, err := scanTrigger(rows)
		if err != nil {
			return nil, fmt.Errorf("list triggers: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (g triggers) args(t store.TriggerState) []any {
	return []any{t.Namespace, t.FlowID, t.TriggerID, nullMicros(t.Next), nullMicros(t.Last), t.Disabled, t.Data,
		micros(g.s.now())}
}

func (g triggers) Put(ctx context.Context, t store.TriggerState) error {
	err := g.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := g.s.stmt(ctx, tx, "triggerPut").ExecContext(ctx, g.args(t)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("put trigger %s/%s/%s: %w", t.Namespace, t.FlowID, t.TriggerID, err)
	}
	return nil
}

func (g triggers) Fire(ctx context.Context, prevNext *time.Time, t store.TriggerState, execs []*flow.Execution) (bool, error) {
	won := false
	err := g.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := g.s.stmt(ctx, tx, "triggerAdvance").ExecContext(ctx, append(g.args(t), nullMicros(prevNext))...)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		if n == 0 && prevNext == nil {
			if res, err = g.s.stmt(ctx, tx, "triggerInsertNew").ExecContext(ctx, g.args(t)...); err != nil {
				return err
			}
			n, _ = res.RowsAffected()
		}
		if n == 0 {
			return nil
		}
		x := executions{g.s}
		for _, e := range execs {
			if err := x.insert(ctx, tx, e); err != nil {
				return err
			}
		}
		won = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("fire trigger %s/%s/%s: %w", t.Namespace, t.FlowID, t.TriggerID, err)
	}
	if won && len(execs) > 0 {
		g.s.hub.Notify(store.TopicExecutions)
	}
	return won, nil
}

func (g triggers) Delete(ctx context.Context, namespace, flowID, triggerID string) error {
	err := g.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := g.s.stmt(ctx, tx, "triggerDelete").ExecContext(ctx, namespace, flowID, triggerID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete trigger %s/%s/%s: %w", namespace, flowID, triggerID, err)
	}
	return nil
}
