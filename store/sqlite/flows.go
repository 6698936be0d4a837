package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/internal/revision"
)

type flows struct{ s *Store }

type scanner interface{ Scan(dest ...any) error }

func scanFlow(row scanner) (store.FlowRecord, error) {
	var f store.FlowRecord
	var updated int64
	if err := row.Scan(&f.Namespace, &f.ID, &f.Revision, &f.TenantID, &f.Source, &f.Deleted, &updated); err != nil {
		return f, translate(err)
	}
	f.Updated = fromMicros(updated)
	return f, nil
}

// put writes the next revision of a flow after checking what op requires
// of the head revision: create wants none or a deleted one, update and
// delete want a live one. The single writer makes read-then-write safe.
func (f flows) put(ctx context.Context, ns, id, source string, op revision.Op) (store.FlowRecord, error) {
	var out store.FlowRecord
	err := f.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		head, err := scanFlow(f.s.stmt(ctx, tx, "flowLatest").QueryRowContext(ctx, ns, id))
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		rec, write, err := revision.Next(head, exists, op, ns, id, source)
		if err != nil || !write {
			out = rec
			return err
		}
		rec.Updated = fromMicros(micros(f.s.now()))
		out = rec
		if _, err := f.s.stmt(ctx, tx, "flowUnsetLatest").ExecContext(ctx, ns, id); err != nil {
			return err
		}
		_, err = f.s.stmt(ctx, tx, "flowInsert").ExecContext(ctx, ns, id, out.Revision, out.Source, out.Deleted, micros(out.Updated))
		return translate(err)
	})
	if err != nil {
		return store.FlowRecord{}, fmt.Errorf("%s flow %s/%s: %w", op, ns, id, err)
	}
	return out, nil
}

func (f flows) Create(ctx context.Context, p store.PutFlowParams) (store.FlowRecord, error) {
	return f.put(ctx, p.Namespace, p.ID, p.Source, revision.Create)
}

func (f flows) Update(ctx context.Context, p store.PutFlowParams) (store.FlowRecord, error) {
	return f.put(ctx, p.Namespace, p.ID, p.Source, revision.Update)
}

func (f flows) Delete(ctx context.Context, namespace, id string) error {
	_, err := f.put(ctx, namespace, id, "", revision.Delete)
	return err
}

func (f flows) Get(ctx context.Context, namespace, id string, rev int) (store.FlowRecord, error) {
	var rec store.FlowRecord
	var err error
	if rev == 0 {
		rec, err = scanFlow(f.s.rq("flowLatest").QueryRowContext(ctx, namespace, id))
		if err == nil && rec.Deleted {
			err = store.ErrNotFound
		}
	} else {
		rec, err = scanFlow(f.s.rq("flowRevision").QueryRowContext(ctx, namespace, id, rev))
	}
	if err != nil {
		return store.FlowRecord{}, fmt.Errorf("get flow %s/%s: %w", namespace, id, err)
	}
	return rec, nil
}

func (f flows) Revisions(ctx context.Context, namespace, id string) ([]store.FlowRecord, error) {
	out, err := queryFlows(ctx, f.s.rq("flowRevisions"), namespace, id)
	if err == nil && len(out) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("list revisions of flow %s/%s: %w", namespace, id, err)
	}
	return out, nil
}

func (f flows) Search(ctx context.Context, q store.FlowQuery) ([]store.FlowRecord, int, error) {
	limit, offset := page(q.Page, q.Size)
	out, err := queryFlows(ctx, f.s.rq("flowSearch"), q.Namespace, q.Query, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("search flows: %w", err)
	}
	var total int
	if err := f.s.rq("flowCount").QueryRowContext(ctx, q.Namespace, q.Query).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count flows: %w", err)
	}
	return out, total, nil
}

func queryFlows(ctx context.Context, st *sql.Stmt, args ...any) ([]store.FlowRecord, error) {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.FlowRecord
	for rows.Next() {
		f, err := scanFlow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// page turns a 1-based page and a size (0: all) into LIMIT and OFFSET;
// SQLite reads LIMIT -1 as no limit.
func page(p, size int) (limit, offset int) {
	if size <= 0 {
		return -1, 0
	}
	return size, max(p-1, 0) * size
}
