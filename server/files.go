package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/internal/nsfile"
	"github.com/ospreyhq/osprey/store"
)

// fileAttributes describes a namespace file or directory as Kestra's API
// does.
type fileAttributes struct {
	FileName         string `json:"fileName"`
	Type             string `json:"type"` // File or Directory
	Size             int64  `json:"size"`
	CreationTime     int64  `json:"creationTime"`     // epoch milliseconds
	LastModifiedTime int64  `json:"lastModifiedTime"` // epoch milliseconds
}

func fileAttrs(name string, r store.FileRecord) fileAttributes {
	return fileAttributes{FileName: name, Type: "File", Size: r.Size, CreationTime: r.Created.UnixMilli(), LastModifiedTime: r.Updated.UnixMilli()}
}

func dirAttrs(name string, updated time.Time) fileAttributes {
	return fileAttributes{FileName: name, Type: "Directory", CreationTime: updated.UnixMilli(), LastModifiedTime: updated.UnixMilli()}
}

// filePath reads and checks the ?path= (or another) query parameter.
func filePath(r *http.Request, param string) (string, error) {
	p, err := nsfile.Clean(r.URL.Query().Get(param))
	if err != nil {
		return "", Errorf(http.StatusBadRequest, fmt.Sprintf("%s: %v", param, err))
	}
	return p, nil
}

// getFile answers a namespace file's content.
func (s *Server) getFile(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	p, err := filePath(r, "path")
	if err != nil {
		return err
	}
	f, err := s.opts.Store.Files().Get(r.Context(), ns, p)
	if err != nil {
		return fmt.Errorf("namespace file %s%s: %w", ns, p, err)
	}
	w.Header().Set("Content-Type", safeContentType(p))
	// Even opened in a tab, the file runs nothing and loads nothing.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(p)}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(f.Content)
	return nil
}

// textExts are the scripts and configuration files namespace files hold
// most, which the system's MIME table may not know: served as text.
var textExts = map[string]bool{
	".py": true, ".sh": true, ".sql": true, ".yml": true, ".yaml": true, ".md": true, ".txt": true, ".r": true,
	".rb": true, ".ts": true, ".go": true, ".java": true, ".properties": true, ".ini": true, ".toml": true,
	".conf": true, ".log": true, ".env": true, ".ps1": true, ".bat": true,
}

// safeContentType is the type a namespace file is served as: anything a
// browser could run (HTML, SVG, XML, script) or that is unknown is served
// as text or bytes, never as itself. Users store scripts and notes there,
// and the API shares its origin with whatever UI sits in front of it.
func safeContentType(p string) string {
	ext := strings.ToLower(path.Ext(p))
	if textExts[ext] {
		return "text/plain; charset=utf-8"
	}
	ct := mime.TypeByExtension(ext)
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case mt == "application/json", mt == "application/pdf", mt == "text/csv":
		return ct
	case mt == "image/svg+xml":
		return "text/plain; charset=utf-8"
	case strings.HasPrefix(mt, "image/"):
		return ct
	case strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+xml"), strings.HasSuffix(mt, "/xml"),
		strings.Contains(mt, "javascript"), strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "yaml"):
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// fileStats answers what is at a path: a file, or a directory holding
// files.
func (s *Server) fileStats(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	p, err := filePath(r, "path")
	if err != nil {
		return err
	}
	list, err := s.opts.Store.Files().List(r.Context(), ns, p)
	if err != nil {
		return err
	}
	for _, f := range list {
		if f.Path == p {
			writeJSON(w, http.StatusOK, fileAttrs(path.Base(p), f))
			return nil
		}
	}
	if len(list) > 0 || p == "/" {
		writeJSON(w, http.StatusOK, dirAttrs(path.Base(p), latest(list)))
		return nil
	}
	return fmt.Errorf("namespace file %s%s: %w", ns, p, store.ErrNotFound)
}

// listDirectory answers the files and directories right under a path.
func (s *Server) listDirectory(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	p := "/"
	if r.URL.Query().Get("path") != "" {
		var err error
		if p, err = filePath(r, "path"); err != nil {
			return err
		}
	}
	list, err := s.opts.Store.Files().List(r.Context(), ns, p)
	if err != nil {
		return err
	}
	out := []fileAttributes{}
	dirs := map[string]int{} // name → index in out
	for _, f := range list {
		rest := strings.TrimPrefix(strings.TrimPrefix(f.Path, p), "/")
		if rest == "" {
			return Errorf(http.StatusUnprocessableEntity, fmt.Sprintf("%s is a file, not a directory", p))
		}
		name, _, isDir := strings.Cut(rest, "/")
		if !isDir {
			out = append(out, fileAttrs(name, f))
			continue
		}
		if i, ok := dirs[name]; ok {
			if t := f.Updated.UnixMilli(); t > out[i].LastModifiedTime {
				out[i].LastModifiedTime = t
			}
			continue
		}
		dirs[name] = len(out)
		out = append(out, dirAttrs(name, f.Updated))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// putFile creates or replaces a namespace file from a multipart form's
// fileContent part (as Kestra's UI sends it) or from the raw body.
func (s *Server) putFile(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	p, err := filePath(r, "path")
	if err != nil {
		return err
	}
	if err := s.checkFilePlace(r.Context(), ns, p, true); err != nil {
		return err
	}
	var content []byte
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		content, err = multipartFile(r, "fileContent")
	} else {
		content, err = io.ReadAll(r.Body)
	}
	if err != nil {
		return err
	}
	if err := s.opts.Store.Files().Put(r.Context(), store.FileRecord{Namespace: ns, Path: p, Content: content}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// multipartFile reads the part called name of a multipart body.
func multipartFile(r *http.Request, name string) ([]byte, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, fmt.Errorf("read multipart form: %w", badRequest(err))
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, Errorf(http.StatusBadRequest, fmt.Sprintf("the form has no %q part", name))
		}
		if err != nil {
			return nil, fmt.Errorf("read multipart form: %w", badRequest(err))
		}
		if part.FormName() == name {
			b, err := io.ReadAll(part)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", name, badRequest(err))
			}
			return b, nil
		}
	}
}

// moveFile renames a file, or every file under a directory.
func (s *Server) moveFile(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	from, err := filePath(r, "from")
	if err != nil {
		return err
	}
	to, err := filePath(r, "to")
	if err != nil {
		return err
	}
	switch {
	case from == "/":
		return Errorf(http.StatusBadRequest, "from=/ is the whole namespace: move its files or directories one by one")
	case to == from:
		return Errorf(http.StatusBadRequest, fmt.Sprintf("from and to are the same path %s", from))
	case strings.HasPrefix(to, from+"/"):
		return Errorf(http.StatusBadRequest, fmt.Sprintf("cannot move %s into itself (%s): move it beside itself, or its contents one by one", from, to))
	}
	fs := s.opts.Store.Files()
	list, err := fs.List(r.Context(), ns, from)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fmt.Errorf("namespace file %s%s: %w", ns, from, store.ErrNotFound)
	}
	if err := s.checkFilePlace(r.Context(), ns, to, false); err != nil {
		return err
	}
	for _, f := range list {
		full, err := fs.Get(r.Context(), ns, f.Path)
		if err != nil {
			return err
		}
		full.Path = to + strings.TrimPrefix(f.Path, from)
		if err := fs.Put(r.Context(), full); err != nil {
			return err
		}
	}
	if _, err := fs.Delete(r.Context(), ns, from); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// checkFilePlace refuses to put a file (or a moved directory) at p where it
// would break the namespace's tree: at the root, over a directory, under a
// file, or, unless replace is set, over a file.
func (s *Server) checkFilePlace(ctx context.Context, ns, p string, replace bool) error {
	if p == "/" {
		return Errorf(http.StatusBadRequest, "path / is the namespace's root directory: name a file, e.g. /scripts/etl.py")
	}
	fs := s.opts.Store.Files()
	list, err := fs.List(ctx, ns, p)
	if err != nil {
		return err
	}
	for _, f := range list {
		if f.Path != p {
			return Errorf(http.StatusConflict, fmt.Sprintf("%s is a directory (it holds %s): delete or move it first", p, f.Path))
		}
		if !replace {
			return Errorf(http.StatusConflict, fmt.Sprintf("%s already exists: delete it first, or move elsewhere", p))
		}
	}
	for dir := path.Dir(p); dir != "/"; dir = path.Dir(dir) {
		_, err := fs.Get(ctx, ns, dir)
		if err == nil {
			return Errorf(http.StatusConflict, fmt.Sprintf("%s is a file, so it cannot hold %s", dir, p))
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// deleteFile removes a file, or a directory and everything under it.
func (s *Server) deleteFile(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	p, err := filePath(r, "path")
	if err != nil {
		return err
	}
	if p == "/" {
		return Errorf(http.StatusBadRequest, "path / is the whole namespace: delete its files or directories one by one")
	}
	n, err := s.opts.Store.Files().Delete(r.Context(), ns, p)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("namespace file %s%s: %w", ns, p, store.ErrNotFound)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func latest(list []store.FileRecord) time.Time {
	var t time.Time
	for _, f := range list {
		if f.Updated.After(t) {
			t = f.Updated
		}
	}
	return t
}
