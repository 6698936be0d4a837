package server

import (
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
	ct := mime.TypeByExtension(path.Ext(p))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(p)}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(f.Content)
	return nil
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
	fs := s.opts.Store.Files()
	list, err := fs.List(r.Context(), ns, from)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fmt.Errorf("namespace file %s%s: %w", ns, from, store.ErrNotFound)
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
