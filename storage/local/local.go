// Package local keeps internal storage files on the local disk, under
// <base-path>/main/<path> as Kestra's local storage does, so a Kestra data
// directory's layout and Osprey's agree.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ospreyhq/osprey/storage"
)

// Storage is a directory on the local disk.
type Storage struct {
	root string // <base>/main
}

var _ storage.Storage = (*Storage)(nil)

// New returns the storage under basePath, creating it when missing.
func New(basePath string) (*Storage, error) {
	if basePath == "" {
		return nil, errors.New("kestra.storage.local.base-path is empty: set a directory, or leave it out to use <data-dir>/storage")
	}
	root := filepath.Join(basePath, storage.Tenant)
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("create storage directory %s: %w", root, err)
	}
	return &Storage{root: root}, nil
}

func (s *Storage) file(p string) (string, string, error) {
	clean, err := storage.Clean(p)
	if err != nil {
		return "", "", err
	}
	return clean, filepath.Join(s.root, filepath.FromSlash(clean)), nil
}

// Put writes to a temporary file beside the target and renames it, so a
// reader never sees a partial file.
func (s *Storage) Put(ctx context.Context, p string, r io.Reader) (int64, error) {
	_, name, err := s.file(p)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return 0, fmt.Errorf("put %s: %w", p, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".put-*")
	if err != nil {
		return 0, fmt.Errorf("put %s: %w", p, err)
	}
	n, err := io.Copy(tmp, ctxReader{ctx, r})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return 0, fmt.Errorf("put %s: %w", p, err)
	}
	return n, nil
}

// Get opens the file for reading.
func (s *Storage) Get(_ context.Context, p string) (io.ReadCloser, error) {
	_, name, err := s.file(p)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, notFound(p, err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		_ = f.Close()
		return nil, fmt.Errorf("get %s: %w", p, storage.ErrNotFound)
	}
	return f, nil
}

// Stat describes the file.
func (s *Storage) Stat(_ context.Context, p string) (storage.Info, error) {
	clean, name, err := s.file(p)
	if err != nil {
		return storage.Info{}, err
	}
	st, err := os.Stat(name)
	if err != nil {
		return storage.Info{}, notFound(p, err)
	}
	if st.IsDir() {
		return storage.Info{}, fmt.Errorf("stat %s: %w", p, storage.ErrNotFound)
	}
	return storage.Info{Path: clean, Size: st.Size(), Modified: st.ModTime().UTC()}, nil
}

// List walks the directory.
func (s *Storage) List(ctx context.Context, prefix string) ([]storage.Info, error) {
	clean, dir, err := s.file(prefix)
	if err != nil {
		return nil, err
	}
	var out []storage.Info
	err = filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".put-") {
			return nil
		}
		// A file removed while listing is simply not listed.
		if st, err := d.Info(); err == nil {
			rel, _ := filepath.Rel(dir, name)
			out = append(out, storage.Info{Path: clean + "/" + filepath.ToSlash(rel), Size: st.Size(), Modified: st.ModTime().UTC()})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	slices.SortFunc(out, func(a, b storage.Info) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// Delete removes one file.
func (s *Storage) Delete(_ context.Context, p string) (bool, error) {
	_, name, err := s.file(p)
	if err != nil {
		return false, err
	}
	st, err := os.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscallNotDir):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("delete %s: %w", p, err)
	case st.IsDir():
		return false, nil // a directory is not a file
	}
	if err := os.Remove(name); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("delete %s: %w", p, err)
	}
	return true, nil
}

// DeleteTree removes a directory and everything under it.
func (s *Storage) DeleteTree(ctx context.Context, prefix string) (int, error) {
	files, err := s.List(ctx, prefix)
	if err != nil {
		return 0, err
	}
	_, dir, _ := s.file(prefix)
	if err := os.RemoveAll(dir); err != nil {
		return 0, fmt.Errorf("delete %s: %w", prefix, err)
	}
	return len(files), nil
}

func notFound(p string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscallNotDir) {
		return fmt.Errorf("%s: %w", p, storage.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", p, err)
}

// ctxReader stops a copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
