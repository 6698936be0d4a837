package server

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// pagedResults is Kestra's PagedResults.
type pagedResults[T any] struct {
	Results []T `json:"results"`
	Total   int `json:"total"`
}

// readBody reads a request body within the size limit.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return nil, err
		}
		return nil, Errorf(http.StatusBadRequest, "read request body: "+err.Error())
	}
	return b, nil
}

// parse runs the injected parser and guarantees a flow or an error; with
// an error, the flow may still be returned as far as it was understood.
func (s *Server) parse(src []byte) (*flow.Flow, error) {
	if len(strings.TrimSpace(string(src))) == 0 {
		return nil, flow.Errors{{Line: 1, Column: 1, Message: "the flow source is empty"}}
	}
	if err := flow.CheckShape(src); err != nil {
		return nil, err
	}
	f, err := s.opts.Parse(src)
	if err != nil {
		return f, err
	}
	if f == nil {
		return nil, flow.Errors{{Line: 1, Column: 1, Message: "the flow source holds no flow"}}
	}
	return f, nil
}

// recordJSON renders a stored revision. A source that no longer parses
// (the parser grew stricter) is still listed, with the reason, as Kestra
// lists a FlowWithException.
func (s *Server) recordJSON(rec store.FlowRecord, withSource bool) (map[string]any, error) {
	f, err := s.opts.Parse([]byte(rec.Source))
	if err != nil || f == nil {
		out := map[string]any{
			"id": rec.ID, "namespace": rec.Namespace, "revision": rec.Revision,
			"deleted": rec.Deleted, "disabled": false, "tasks": []any{},
			"exception": fmt.Sprint(err),
		}
		if withSource {
			out["source"] = rec.Source
		}
		return out, nil
	}
	f.Revision, f.Deleted, f.Source = rec.Revision, rec.Deleted, rec.Source
	return flowJSON(f, rec.Source, withSource)
}

func (s *Server) createFlow(w http.ResponseWriter, r *http.Request) error {
	src, err := readBody(r)
	if err != nil {
		return err
	}
	f, err := s.parse(src)
	if err != nil {
		return err
	}
	rec, err := s.opts.Store.Flows().Create(r.Context(), store.PutFlowParams{Namespace: f.Namespace, ID: f.ID, Source: string(src)})
	if errors.Is(err, store.ErrConflict) {
		// Kestra answers 422 with a constraint violation on the id.
		return &Error{Status: http.StatusUnprocessableEntity, Message: "flow id already exists: " + f.Namespace + "." + f.ID,
			Details: []*flow.Error{{Path: "id", Message: "flow id already exists"}}}
	}
	if err != nil {
		return fmt.Errorf("create flow %s.%s: %w", f.Namespace, f.ID, err)
	}
	return s.writeRecord(w, rec)
}

func (s *Server) updateFlow(w http.ResponseWriter, r *http.Request) error {
	ns, id := r.PathValue("namespace"), r.PathValue("id")
	src, err := readBody(r)
	if err != nil {
		return err
	}
	f, err := s.parse(src)
	if err != nil {
		return err
	}
	var errs flow.Errors
	if f.ID != id {
		errs = append(errs, &flow.Error{Path: "id", Message: fmt.Sprintf("illegal flow id update: the source says %q, the path %q", f.ID, id)})
	}
	if f.Namespace != ns {
		errs = append(errs, &flow.Error{Path: "namespace", Message: fmt.Sprintf("illegal namespace update: the source says %q, the path %q", f.Namespace, ns)})
	}
	if err := errs.Err(); err != nil {
		return err
	}
	rec, err := s.opts.Store.Flows().Update(r.Context(), store.PutFlowParams{Namespace: ns, ID: id, Source: string(src)})
	if err != nil {
		return fmt.Errorf("flow %s.%s: %w", ns, id, err)
	}
	return s.writeRecord(w, rec)
}

func (s *Server) writeRecord(w http.ResponseWriter, rec store.FlowRecord) error {
	out, err := s.recordJSON(rec, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getFlow(w http.ResponseWriter, r *http.Request) error {
	ns, id := r.PathValue("namespace"), r.PathValue("id")
	q := r.URL.Query()
	withSource, err := queryBool(q.Get("source"), "source")
	if err != nil {
		return err
	}
	rev, err := queryInt(q.Get("revision"), "revision", 0, 1)
	if err != nil {
		return err
	}
	rec, err := s.opts.Store.Flows().Get(r.Context(), ns, id, rev)
	if err != nil {
		return fmt.Errorf("flow %s.%s: %w", ns, id, err)
	}
	out, err := s.recordJSON(rec, withSource)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deleteFlow(w http.ResponseWriter, r *http.Request) error {
	ns, id := r.PathValue("namespace"), r.PathValue("id")
	if err := s.opts.Store.Flows().Delete(r.Context(), ns, id); err != nil {
		return fmt.Errorf("flow %s.%s: %w", ns, id, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) flowRevisions(w http.ResponseWriter, r *http.Request) error {
	ns, id := r.PathValue("namespace"), r.PathValue("id")
	allowDeleted, err := queryBool(r.URL.Query().Get("allowDelete"), "allowDelete")
	if err != nil {
		return err
	}
	recs, err := s.opts.Store.Flows().Revisions(r.Context(), ns, id)
	if err != nil {
		return fmt.Errorf("flow %s.%s revisions: %w", ns, id, err)
	}
	if len(recs) == 0 {
		return fmt.Errorf("flow %s.%s: %w", ns, id, store.ErrNotFound)
	}
	out := make([]map[string]any, 0, len(recs))
	for _, rec := range recs {
		// As Kestra: the deletion markers show only with ?allowDelete=true.
		if rec.Deleted && !allowDeleted {
			continue
		}
		m, err := s.recordJSON(rec, true)
		if err != nil {
			return err
		}
		out = append(out, m)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) searchFlows(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, size, err := paging(q.Get("page"), q.Get("size"))
	if err != nil {
		return err
	}
	f, err := parseFilters(q, flowFilters)
	if err != nil {
		return err
	}
	recs, total, err := s.opts.Store.Flows().Search(r.Context(), store.FlowQuery{
		Namespace: cmp.Or(f.namespace, q.Get("namespace")), Query: cmp.Or(f.q, q.Get("q")), Page: page, Size: size,
	})
	if err != nil {
		return fmt.Errorf("search flows: %w", err)
	}
	out := pagedResults[map[string]any]{Results: make([]map[string]any, 0, len(recs)), Total: total}
	for _, rec := range recs {
		m, err := s.recordJSON(rec, false)
		if err != nil {
			return err
		}
		out.Results = append(out.Results, m)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// flowsByNamespace lists the flows of exactly one namespace (not its
// children), as Kestra's GET /flows/{namespace} does.
func (s *Server) flowsByNamespace(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	recs, _, err := s.opts.Store.Flows().Search(r.Context(), store.FlowQuery{Namespace: ns})
	if err != nil {
		return fmt.Errorf("list flows of %s: %w", ns, err)
	}
	out := make([]map[string]any, 0, len(recs))
	for _, rec := range recs {
		if rec.Namespace != ns {
			continue
		}
		m, err := s.recordJSON(rec, false)
		if err != nil {
			return err
		}
		out = append(out, m)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// validation is one entry of Kestra's validate response
// (ValidateConstraintViolation), plus Osprey's positioned details.
type validation struct {
	Index            int           `json:"index"`
	Flow             string        `json:"flow,omitempty"`
	Namespace        string        `json:"namespace,omitempty"`
	Constraints      string        `json:"constraints,omitempty"`
	Outdated         bool          `json:"outdated"`
	DeprecationPaths []string      `json:"deprecationPaths"`
	Warnings         []string      `json:"warnings"`
	Infos            []string      `json:"infos"`
	Details          []*flow.Error `json:"details,omitempty"`
}

// docSeparator splits a multi-document body as Kestra does.
var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*\r?$`)

// validateFlows checks one or more flow sources (separated by ---). It
// answers 200 with one entry per source, as Kestra does; an entry with
// constraints is invalid. Positions in details are relative to the whole
// body.
func (s *Server) validateFlows(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if err := flow.CheckShape(body); err != nil {
		return err // 422 before any parser sees a hostile body
	}
	src := string(body)
	locs := docSeparator.FindAllStringIndex(src, -1)
	starts, ends := []int{0}, []int{}
	for _, l := range locs {
		ends = append(ends, l[0])
		starts = append(starts, l[1])
	}
	ends = append(ends, len(src))
	out := make([]validation, 0, len(starts))
	for i := range starts {
		doc := src[starts[i]:ends[i]]
		if strings.TrimSpace(doc) == "" && len(starts) > 1 {
			continue
		}
		lineOffset := strings.Count(src[:starts[i]], "\n")
		out = append(out, s.validateOne(len(out), doc, lineOffset))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) validateOne(index int, doc string, lineOffset int) validation {
	v := validation{Index: index, DeprecationPaths: []string{}, Warnings: []string{}, Infos: []string{}}
	f, err := s.parse([]byte(doc))
	if f != nil {
		v.Flow, v.Namespace = f.ID, f.Namespace
		v.Warnings = append(v.Warnings, f.Warnings...)
	} else {
		v.Flow, v.Namespace = identify(doc)
	}
	if err == nil {
		return v
	}
	_, body := classify(err)
	if body.Details == nil && body.Message == "internal server error" {
		body = errorBody{Message: err.Error(), Details: []*flow.Error{{Message: err.Error()}}}
	}
	msgs := make([]string, 0, len(body.Details))
	for _, d := range body.Details {
		d := *d
		if d.Line > 0 {
			d.Line += lineOffset
		}
		v.Details = append(v.Details, &d)
		msgs = append(msgs, d.Error())
	}
	if len(msgs) == 0 {
		msgs = append(msgs, body.Message)
	}
	v.Constraints = strings.Join(msgs, "\n")
	return v
}

// identify reads the id and namespace of a source the parser refused, so a
// validation entry still names its flow when those two are readable.
func identify(doc string) (id, namespace string) {
	var head struct {
		ID        any `yaml:"id"`
		Namespace any `yaml:"namespace"`
	}
	if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
		return "", ""
	}
	id, _ = head.ID.(string)
	namespace, _ = head.Namespace.(string)
	return id, namespace
}

// queryInt parses an optional integer query parameter of at least min.
func queryInt(v, name string, def, min int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, Errorf(http.StatusBadRequest, fmt.Sprintf("query parameter %s must be an integer of at least %d, got %q", name, min, v))
	}
	return n, nil
}

func queryBool(v, name string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, Errorf(http.StatusBadRequest, fmt.Sprintf("query parameter %s must be true or false, got %q", name, v))
	}
	return b, nil
}

// maxPageSize bounds one page so a search cannot load a whole table.
const maxPageSize = 1000

// paging reads Kestra's page (1-based, default 1) and size (default 10).
func paging(pageStr, sizeStr string) (page, size int, err error) {
	if page, err = queryInt(pageStr, "page", 1, 1); err != nil {
		return 0, 0, err
	}
	if size, err = queryInt(sizeStr, "size", 10, 1); err != nil {
		return 0, 0, err
	}
	return page, min(size, maxPageSize), nil
}
