package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ospreyhq/osprey/store"
)

type secrets struct{ s *Store }

func scanSecret(row pgx.Row) (store.SecretRecord, error) {
	var r store.SecretRecord
	var tags []byte
	if err := row.Scan(&r.Namespace, &r.Key, &r.TenantID, &r.Ciphertext, &r.Description, &tags, &r.Updated); err != nil {
		return r, translate(err)
	}
	if err := json.Unmarshal(tags, &r.Tags); err != nil {
		return r, fmt.Errorf("decode tags: %w", err)
	}
	r.Updated = r.Updated.UTC()
	return r, nil
}

func (x secrets) Put(ctx context.Context, r store.SecretRecord) error {
	tags, err := json.Marshal(r.Tags)
	if err != nil {
		return fmt.Errorf("encode tags of secret %s/%s: %w", r.Namespace, r.Key, err)
	}
	if r.Ciphertext == nil {
		r.Ciphertext = []byte{}
	}
	_, err = x.s.pool.Exec(ctx, x.s.sql("secretPut"), r.Namespace, r.Key, r.TenantID, r.Ciphertext, r.Description,
		string(tags), utc(x.s.now()))
	if err != nil {
		return fmt.Errorf("put secret %s/%s: %w", r.Namespace, r.Key, err)
	}
	return nil
}

func (x secrets) Get(ctx context.Context, namespace, key string) (store.SecretRecord, error) {
	r, err := scanSecret(x.s.pool.QueryRow(ctx, x.s.sql("secretGet"), namespace, key))
	if err != nil {
		return store.SecretRecord{}, fmt.Errorf("get secret %s/%s: %w", namespace, key, err)
	}
	return r, nil
}

func (x secrets) List(ctx context.Context, namespace string) ([]store.SecretRecord, error) {
	rows, err := x.s.pool.Query(ctx, x.s.sql("secretList"), namespace)
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
	tag, err := x.s.pool.Exec(ctx, x.s.sql("secretDelete"), namespace, key)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete secret %s/%s: %w", namespace, key, err)
	}
	return nil
}
