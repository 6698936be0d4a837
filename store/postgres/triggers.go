package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

type triggers struct{ s *Store }

func scanTrigger(row pgx.Row) (store.TriggerState, error) {
	var t store.TriggerState
	if err := row.Scan(&t.Namespace, &t.FlowID, &t.TriggerID, &t.Next, &t.Last, &t.Disabled, &t.Data, &t.Updated); err != nil {
		return t, translate(err)
	}
	t.Next, t.Last, t.Updated = utcPtr(t.Next), utcPtr(t.Last), t.Updated.UTC()
	return t, nil
}

func (g triggers) Get(ctx context.Context, namespace, flowID, triggerID string) (store.TriggerState, error) {
	t, err := scanTrigger(g.s.pool.QueryRow(ctx, g.s.sql("triggerGet"), namespace, flowID, triggerID))
	if err != nil {
		return t, fmt.Errorf("get trigger %s/%s/%s: %w", namespace, flowID, triggerID, err)
	}
	return t, nil
}

func (g triggers) List(ctx context.Context) ([]store.TriggerState, error) {
	rows, err := g.s.pool.Query(ctx, g.s.sql("triggerList"))
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
	return []any{t.Namespace, t.FlowID, t.TriggerID, utcPtr(t.Next), utcPtr(t.Last), t.Disabled, t.Data, utc(g.s.now())}
}

func (g triggers) Put(ctx context.Context, t store.TriggerState) error {
	if _, err := g.s.pool.Exec(ctx, g.s.sql("triggerPut"), g.args(t)...); err != nil {
		return fmt.Errorf("put trigger %s/%s/%s: %w", t.Namespace, t.FlowID, t.TriggerID, err)
	}
	return nil
}

func (g triggers) Fire(ctx context.Context, prevNext *time.Time, t store.TriggerState, execs []*flow.Execution) (bool, error) {
	won := false
	err := g.s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, g.s.sql("triggerAdvance"), append(g.args(t), utcPtr(prevNext))...)
		if err != nil {
			return err
		}
		n := tag.RowsAffected()
		if n == 0 && prevNext == nil {
			if tag, err = tx.Exec(ctx, g.s.sql("triggerInsertNew"), g.args(t)...); err != nil {
				return err
			}
			n = tag.RowsAffected()
		}
		if n == 0 {
			return nil
		}
		if len(execs) > 0 {
			b := &pgx.Batch{}
			x := executions{g.s}
			for _, e := range execs {
				if err := x.queueInsert(b, e); err != nil {
					return err
				}
			}
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
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
		g.s.notify(store.TopicExecutions)
	}
	return won, nil
}

func (g triggers) Delete(ctx context.Context, namespace, flowID, triggerID string) error {
	tag, err := g.s.pool.Exec(ctx, g.s.sql("triggerDelete"), namespace, flowID, triggerID)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete trigger %s/%s/%s: %w", namespace, flowID, triggerID, err)
	}
	return nil
}
