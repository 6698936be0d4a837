package server

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/storage"
)

// uploader stores the file parts of one execution request under the
// execution's future id (storage.InputPath), so a FILE input's URI is
// Kestra's kestra:///ns/flow/executions/<id>/inputs/<input>/<file>.
type uploader struct {
	ctx         context.Context
	st          storage.Storage
	ns, flowID  string
	id          string // "" until a file arrives
	uploaded    bool
	paths       []string
	fieldLimit  int64
	fieldBudget int64
}

func (s *Server) uploader(ctx context.Context, ns, flowID string) *uploader {
	return &uploader{ctx: ctx, st: s.opts.Storage, ns: ns, flowID: flowID, fieldLimit: s.opts.MaxBodyBytes, fieldBudget: s.opts.MaxBodyBytes}
}

// uploadsFiles reports whether a request may carry FILE inputs, which the
// body limit must let through.
func (s *Server) uploadsFiles(r *http.Request) bool {
	if s.opts.Storage == nil || r.Method != http.MethodPost {
		return false
	}
	// Only the routes that take FILE inputs, matched by their pattern: a
	// webhook's body stays within the ordinary limit.
	switch {
	case strings.HasSuffix(r.Pattern, "/executions/{namespace}/{id}"),
		strings.HasSuffix(r.Pattern, "/executions/trigger/{namespace}/{id}"),
		strings.HasSuffix(r.Pattern, "/executions/{executionId}/resume"):
	default:
		return false
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data"
}

// maxFileParts bounds the files one request may upload: each is a write
// to storage, and a flow has far fewer FILE inputs.
const maxFileParts = 100

func (u *uploader) put(input, filename string, body io.Reader) (string, error) {
	if u.st == nil {
		return "", &InputError{Input: input, Message: "this server has no internal storage to keep files in"}
	}
	if len(u.paths) >= maxFileParts {
		return "", Errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("at most %d files per request", maxFileParts))
	}
	if u.id == "" {
		u.id = flow.NewID()
	}
	p := storage.InputPath(u.ns, u.flowID, u.id, storage.SafeName(input)) + "/" + storage.SafeName(filename)
	u.uploaded = true
	u.paths = append(u.paths, p)
	if _, err := u.st.Put(u.ctx, p, body); err != nil {
		return "", fmt.Errorf("store file input %s: %w", input, badRequest(err))
	}
	return storage.URI(p), nil
}

// discardInputs removes what a refused resume uploaded, leaving the
// execution's other files.
func (u *uploader) discardInputs() {
	for _, p := range u.paths {
		_, _ = u.st.Delete(context.WithoutCancel(u.ctx), p)
	}
}

// executionID is the id files were stored under, "" when none were.
func (u *uploader) executionID() string { return u.id }

// discard removes what a refused request uploaded.
func (u *uploader) discard() {
	if !u.uploaded {
		return
	}
	_, _ = u.st.DeleteTree(context.WithoutCancel(u.ctx), storage.ExecutionPath(u.ns, u.flowID, u.id))
}

// checkFileInputs refuses a FILE input given as a URI of a file this
// request did not upload, outside the flow's namespace: an execution must
// not be handed another namespace's files. The refusal is worded and placed
// as the input package words its own ("Invalid input for `id`, …").
func checkFileInputs(f *flow.Flow, inputs map[string]any, up *uploader) error {
	var problems flow.Errors
	for _, in := range f.Inputs {
		if !strings.EqualFold(in.Type, "FILE") {
			continue
		}
		v, ok := inputs[in.ID].(string)
		if !ok || v == "" {
			continue
		}
		p, err := storage.Clean(v)
		if err != nil || !storage.IsURI(v) {
			continue // the input's own conversion explains it
		}
		if up.id != "" && storage.Within(p, storage.ExecutionPath(up.ns, up.flowID, up.id)) {
			continue
		}
		if !storage.Within(p, storage.NamespacePath(f.Namespace)) {
			problems = append(problems, &flow.Error{Path: "inputs." + in.ID, Line: in.Pos.Line, Column: in.Pos.Column,
				Message: fmt.Sprintf("Invalid input for `%s`, %s is not a file of namespace %s: upload the file, or pass a kestra:/// URI of this namespace", in.ID, v, f.Namespace)})
		}
	}
	if len(problems) > 0 {
		return &Error{Status: http.StatusUnprocessableEntity, Details: problems,
			Message: fmt.Sprintf("cannot start %s.%s: %s", f.Namespace, f.ID, problems[0].Message)}
	}
	return nil
}
