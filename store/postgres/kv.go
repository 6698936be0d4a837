package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ospreyhq/osprey/store"
)

type kv struct{ s *Store }

// KV returns the namespaces' key-value repository.
func (s *Store) KV() store.KVStore { return kv{s} }

func scanKV(row pgx.Row) (store.KVRecord, error) {
	var r store.KVRecord
	var value []byte
	if err := row.Scan(&r.Namespace, &r.Key, &r.TenantID, &r.Type, &value, &r.Description, &r.Expires,
		&r.Created, &r.Updated); err != nil {
		return r, translate(err)
	}
	r.Value = json.RawMessage(value)
	r.Expires, r.Created, r.Updated = utcPtr(r.Expires), r.Created.UTC(), r.Updated.UTC()
	return r, nil
}

// Put checks the value here, although the column would refuse it too, so
// that both drivers refuse the same values with the same error.
func (x kv) Put(ctx context.Context, r store.KVRecord) error {
	if !json.Valid(r.Value) {
		return fmt.Errorf("put kv %s/%s: value is not valid JSON", r.Namespace, r.Key)
	}
	_, err := x.s.pool.Exec(ctx, x.s.sql("kvPut"), r.Namespace, r.Key, r.TenantID, r.Type, string(r.Value),
		r.Description, utcPtr(r.Expires), utc(x.s.now()))
	if err != nil {
		return fmt.Errorf("put kv %s/%s: %w", r.Namespace, r.Key, err)
	}
	return nil
}

func (x kv) Get(ctx context.Context, namespace, key string) (store.KVRecord, error) {
	r, err := scanKV(x.s.pool.QueryRow(ctx, x.s.sql("kvGet"), namespace, key, utc(x.s.now())))
	if err != nil {
		return store.KVRecord{}, fmt.Errorf("get kv %s/%s: %w", namespace, key, err)
	}
	return r, nil
}

func (x kv) List(ctx context.Context, namespace string) ([]store.KVRecord, error) {
	rows, err := x.s.pool.Query(ctx, x.s.sql("kvList"), namespace, utc(x.s.now()))
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
// ErrNotFound for it: callers already saw it as absent.
func (x kv) Delete(ctx context.Context, namespace, key string) error {
	var live bool
	err := translate(x.s.pool.QueryRow(ctx, x.s.sql("kvDelete"), namespace, key, utc(x.s.now())).Scan(&live))
	if err == nil && !live {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete kv %s/%s: %w", namespace, key, err)
	}
	return nil
}

// Purge locks the candidate rows, then deletes the chosen ones, in one
// transaction, so an entry written meanwhile is either purged or kept whole.
func (x kv) Purge(ctx context.Context, p store.KVPurgeParams) (int, error) {
	n := 0
	err := x.s.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, x.s.sql("kvPurgeScan"), p.Namespace, p.Children)
		if err != nil {
			return err
		}
		type ref struct{ ns, key string }
		var chosen []ref
		for rows.Next() {
			var r ref
			var expires *time.Time
			if err := rows.Scan(&r.ns, &r.key, &expires); err != nil {
				rows.Close()
				return err
			}
			if p.ExpiredOnly && (expires == nil || expires.After(p.Now)) {
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
		for _, r := range chosen {
			if _, err := tx.Exec(ctx, x.s.sql("kvDelete"), r.ns, r.key, utc(x.s.now())); err != nil {
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
