package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// overviewRoutes mounts the listing shortcuts the UI's flow list and
// dashboard need: the namespaces that hold flows, each flow's latest
// execution in one call rather than one search per row, and the
// executions counted by day and state.
func (s *Server) overviewRoutes() {
	s.Handle("GET /flows/distinct-namespaces", s.distinctNamespaces)
	s.Handle("POST /executions/latest", s.latestExecutions)
	s.Handle("POST /stats/executions/daily", s.dailyExecutions)
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
	// One store query for the whole page, answered in the order asked.
	refs := make([]store.FlowRef, len(filters))
	for i, f := range filters {
		refs[i] = store.FlowRef{Namespace: f.Namespace, ID: f.ID}
	}
	execs, err := s.opts.Store.Executions().Latest(r.Context(), refs)
	if err != nil {
		return err
	}
	byFlow := make(map[store.FlowRef]*flow.Execution, len(execs))
	for _, e := range execs {
		byFlow[store.FlowRef{Namespace: e.Namespace, ID: e.FlowID}] = e
	}
	out := []lastExecution{}
	for _, f := range refs {
		if e := byFlow[f]; e != nil {
			out = append(out, lastExecution{ID: e.ID, FlowID: e.FlowID, Namespace: e.Namespace, StartDate: e.State.StartDate, Status: e.State.Current})
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// dailyStatistics is one day of POST /stats/executions/daily, in the shape
// of Kestra's former DailyExecutionStatistics: the day (a date at the
// request's offset) and its executions counted by state.
type dailyStatistics struct {
	StartDate       string             `json:"startDate"`
	ExecutionCounts map[flow.State]int `json:"executionCounts"`
	GroupBy         string             `json:"groupBy"`
}

// maxStatsDays bounds the window of one statistics call.
const maxStatsDays = 366

// dailyExecutions answers POST /stats/executions/daily with a body of
// {startDate, endDate, namespace?, flowId?}: the executions started in the
// window counted by day and state, every day listed (zeros included), in
// one store query. Days start at midnight at startDate's offset from UTC,
// so a browser that sends its local midnight gets its own days.
func (s *Server) dailyExecutions(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var q struct {
		StartDate time.Time `json:"startDate"`
		EndDate   time.Time `json:"endDate"`
		Namespace string    `json:"namespace"`
		FlowID    string    `json:"flowId"`
	}
	if err := json.Unmarshal(body, &q); err != nil {
		return Errorf(http.StatusBadRequest, "the body must be {startDate, endDate, namespace, flowId} with RFC 3339 dates: "+err.Error())
	}
	if q.StartDate.IsZero() || q.EndDate.IsZero() {
		return Errorf(http.StatusBadRequest, "startDate and endDate are required (RFC 3339, e.g. 2026-12-01T00:00:00+01:00)")
	}
	if !q.EndDate.After(q.StartDate) {
		return Errorf(http.StatusBadRequest, "endDate must be after startDate")
	}
	_, offset := q.StartDate.Zone()
	zone := time.FixedZone("", offset)
	first := q.StartDate.In(zone)
	first = time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, zone)
	if days := q.EndDate.Sub(first).Hours() / 24; days > maxStatsDays {
		return Errorf(http.StatusBadRequest, fmt.Sprintf("at most %d days at once, asked for %.0f", maxStatsDays, days))
	}
	counts, err := s.opts.Store.Executions().Daily(r.Context(), store.DailyQuery{
		From: q.StartDate, To: q.EndDate, Offset: time.Duration(offset) * time.Second,
		Namespace: q.Namespace, FlowID: q.FlowID,
	})
	if err != nil {
		return err
	}
	out := []dailyStatistics{}
	index := map[string]int{}
	for d := first; d.Before(q.EndDate); d = d.AddDate(0, 0, 1) {
		key := d.Format(time.DateOnly)
		index[key] = len(out)
		out = append(out, dailyStatistics{StartDate: key, ExecutionCounts: map[flow.State]int{}, GroupBy: "day"})
	}
	for _, c := range counts {
		if i, ok := index[c.Day.In(zone).Format(time.DateOnly)]; ok {
			out[i].ExecutionCounts[c.State] += c.Count
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
