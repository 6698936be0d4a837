package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/storage"
)

// maxPreviewBytes bounds a preview's content, whatever maxRows says.
const maxPreviewBytes = 1 << 20

// executionFile resolves ?path= against the execution: the file must be
// one of its own (under its directory) or a file of its namespace it was
// given as an input (storage.Scope, as for its tasks).
func (s *Server) executionFile(r *http.Request) (*flow.Execution, string, error) {
	if s.opts.Storage == nil {
		return nil, "", Errorf(http.StatusNotFound, "this server has no internal storage")
	}
	id := r.PathValue("executionId")
	ex, _, err := s.opts.Store.Executions().Get(r.Context(), id)
	if err != nil {
		return nil, "", fmt.Errorf("execution %s: %w", id, err)
	}
	raw := r.URL.Query().Get("path")
	p, err := storage.Clean(raw)
	if err != nil {
		return nil, "", Errorf(http.StatusUnprocessableEntity, fmt.Sprintf("path: %v", err))
	}
	scope := storage.NewScope(ex.Namespace, ex.FlowID, ex.ID, ex.Inputs)
	if ex.Trigger != nil {
		scope = scope.WithTrigger(ex.Trigger.Variables)
	}
	if !scope.Allows(p) {
		return nil, "", Errorf(http.StatusUnprocessableEntity, fmt.Sprintf("%s is not a file of execution %s", raw, id))
	}
	return ex, p, nil
}

func (s *Server) fileError(p string, err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return Errorf(http.StatusNotFound, "no file "+storage.URI(p))
	}
	return err
}

// downloadExecutionFile streams a file of an execution.
func (s *Server) downloadExecutionFile(w http.ResponseWriter, r *http.Request) error {
	_, p, err := s.executionFile(r)
	if err != nil {
		return err
	}
	info, err := s.opts.Storage.Stat(r.Context(), p)
	if err != nil {
		return s.fileError(p, err)
	}
	rc, err := s.opts.Storage.Get(r.Context(), p)
	if err != nil {
		return s.fileError(p, err)
	}
	defer rc.Close()
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": storage.FileName(p)}))
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, rc)
	return nil
}

// executionFileMetas is Kestra's FileMetas: {"size": n}.
func (s *Server) executionFileMetas(w http.ResponseWriter, r *http.Request) error {
	_, p, err := s.executionFile(r)
	if err != nil {
		return err
	}
	info, err := s.opts.Storage.Stat(r.Context(), p)
	if err != nil {
		return s.fileError(p, err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"size": info.Size})
	return nil
}

// previewExecutionFile answers the first maxRows lines of a text file as
// Kestra's preview does: {"extension", "type": "TEXT", "content",
// "truncated"}.
func (s *Server) previewExecutionFile(w http.ResponseWriter, r *http.Request) error {
	_, p, err := s.executionFile(r)
	if err != nil {
		return err
	}
	maxRows, err := queryInt(r.URL.Query().Get("maxRows"), "maxRows", 1, 1)
	if err != nil {
		return err
	}
	if enc := strings.ToUpper(r.URL.Query().Get("encoding")); enc != "" && enc != "UTF-8" && enc != "UTF8" {
		return Errorf(http.StatusUnprocessableEntity, "encoding "+enc+" is not supported: Osprey previews UTF-8 text")
	}
	rc, err := s.opts.Storage.Get(r.Context(), p)
	if err != nil {
		return s.fileError(p, err)
	}
	defer rc.Close()
	content, truncated, err := firstLines(r.Context(), rc, maxRows, maxPreviewBytes)
	if err != nil {
		return err
	}
	if !utf8.ValidString(content) {
		return Errorf(http.StatusUnprocessableEntity, storage.FileName(p)+" is not UTF-8 text: download it instead")
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"extension": strings.TrimPrefix(path.Ext(p), "."), "type": "TEXT", "content": content, "truncated": truncated,
	})
	return nil
}

func firstLines(ctx context.Context, r io.Reader, rows, limit int) (string, bool, error) {
	br := bufio.NewReader(io.LimitReader(r, int64(limit)+1))
	var b strings.Builder
	for n := 0; n < rows; n++ {
		if ctx.Err() != nil {
			return "", false, ctx.Err()
		}
		line, err := br.ReadString('\n')
		b.WriteString(line)
		if b.Len() > limit {
			return b.String()[:limit], true, nil
		}
		if errors.Is(err, io.EOF) {
			return b.String(), false, nil
		}
		if err != nil {
			return "", false, err
		}
	}
	_, err := br.Peek(1)
	return b.String(), err == nil, nil
}
