package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// Steerer acts on executions that already exist: resume, restart, change
// the status of, pause or force-run one (commands the executor applies),
// replay an ended one (a new execution). A Runner that also implements it
// enables those routes; without it they answer 501. It is a separate
// interface so that a Runner that only starts and kills stays small.
type Steerer interface {
	// Command asks the executor to change an existing execution and
	// answers with the execution as the command leaves it (or, with
	// p.Wait, as stored once the executor applied it). A command that
	// does not fit the execution's state is a 409 (*Error); resume inputs
	// that do not fit their declarations are *InputError or flow.Errors.
	Command(ctx context.Context, p CommandParams) (*flow.Execution, error)
	// Replay creates and stores a new execution that starts again at a
	// task run of an ended one.
	Replay(ctx context.Context, p ReplayParams) (*flow.Execution, error)
}

// Action names what Steerer.Command asks.
type Action string

// The actions the API offers on an existing execution besides kill.
const (
	ActionKill         Action = "kill"
	ActionResume       Action = "resume"
	ActionRestart      Action = "restart"
	ActionChangeStatus Action = "change-status"
	ActionPause        Action = "pause"
	ActionForceRun     Action = "force-run"
	ActionSetLabels    Action = "labels"
	ActionUnqueue      Action = "unqueue"
)

// CommandParams are the arguments of Steerer.Command.
type CommandParams struct {
	ExecutionID string
	Action      Action
	// Inputs are a resume's onResume inputs.
	Inputs map[string]any
	// State is change-status's new state (and unqueue's: RUNNING,
	// CANCELLED or FAILED); TaskRunID, when set, names the task run whose
	// state changes instead of the execution's.
	State     flow.State
	TaskRunID string
	// Labels are the labels ActionSetLabels adds.
	Labels []flow.Label
	// NoCascade keeps a kill from reaching subflow executions
	// (?isOnKillCascade=false).
	NoCascade bool
	// Wait answers once the executor applied the command (?wait=true).
	Wait bool
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
	// Each action's pattern is also how a flow of that name is started
	// (POST /executions/{namespace}/{id}): actionOrStart tells them apart.
	s.Handle("POST /executions/{executionId}/resume", s.actionOrStart("resume", s.resumeExecution))
	s.Handle("POST /executions/{executionId}/restart", s.actionOrStart("restart", s.restartExecution))
	s.Handle("POST /executions/{executionId}/replay", s.actionOrStart("replay", s.replayExecution))
	s.Handle("POST /executions/{executionId}/change-status", s.actionOrStart("change-status", s.changeExecutionStatus))
	s.Handle("POST /executions/{executionId}/state", s.actionOrStart("state", s.changeTaskRunState))
	s.Handle("POST /executions/{executionId}/pause", s.actionOrStart("pause", s.simpleAction(ActionPause)))
	s.Handle("POST /executions/{executionId}/force-run", s.actionOrStart("force-run", s.simpleAction(ActionForceRun)))
	s.Handle("POST /executions/{executionId}/labels", s.actionOrStart("labels", s.setExecutionLabels))
	s.Handle("POST /executions/{executionId}/unqueue", s.actionOrStart("unqueue", s.unqueueExecution))
	// Kestra 2.0 moved the single-execution actions under /actions; its
	// generated clients call these. Both forms stay served; the POST ones
	// are dispatched by executionActions.
	s.postActions = map[string]HandlerFunc{
		"resume":        s.resumeExecution,
		"restart":       s.restartExecution,
		"replay":        s.replayExecution,
		"change-status": s.changeExecutionStatus,
		"state":         s.changeTaskRunState,
		"pause":         s.simpleAction(ActionPause),
		"force-run":     s.simpleAction(ActionForceRun),
		"labels":        s.setExecutionLabels,
		"unqueue":       s.unqueueExecution,
		"eval":          s.evalExpression,
	}
	s.Handle("DELETE /executions/{executionId}/actions/kill", s.killExecutionAction)
	s.Handle("GET /flows/{namespace}/{id}/graph", s.flowGraph)
	s.Handle("GET /executions/{executionId}/graph", s.executionGraph)
	s.Handle("GET /plugins", s.listPlugins)
	s.Handle("GET /plugins/schemas/{type}", s.pluginSchema)
	s.Handle("GET /plugins/{cls}", s.getPlugin)
}

// actionOrStart serves POST /executions/X/resume (and every other action),
// which is also how a flow named resume in namespace X is started: the action's
// more specific pattern wins the match, so when X is no execution and a
// flow X.resume exists, the call starts that flow.
func (s *Server) actionOrStart(name string, action HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("executionId")
		_, _, err := s.opts.Store.Executions().Get(r.Context(), id)
		if !errors.Is(err, store.ErrNotFound) || flow.CheckNamespace(id) != nil {
			return action(w, r)
		}
		if _, err := s.opts.Store.Flows().Get(r.Context(), id, name, 0); err != nil {
			return action(w, r)
		}
		r.SetPathValue("namespace", id)
		r.SetPathValue("id", name)
		return s.createExecution(w, r)
	}
}

func (s *Server) steerer() (Steerer, error) {
	st, ok := s.opts.Runner.(Steerer)
	if !ok {
		return nil, Errorf(http.StatusNotImplemented, "this server cannot resume, restart, replay, pause or change executions")
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
	wait, err := queryBool(r.URL.Query().Get("wait"), "wait")
	if err != nil {
		return err
	}
	if _, err := s.send(w, r, st, CommandParams{ExecutionID: e.ID, Action: ActionResume, Inputs: inputs, Wait: wait}); err != nil {
		return fmt.Errorf("resume execution %s: %w", e.ID, err)
	}
	resumed = true
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// restartExecution restarts a failed or killed execution in place and
// answers with it as restarted, as Kestra does.
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
	return s.command(w, r, st, CommandParams{ExecutionID: e.ID, Action: ActionRestart})
}

// command sends p (with ?wait=) and answers 200 with the execution.
func (s *Server) command(w http.ResponseWriter, r *http.Request, st Steerer, p CommandParams) error {
	wait, err := queryBool(r.URL.Query().Get("wait"), "wait")
	if err != nil {
		return err
	}
	p.Wait = wait
	e, err := s.send(w, r, st, p)
	if err != nil {
		return fmt.Errorf("%s execution %s: %w", p.Action, p.ExecutionID, err)
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// send hands p to the steerer. A wait is bounded by MaxWait, like a start's:
// past it the client learns the command is accepted but not yet applied.
func (s *Server) send(w http.ResponseWriter, r *http.Request, st Steerer, p CommandParams) (*flow.Execution, error) {
	if !p.Wait {
		return st.Command(r.Context(), p)
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.opts.MaxWait + time.Minute))
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.MaxWait)
	defer cancel()
	e, err := st.Command(ctx, p)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil {
		return nil, Errorf(http.StatusGatewayTimeout, fmt.Sprintf("the %s of execution %s is accepted, but no executor applied it within %s: is an executor running?", p.Action, p.ExecutionID, s.opts.MaxWait))
	}
	return e, err
}

// simpleAction answers an action that takes nothing but the execution
// (pause, force-run) with the execution as the action leaves it.
func (s *Server) simpleAction(a Action) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		st, err := s.steerer()
		if err != nil {
			return err
		}
		e, err := s.loadExecution(r)
		if err != nil {
			return err
		}
		return s.command(w, r, st, CommandParams{ExecutionID: e.ID, Action: a})
	}
}

// changeExecutionStatus sets the state of an ended execution from
// ?status= (Kestra's change-status).
func (s *Server) changeExecutionStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := s.steerer()
	if err != nil {
		return err
	}
	state, err := stateParam(r.URL.Query().Get("status"), "status")
	if err != nil {
		return err
	}
	e, err := s.loadExecution(r)
	if err != nil {
		return err
	}
	return s.command(w, r, st, CommandParams{ExecutionID: e.ID, Action: ActionChangeStatus, State: state})
}

// changeTaskRunState sets the state of one task run from a JSON body
// {"taskRunId": …, "state": …} (Kestra's task run state action).
func (s *Server) changeTaskRunState(w http.ResponseWriter, r *http.Request) error {
	st, err := s.steerer()
	if err != nil {
		return err
	}
	var body struct {
		TaskRunID string `json:"taskRunId"`
		State     string `json:"state"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return Errorf(http.StatusBadRequest, fmt.Sprintf("body must be a JSON object with taskRunId and state: %v", err))
	}
	if body.TaskRunID == "" {
		return Errorf(http.StatusBadRequest, "body must name the task run: taskRunId")
	}
	state, err := stateParam(body.State, "state")
	if err != nil {
		return err
	}
	e, err := s.loadExecution(r)
	if err != nil {
		return err
	}
	if e.TaskRunByID(body.TaskRunID) == nil {
		return Errorf(http.StatusNotFound, fmt.Sprintf("task run %s is not in execution %s", body.TaskRunID, e.ID))
	}
	return s.command(w, r, st, CommandParams{ExecutionID: e.ID, Action: ActionChangeStatus, State: state, TaskRunID: body.TaskRunID})
}

// stateParam reads a state name, 400 when it is not one.
func stateParam(v, name string) (flow.State, error) {
	state := flow.State(strings.ToUpper(strings.TrimSpace(v)))
	if !slices.Contains(knownStates, state) {
		return "", Errorf(http.StatusBadRequest, fmt.Sprintf("%s must be an execution state such as SUCCESS or FAILED, got %q", name, v))
	}
	return state, nil
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

// executionActionsPattern is executionActions' pattern.
const executionActionsPattern = "POST /executions/{first}/{second}/{third}"

// executionActions serves POST /executions/{a}/{b}/{c}: Kestra's old
// trigger path (/executions/trigger/{namespace}/{id}) and Kestra 2.0's
// single-execution actions (/executions/{executionId}/actions/{action}).
// Go's mux refuses the two as separate patterns (both match
// /executions/trigger/actions/x), so one handler tells them apart, the
// trigger path first as Kestra's router does.
func (s *Server) executionActions(w http.ResponseWriter, r *http.Request) error {
	first, second, third := r.PathValue("first"), r.PathValue("second"), r.PathValue("third")
	if first == "trigger" {
		r.SetPathValue("namespace", second)
		r.SetPathValue("id", third)
		return s.createExecution(w, r)
	}
	if second != "actions" {
		return &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("no such endpoint: POST %s", r.URL.Path)}
	}
	r.SetPathValue("executionId", first)
	if h, ok := s.postActions[third]; ok {
		return h(w, r)
	}
	verbs := slices.Sorted(maps.Keys(s.postActions))
	return &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("unknown execution action %q: Osprey serves %s and (DELETE) kill", third, strings.Join(verbs, ", "))}
}
