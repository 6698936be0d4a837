package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/ospreyhq/osprey/store"
)

type secrets struct{ s *Store }

func scanSecret(row scanner) (store.SecretRecord, error) {
	var r store.SecretRecord
	var tags []byte
	var updated int64
	if err := row.Scan(&r.Namespace, &r.Key, &r.TenantID, &r.Ciphertext, &r.Description, &tags, &updated); err != nil {
		return r, translate(err)
	}
	if err := json.Unmarshal(tags, &r.Tags); err != nil {
		return r, fmt.Errorf("decode tags: %w", err)
	}
	r.Updated = fromMicros(updated)
	return r, nil
}

func (x secrets) Put(ctx context.Context, r store.SecretRecord) error {
	tags, err := json.Marshal(r.Tags)
	if err != nil {
		return fmt.Errorf("encode tags of secret %s/%s: %w", r.Namespace, r.Key, err)
	}
	err = x.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := x.s.stmt(ctx, tx, "secretPut").ExecContext(ctx, r.Namespace, r.Key, r.TenantID, r.Ciphertext,
			r.Description, tags, micros(x.s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("put secret %s/%s: %w", r.Namespace, r.Key, err)
	}
	return nil
}

func (x secrets) Get(ctx context.Context, namespace, key string) (store.SecretRecord, error) {
	r, err := scanSecret(x.s.rq("secretGet").QueryRowContext(ctx, namespace, key))
	if err != nil {
		return store.SecretRecord{}, fmt.Errorf("get secret %s/%s: %w", namespace, key, err)
	}
	return r, nil
}

func (x secrets) List(ctx context.Context, namespace string) ([]store.SecretRecord, error) {
	rows, err := x.s.rq("secretList").QueryContext(ctx, namespace)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	defer rows.Close()
	var out []store.SecretRecord
	for rows.Next() {
		r, err := scanSecret(rows)
		if err != nil {
			return nil, fmt.Errorf("list secrets: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (x secrets) Delete(ctx context.Context, namespace, key string) error {
	err := x.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := x.s.stmt(ctx, tx, "secretDelete").ExecContext(ctx, namespace, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete secret %s/%s: %w", namespace, key, err)
	}
	return nil
}
