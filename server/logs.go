package server

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

var logLevels = []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR"}

// logQuery reads minLevel, taskRunId and taskId.
func logQuery(id string, q url.Values) (store.LogQuery, error) {
	lq := store.LogQuery{ExecutionID: id, TaskRunID: q.Get("taskRunId"), TaskID: q.Get("taskId")}
	if lvl := strings.ToUpper(q.Get("minLevel")); lvl != "" {
		ok := false
		for _, l := range logLevels {
			ok = ok || l == lvl
		}
		if !ok {
			return lq, Errorf(http.StatusBadRequest, fmt.Sprintf("minLevel must be one of %s, got %q", strings.Join(logLevels, ", "), q.Get("minLevel")))
		}
		lq.MinLevel = lvl
	}
	return lq, nil
}

func (s *Server) listLogs(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("executionId")
	lq, err := logQuery(id, r.URL.Query())
	if err != nil {
		return err
	}
	entries, err := s.logs(r.Context(), lq)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []flow.LogEntry{}
	}
	writeJSON(w, http.StatusOK, entries)
	return nil
}

// logs lists the entries lq selects. No entry from an execution that does
// not exist is a 404, not an empty list: a typo in an id must not look like
// a quiet run.
func (s *Server) logs(ctx context.Context, lq store.LogQuery) ([]flow.LogEntry, error) {
	entries, err := s.opts.Store.Logs().List(ctx, lq)
	if err != nil {
		return nil, fmt.Errorf("logs of %s: %w", lq.ExecutionID, err)
	}
	if len(entries) == 0 {
		if _, _, err := s.opts.Store.Executions().Get(ctx, lq.ExecutionID); err != nil {
			return nil, fmt.Errorf("execution %s: %w", lq.ExecutionID, err)
		}
	}
	return entries, nil
}

// downloadLogs serves the log as text, one line per entry.
func (s *Server) downloadLogs(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("executionId")
	lq, err := logQuery(id, r.URL.Query())
	if err != nil {
		return err
	}
	entries, err := s.logs(r.Context(), lq)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "%s %s %s\n", e.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z"), e.Level, e.Message)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": id + ".log"}))
	_, _ = w.Write([]byte(b.String()))
	return nil
}

// followLogs streams log entries as "progress" events after a "start"
// marker, and ends with an "end" marker once the execution is terminal and
// every entry was sent; markers have an id and no data.
func (s *Server) followLogs(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("executionId")
	lq, err := logQuery(id, r.URL.Query())
	if err != nil {
		return err
	}
	if _, _, err := s.opts.Store.Executions().Get(r.Context(), id); err != nil {
		return fmt.Errorf("execution %s: %w", id, err)
	}
	es, err := startEvents(w)
	if err != nil {
		return nil //nolint:nilerr // headers are gone; the client left
	}
	// A "start" marker tells clients the stream is live before the first
	// line arrives. It carries no data: an SSE event without data is not
	// dispatched, so Kestra's generated clients, which read every data
	// as a log entry, never see an empty one.
	if err := es.marker("start"); err != nil {
		return nil //nolint:nilerr // the client left
	}
	const batch = 500
	lq.Limit = batch
	err = s.loop(r.Context(), store.TopicExecution(id), func(ctx context.Context) (bool, error) {
		// Read the state before the logs: a settled execution has all its
		// logs stored (its afterExecution tasks' too), so the drain below
		// then sees every one of them.
		e, _, err := s.opts.Store.Executions().Get(ctx, id)
		if err != nil {
			return false, err
		}
		terminal := e.Settled()
		for {
			entries, err := s.opts.Store.Logs().List(ctx, lq)
			if err != nil {
				return false, err
			}
			for _, le := range entries {
				if err := es.send("progress", le); err != nil {
					return false, err
				}
				lq.AfterSeq = le.Seq
			}
			if len(entries) < batch {
				break
			}
		}
		if terminal {
			return true, es.marker("end")
		}
		return false, nil
	}, es.comment)
	s.endStream(r, err)
	return nil
}
