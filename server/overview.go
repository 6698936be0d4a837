package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// overviewRoutes mounts Kestra's two listing shortcuts the UI's flow list
// needs: the namespaces that hold flows, and each flow's latest execution
// in one call rather than one search per row.
func (s *Server) overviewRoutes() {
	s.Handle("GET /flows/distinct-namespaces", s.distinctNamespaces)
	s.Handle("POST /executions/latest", s.latestExecutions)
}

// distinctNamespaces answers GET /flows/distinct-namespaces: the sorted
// namespaces of the current flows, filtered by ?q (a substring).
func (s *Server) distinctNamespaces(w http.ResponseWriter, r *http.Request) error {
	recs, _, err := s.opts.Store.Flows().Search(r.Context(), store.FlowQuery{})
	if err != nil {
		return fmt.Errorf("search flows: %w", err)
	}
	q := strings.ToLower(r.URL.Query().Get("q"))
	out := []string{}
	for _, rec := range recs {
		if rec.Deleted || (q != "" && !strings.Contains(strings.ToLower(rec.Namespace), q)) {
			continue
		}
		out = append(out, rec.Namespace)
	}
	slices.Sort(out)
	writeJSON(w, http.StatusOK, slices.Compact(out))
	return nil
}

// lastExecution is Kestra's ExecutionController.LastExecutionResponse.
type lastExecution struct {
	ID        string     `json:"id"`
	FlowID    string     `json:"flowId"`
	Namespace string     `json:"namespace"`
	StartDate *time.Time `json:"startDate"`
	Status    flow.State `json:"status"`
}

// latestExecutions answers POST /executions/latest with a body of
// [{namespace, id}]: the newest execution of each flow that has one.
func (s *Server) latestExecutions(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var filters []struct {
		Namespace string `json:"namespace"`
		ID        string `json:"id"`
	}
	if err := json.Unmarshal(body, &filters); err != nil {
		return Errorf(http.StatusBadRequest, "the body must be a JSON list of {namespace, id}")
	}
	if len(filters) > 1000 {
		return Errorf(http.StatusBadRequest, fmt.Sprintf("at most 1000 flows at once, got %d", len(filters)))
	}
	for _, f := range filters {
		if f.Namespace == "" || f.ID == "" {
			return Errorf(http.StatusBadRequest, "every flow needs a namespace and an id")
		}
	}
	// One indexed search per flow, a few at a time: a page of the flow
	// list asks for 25.
	found := make([]*lastExecution, len(filters))
	errs := make([]error, len(filters))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, f := range filters {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			found[i], errs[i] = s.latestOf(r.Context(), f.Namespace, f.ID)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	out := []lastExecution{}
	for _, l := range found {
		if l != nil {
			out = append(out, *l)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// latestOf is the newest execution of one flow, nil when it never ran.
// The store's namespace filter takes children too: it looks a little
// further when a child namespace holds a flow of the same id.
func (s *Server) latestOf(ctx context.Context, namespace, id string) (*lastExecution, error) {
	for _, size := range []int{1, 100} {
		execs, _, err := s.opts.Store.Executions().Search(ctx, store.ExecutionQuery{Namespace: namespace, FlowID: id, Page: 1, Size: size})
		if err != nil {
			return nil, fmt.Errorf("latest execution of %s.%s: %w", namespace, id, err)
		}
		if i := slices.IndexFunc(execs, func(e *flow.Execution) bool { return e.Namespace == namespace }); i >= 0 {
			e := execs[i]
			return &lastExecution{ID: e.ID, FlowID: e.FlowID, Namespace: e.Namespace, StartDate: e.State.StartDate, Status: e.State.Current}, nil
		}
		if len(execs) < size {
			break
		}
	}
	return nil, nil
}
