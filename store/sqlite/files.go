package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/ospreyhq/osprey/store"
)

type files struct{ s *Store }

// Files returns the namespaces' file repository.
func (s *Store) Files() store.FileStore { return files{s} }

func scanFile(row scanner) (store.FileRecord, error) {
	var r store.FileRecord
	var created, updated int64
	if err := row.Scan(&r.Namespace, &r.Path, &r.TenantID, &r.Content, &r.Size, &created, &updated); err != nil {
		return r, translate(err)
	}
	r.Created, r.Updated = fromMicros(created), fromMicros(updated)
	return r, nil
}

// scanFileInfo reads a fileList row, which leaves the content out.
func scanFileInfo(row scanner) (store.FileRecord, error) {
	var r store.FileRecord
	var created, updated int64
	if err := row.Scan(&r.Namespace, &r.Path, &r.TenantID, &r.Size, &created, &updated); err != nil {
		return r, translate(err)
	}
	r.Created, r.Updated = fromMicros(created), fromMicros(updated)
	return r, nil
}

// under returns the prefix of the paths inside directory dir: "/dir" holds
// "/dir/x" but not "/directory/x". A dir ending in "/" is already that
// prefix, and "" is the root, like "/".
func under(dir string) string {
	if dir == "" || strings.HasSuffix(dir, "/") {
		return dir
	}
	return dir + "/"
}

func (x files) Put(ctx context.Context, r store.FileRecord) error {
	// A nil slice would bind as NULL; an empty file is an empty BLOB.
	content := r.Content
	if content == nil {
		content = []byte{}
	}
	err := x.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := x.s.stmt(ctx, tx, "filePut").ExecContext(ctx, r.Namespace, r.Path, r.TenantID, content,
			micros(x.s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("put file %s%s: %w", r.Namespace, r.Path, err)
	}
	return nil
}

func (x files) Get(ctx context.Context, namespace, path string) (store.FileRecord, error) {
	r, err := scanFile(x.s.rq("fileGet").QueryRowContext(ctx, namespace, path))
	if err != nil {
		return store.FileRecord{}, fmt.Errorf("get file %s%s: %w", namespace, path, err)
	}
	return r, nil
}

// List treats a prefix that does not end in "/" as a directory, so that
// "/dir" lists "/dir" and "/dir/x" but not "/directory/x".
func (x files) List(ctx context.Context, namespace, prefix string) ([]store.FileRecord, error) {
	rows, err := x.s.rq("fileList").QueryContext(ctx, namespace, prefix, under(prefix))
	if err != nil {
		return nil, fmt.Errorf("list files %s%s: %w", namespace, prefix, err)
	}
	defer rows.Close()
	var out []store.FileRecord
	for rows.Next() {
		r, err := scanFileInfo(rows)
		if err != nil {
			return nil, fmt.Errorf("list files %s%s: %w", namespace, prefix, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list files %s%s: %w", namespace, prefix, err)
	}
	return out, nil
}

// Delete removes path whether it is a file or a directory; a path that
// names neither removes nothing, which is not an error: the caller's goal,
// no file there, holds.
func (x files) Delete(ctx context.Context, namespace, path string) (int, error) {
	var n int64
	err := x.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := x.s.stmt(ctx, tx, "fileDelete").ExecContext(ctx, namespace, path, under(path))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete file %s%s: %w", namespace, path, err)
	}
	return int(n), nil
}
