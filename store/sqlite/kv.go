package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/ospreyhq/osprey/store"
)

type kv struct{ s *Store }

// KV returns the namespaces' key-value repository.
func (s *Store) KV() store.KVStore { return kv{s} }

func scanKV(row scanner) (store.KVRecord, error) {
	var r store.KVRecord
	var value []byte
	var expires sql.NullInt64
	var created, updated int64
	if err := row.Scan(&r.Namespace, &r.Key, &r.TenantID, &r.Type, &value, &r.Description, &expires,
		&created, &updated); err != nil {
		return r, translate(err)
	}
	r.Value = json.RawMessage(value)
	r.Expires, r.Created, r.Updated = fromNullMicros(expires), fromMicros(created), fromMicros(updated)
	return r, nil
}

// Put checks the value here, not in the table, so that both drivers refuse
// the same values with the same error.
func (x kv) Put(ctx context.Context, r store.KVRecord) error {
	if !json.Valid(r.Value) {
		return fmt.Errorf("put kv %s/%s: value is not valid JSON", r.Namespace, r.Key)
	}
	err := x.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// The value goes in as a string so SQLite stores TEXT, which its
		// JSON functions read, rather than a BLOB.
		_, err := x.s.stmt(ctx, tx, "kvPut").ExecContext(ctx, r.Namespace, r.Key, r.TenantID, r.Type,
			string(r.Value), r.Description, nullMicros(r.Expires), micros(x.s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("put kv %s/%s: %w", r.Namespace, r.Key, err)
	}
	return nil
}

func (x kv) Get(ctx context.Context, namespace, key string) (store.KVRecord, error) {
	r, err := scanKV(x.s.rq("kvGet").QueryRowContext(ctx, namespace, key, micros(x.s.now())))
	if err != nil {
		return store.KVRecord{}, fmt.Errorf("get kv %s/%s: %w", namespace, key, err)
	}
	return r, nil
}

func (x kv) List(ctx context.Context, namespace string) ([]store.KVRecord, error) {
	rows, err := x.s.rq("kvList").QueryContext(ctx, namespace, micros(x.s.now()))
	if err != nil {
		return nil, fmt.Errorf("list kv %s: %w", namespace, err)
	}
	defer rows.Close()
	var out []store.KVRecord
	for rows.Next() {
		r, err := scanKV(rows)
		if err != nil {
			return nil, fmt.Errorf("list kv %s: %w", namespace, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Delete removes an expired row too, so it does not linger, but reports
// ErrNotFound for it: callers already saw it as absent. The transaction
// commits in that case, hence the check after it rather than inside.
func (x kv) Delete(ctx context.Context, namespace, key string) error {
	var live bool
	err := x.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return x.s.stmt(ctx, tx, "kvDelete").QueryRowContext(ctx, namespace, key, micros(x.s.now())).Scan(&live)
	})
	err = translate(err)
	if err == nil && !live {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete kv %s/%s: %w", namespace, key, err)
	}
	return nil
}

// Purge reads the candidate keys and deletes the chosen ones in one write
// transaction, so an entry written meanwhile is either purged or kept whole.
func (x kv) Purge(ctx context.Context, p store.KVPurgeParams) (int, error) {
	n := 0
	err := x.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		type ref struct{ ns, key string }
		var chosen []ref
		rows, err := x.s.stmt(ctx, tx, "kvPurgeScan").QueryContext(ctx, p.Namespace, p.Children)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r ref
			var expires sql.NullInt64
			if err := rows.Scan(&r.ns, &r.key, &expires); err != nil {
				rows.Close()
				return err
			}
			if p.ExpiredOnly && (!expires.Valid || expires.Int64 > micros(p.Now)) {
				continue
			}
			if p.Match == nil || p.Match(r.ns, r.key) {
				chosen = append(chosen, r)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		del := x.s.stmt(ctx, tx, "kvDelete")
		for _, r := range chosen {
			var live bool
			if err := del.QueryRowContext(ctx, r.ns, r.key, micros(x.s.now())).Scan(&live); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge kv of %s: %w", p.Namespace, err)
	}
	return n, nil
}
