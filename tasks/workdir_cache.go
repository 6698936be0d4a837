package tasks

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/nsfile"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/worker"
)

// workDirCache is a WorkingDirectory's cache (Kestra's Cache): the files
// its patterns match are archived in internal storage after a run and
// unpacked into the directory before the next one, until ttl has passed
// since they were stored.
type workDirCache struct {
	Patterns []string `json:"patterns"`
	TTL      string   `json:"ttl"`
}

// Limits on what a cache restores: an archive is data from storage, not
// trusted to be small.
const (
	maxCacheFiles = 100_000
	maxCacheBytes = 4 << 30
)

// cachePath is where a task's cache lives, as Kestra lays it out
// (StorageContext#getCacheURI): /<namespace>/<flow>/<task>/cache[/<value>]/cache.zip,
// one per loop value.
func cachePath(rc *worker.RunContext, taskID string) string {
	tr := rc.TaskRun
	p := path.Join(storage.NamespacePath(tr.Namespace), tr.FlowID, storage.SafeName(taskID), "cache")
	if tr.Value != "" {
		p = path.Join(p, storage.SafeName(tr.Value))
	}
	return p + "/cache.zip"
}

// restore unpacks a live cache into the directory and returns when; zero
// when there was none (or it expired).
func (c *workDirCache) restore(ctx context.Context, rc *worker.RunContext, taskID string) (time.Time, error) {
	if rc.Storage == nil {
		return time.Time{}, errors.New("no internal storage is available to this worker")
	}
	p := cachePath(rc, taskID)
	info, err := rc.Storage.Stat(ctx, p)
	if errors.Is(err, storage.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	if ttl, _ := flow.ParseDuration(c.TTL); ttl > 0 && time.Since(info.Modified) > ttl {
		rc.Log("DEBUG", "cache expired, not used")
		return time.Time{}, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(rc.TmpDir), "cache-*.zip")
	if err != nil {
		return time.Time{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	src, err := rc.Storage.Get(ctx, p)
	if err != nil {
		return time.Time{}, err
	}
	n, err := io.Copy(tmp, src)
	src.Close()
	if err != nil {
		return time.Time{}, err
	}
	zr, err := zip.NewReader(tmp, n)
	if err != nil {
		return time.Time{}, fmt.Errorf("read %s: %w", storage.URI(p), err)
	}
	if len(zr.File) > maxCacheFiles {
		return time.Time{}, fmt.Errorf("%s holds %d files, more than %d", storage.URI(p), len(zr.File), maxCacheFiles)
	}
	var total int64
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		dst := filepath.Join(rc.TmpDir, filepath.FromSlash(f.Name))
		if rel, err := filepath.Rel(rc.TmpDir, dst); err != nil || rel == "." || strings.HasPrefix(rel, "..") || filepath.IsAbs(f.Name) {
			return time.Time{}, fmt.Errorf("%s: entry %q is outside the working directory", storage.URI(p), f.Name)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return time.Time{}, err
		}
		w, err := unzipOne(f, dst, maxCacheBytes-total)
		total += w
		if err != nil {
			return time.Time{}, err
		}
	}
	rc.Log("DEBUG", fmt.Sprintf("cache restored: %d files", len(zr.File)))
	return time.Now(), nil
}

func unzipOne(f *zip.File, dst string, budget int64) (int64, error) {
	r, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, io.LimitReader(r, budget+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > budget {
		err = fmt.Errorf("the cache unpacks to more than %d bytes", maxCacheBytes)
	}
	return n, err
}

// save archives the files the patterns match when one of them changed
// since restored (every time when nothing was restored).
func (c *workDirCache) save(ctx context.Context, rc *worker.RunContext, taskID string, restored time.Time) error {
	if rc.Storage == nil {
		return errors.New("no internal storage is available to this worker")
	}
	var files []string
	changed := false
	err := filepath.WalkDir(rc.TmpDir, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(rc.TmpDir, name)
		rel = filepath.ToSlash(rel)
		if !nsfile.Match("/"+rel, c.Patterns, nil) {
			return nil
		}
		files = append(files, rel)
		if info, err := d.Info(); err == nil && info.ModTime().After(restored) {
			changed = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(files) == 0 || !changed {
		rc.Log("DEBUG", "cache files did not change; the cache is kept as it was")
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(rc.TmpDir), "cache-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	zw := zip.NewWriter(tmp)
	for _, rel := range files {
		if err := zipOne(zw, rc.TmpDir, rel); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	p := cachePath(rc, taskID)
	if _, err := rc.Storage.Put(ctx, p, tmp); err != nil {
		return err
	}
	rc.Log("DEBUG", fmt.Sprintf("cache stored: %d files in %s", len(files), storage.URI(p)))
	return nil
}

func zipOne(zw *zip.Writer, dir, rel string) error {
	src, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	defer src.Close()
	w, err := zw.Create(rel)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, src)
	return err
}
