package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/ospreyhq/osprey/store"
)

type namespaces struct{ s *Store }

// Namespaces returns the namespace settings repository.
func (s *Store) Namespaces() store.NamespaceStore { return namespaces{s} }

func scanNamespace(row scanner) (store.NamespaceRecord, error) {
	var r store.NamespaceRecord
	var allowed string
	var updated int64
	if err := row.Scan(&r.Namespace, &allowed, &updated); err != nil {
		return r, translate(err)
	}
	if err := json.Unmarshal([]byte(allowed), &r.AllowedNamespaces); err != nil {
		return r, fmt.Errorf("namespace %s: allowed namespaces: %w", r.Namespace, err)
	}
	r.Updated = fromMicros(updated)
	return r, nil
}

func (x namespaces) Put(ctx context.Context, r store.NamespaceRecord) error {
	allowed, err := json.Marshal(nonNil(r.AllowedNamespaces))
	if err != nil {
		return fmt.Errorf("put namespace %s: %w", r.Namespace, err)
	}
	err = x.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := x.s.stmt(ctx, tx, "nsPut").ExecContext(ctx, r.Namespace, string(allowed), micros(x.s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("put namespace %s: %w", r.Namespace, err)
	}
	return nil
}

func (x namespaces) Get(ctx context.Context, namespace string) (store.NamespaceRecord, error) {
	r, err := scanNamespace(x.s.rq("nsGet").QueryRowContext(ctx, namespace))
	if err != nil {
		return store.NamespaceRecord{}, fmt.Errorf("get namespace %s: %w", namespace, err)
	}
	return r, nil
}

func (x namespaces) List(ctx context.Context) ([]store.NamespaceRecord, error) {
	rows, err := x.s.rq("nsList").QueryContext(ctx)
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

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
