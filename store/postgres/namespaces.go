package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ospreyhq/osprey/store"
)

type namespaces struct{ s *Store }

// Namespaces returns the namespace settings repository.
func (s *Store) Namespaces() store.NamespaceStore { return namespaces{s} }

func scanNamespace(row pgx.Row) (store.NamespaceRecord, error) {
	var r store.NamespaceRecord
	var allowed []byte
	if err := row.Scan(&r.Namespace, &allowed, &r.Updated); err != nil {
		return r, translate(err)
	}
	if err := json.Unmarshal(allowed, &r.AllowedNamespaces); err != nil {
		return r, fmt.Errorf("namespace %s: allowed namespaces: %w", r.Namespace, err)
	}
	r.Updated = r.Updated.UTC()
	return r, nil
}

func (x namespaces) Put(ctx context.Context, r store.NamespaceRecord) error {
	list := r.AllowedNamespaces
	if list == nil {
		list = []string{}
	}
	allowed, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("put namespace %s: %w", r.Namespace, err)
	}
	if _, err := x.s.pool.Exec(ctx, x.s.sql("nsPut"), r.Namespace, string(allowed), utc(x.s.now())); err != nil {
		return fmt.Errorf("put namespace %s: %w", r.Namespace, err)
	}
	return nil
}

func (x namespaces) Get(ctx context.Context, namespace string) (store.NamespaceRecord, error) {
	r, err := scanNamespace(x.s.pool.QueryRow(ctx, x.s.sql("nsGet"), namespace))
	if err != nil {
		return store.NamespaceRecord{}, fmt.Errorf("get namespace %s: %w", namespace, err)
	}
	return r, nil
}

func (x namespaces) List(ctx context.Context) ([]store.NamespaceRecord, error) {
	rows, err := x.s.pool.Query(ctx, x.s.sql("nsList"))
	if err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	defer rows.Close()
	var out []store.NamespaceRecord
	for rows.Next() {
		r, err := scanNamespace(rows)
		if err != nil {
			return nil, fmt.Errorf("list namespaces: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
