package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/ospreyhq/osprey/flow"
)

// Steerer acts on executions that already exist: resume a paused one,
// restart a failed one, replay an ended one. A Runner that also implements
// it enables those routes; without it they answer 501. It is a separate
// interface so that a Runner that only starts and kills stays small.
type Steerer interface {
	// Resume continues a PAUSED execution; inputs are read against the
	// paused task's onResume declarations (*InputError or flow.Errors
	// for a bad one).
	Resume(ctx context.Context, id string, inputs map[string]any) error
	// Restart runs a FAILED or KILLED execution again from where it failed.
	Restart(ctx context.Context, id string) error
	// Replay creates and stores a new execution that starts again at a
	// task run of an ended one.
	Replay(ctx context.Context, p ReplayParams) (*flow.Execution, error)
}

// ReplayParams are the arguments of Steerer.Replay.
type ReplayParams struct {
	ExecutionID string
	// TaskRunID is the task run to start again from; empty replays the
	// whole execution.
	TaskRunID string
	// Revision is the flow revision to run (0: the original's).
	Revision int
}

// actionRoutes mounts the execution actions and the flow graph and
// plugin catalog endpoints.
func (s *Server) actionRoutes() {
	s.Handle("POST /executions/{executionId}/resume", s.resumeExecution)
	s.Handle("POST /executions/{executionId}/restart", s.restartExecution)
	s.Handle("POST /executions/{executionId}/replay", s.replayExecution)
	s.Handle("GET /flows/{namespace}/{id}/graph", s.flowGraph)
	s.Handle("GET /plugins", s.listPlugins)
	s.Handle("GET /plugins/schemas/{type}", s.pluginSchema)
	s.Handle("GET /plugins/{cls}", s.getPlugin)
}

func (s *Server) steerer() (Steerer, error) {
	st, ok := s.opts.Runner.(Steerer)
	if !ok {
		return nil, Errorf(http.StatusNotImplemented, "this server cannot resume, restart or replay executions")
	}
	return st, nil
}

// loadExecution reads an execution for an action, 404 when missing.
func (s *Server) loadExecution(r *http.Request) (*flow.Execution, error) {
	id := r.PathValue("executionId")
	e, _, err := s.opts.Store.Executions().Get(r.Context(), id)
	if err != nil {
		return nil, fmt.Errorf("execution %s: %w", id, err)
	}
	return e, nil
}

// resumeExecution resumes a paused execution with the onResume inputs
// sent as multipart/form-data (or JSON): 204, as Kestra answers.
func (s *Server) resumeExecution(w http.ResponseWriter, r *http.Request) error {
	st, err := s.steerer()
	if err != nil {
		return err
	}
	e, err := s.loadExecution(r)
	if err != nil {
		return err
	}
	// FILE inputs of onResume go where the execution's inputs go.
	up := s.uploader(r.Context(), e.Namespace, e.FlowID)
	up.id = e.ID
	resumed := false
	defer func() {
		if !resumed {
			up.discardInputs()
		}
	}()
	inputs, err := readInputs(r, up)
	if err != nil {
		return err
	}
	if e.State.Current != flow.StatePaused {
		return Errorf(http.StatusConflict, fmt.Sprintf("execution %s is %s: only a PAUSED execution resumes", e.ID, e.State.Current))
	}
	if err := st.Resume(r.Context(), e.ID, inputs); err != nil {
		return fmt.Errorf("resume execution %s: %w", e.ID, err)
	}
	resumed = true
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// restartExecution restarts a failed or killed execution in place and
// answers with it, as Kestra does.
func (s *Server) restartExecution(w http.ResponseWriter, r *http.Request) error {
	st, err := s.steerer()
	if err != nil {
		return err
	}
	e, err := s.loadExecution(r)
	if err != nil {
		return err
	}
	if !e.State.Current.IsFailed() {
		return Errorf(http.StatusConflict, fmt.Sprintf("execution %s is %s: only a FAILED or KILLED execution restarts", e.ID, e.State.Current))
	}
	if err := st.Restart(r.Context(), e.ID); err != nil {
		return fmt.Errorf("restart execution %s: %w", e.ID, err)
	}
	e, err = s.loadExecution(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// replayExecution creates a new execution from an ended one, starting
// again at ?taskRunId= (the whole flow without it), on ?revision= or the
// original revision. It answers with the new execution.
func (s *Server) replayExecution(w http.ResponseWriter, r *http.Request) error {
	st, err := s.steerer()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	rev, err := queryInt(q.Get("revision"), "revision", 0, 1)
	if err != nil {
		return err
	}
	e, err := s.loadExecution(r)
	if err != nil {
		return err
	}
	if !e.State.Current.IsTerminal() {
		return Errorf(http.StatusConflict, fmt.Sprintf("execution %s is %s: only an ended execution replays", e.ID, e.State.Current))
	}
	trID := q.Get("taskRunId")
	if trID != "" && e.TaskRunByID(trID) == nil {
		return Errorf(http.StatusNotFound, fmt.Sprintf("task run %s is not in execution %s", trID, e.ID))
	}
	ne, err := st.Replay(r.Context(), ReplayParams{ExecutionID: e.ID, TaskRunID: trID, Revision: rev})
	if err != nil {
		return fmt.Errorf("replay execution %s: %w", e.ID, err)
	}
	writeJSON(w, http.StatusOK, ne)
	return nil
}
