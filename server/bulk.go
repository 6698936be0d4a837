package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// maxBulk bounds the executions one bulk request acts on: a by-query
// matching more is refused (400) rather than half done.
const maxBulk = 10_000

// bulkAction is what a bulk route does to each execution it names.
type bulkAction struct {
	// name is the action in messages ("kill").
	name string
	// refuse says why e cannot take the action, "" when it can. Every
	// execution is checked before any is acted on, as Kestra does.
	refuse func(e *flow.Execution) string
	// apply acts on e: a command for the executor, a replay, a deletion.
	apply func(ctx context.Context, e *flow.Execution) error
	// own are the action's query parameters that are no search filter
	// (unqueue's state is the state to move to).
	own []string
}

// bulkRead reads a bulk request's parameters: the action, and for by-ids
// the execution ids its body names.
type bulkRead func(r *http.Request, byIDs bool) (ids []string, act bulkAction, err error)

// bulkRoutes mounts Kestra's bulk execution actions: each at
// /executions/{action}/by-ids (a JSON list of ids) and
// /executions/{action}/by-query (the search's filters), deletion at
// /executions/by-ids and /executions/by-query.
func (s *Server) bulkRoutes() {
	for _, b := range []struct {
		method, action string
		read           bulkRead
	}{
		{http.MethodDelete, "", s.bulkDelete},
		{http.MethodDelete, "kill", s.idsThen(s.bulkKill)},
		{http.MethodPost, "restart", s.idsThen(s.bulkCommand(ActionRestart, "FAILED or KILLED", flow.State.IsFailed))},
		{http.MethodPost, "resume", s.idsThen(s.bulkCommand(ActionResume, "PAUSED", isState(flow.StatePaused)))},
		{http.MethodPost, "pause", s.idsThen(s.bulkCommand(ActionPause, "RUNNING", isState(flow.StateRunning)))},
		{http.MethodPost, "force-run", s.idsThen(s.bulkCommand(ActionForceRun, "CREATED or QUEUED", isState(flow.StateCreated, flow.StateQueued)))},
		{http.MethodPost, "unqueue", s.idsThen(s.bulkUnqueue)},
		{http.MethodPost, "replay", s.idsThen(s.bulkReplay)},
		{http.MethodPost, "change-status", s.idsThen(s.bulkChangeStatus)},
		{http.MethodPost, "labels", s.bulkLabels},
	} {
		prefix := "/executions/"
		if b.action != "" {
			prefix += b.action + "/"
		}
		s.Handle(b.method+" "+prefix+"by-ids", s.bulkByIDs(b.read))
		s.Handle(b.method+" "+prefix+"by-query", s.bulkByQuery(b.read))
	}
}

func isState(states ...flow.State) func(flow.State) bool {
	return func(st flow.State) bool { return slices.Contains(states, st) }
}

// idsThen reads a by-ids body as Kestra's: a JSON list of execution ids.
func (s *Server) idsThen(action func(r *http.Request) (bulkAction, error)) bulkRead {
	return func(r *http.Request, byIDs bool) ([]string, bulkAction, error) {
		act, err := action(r)
		if err != nil || !byIDs {
			return nil, act, err
		}
		var ids []string
		if err := json.NewDecoder(r.Body).Decode(&ids); err != nil {
			return nil, act, Errorf(http.StatusBadRequest, "the body must be a JSON list of execution ids: "+err.Error())
		}
		return ids, act, nil
	}
}

// bulkByIDs acts on the executions the body lists.
func (s *Server) bulkByIDs(read bulkRead) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ids, act, err := read(r, true)
		if err != nil {
			return err
		}
		return s.bulk(w, r, act, ids)
	}
}

// bulkByQuery acts on the executions the search's filters match.
func (s *Server) bulkByQuery(read bulkRead) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		_, act, err := read(r, false)
		if err != nil {
			return err
		}
		q := r.URL.Query()
		for _, p := range act.own {
			q.Del(p)
		}
		eq, err := executionQuery(q)
		if err != nil {
			return err
		}
		var ids []string
		for eq.Page, eq.Size = 1, 1000; ; eq.Page++ {
			execs, total, err := s.opts.Store.Executions().Search(r.Context(), eq)
			if err != nil {
				return fmt.Errorf("search executions: %w", err)
			}
			if total > maxBulk {
				return Errorf(http.StatusBadRequest, fmt.Sprintf("the query matches %d executions; a bulk %s takes at most %d: narrow it", total, act.name, maxBulk))
			}
			for _, e := range execs {
				ids = append(ids, e.ID)
			}
			if len(execs) < eq.Size || len(ids) >= total {
				break
			}
		}
		return s.bulk(w, r, act, ids)
	}
}

// bulkInvalid is one execution a bulk request cannot act on, in the shape
// of Kestra's constraint violations.
type bulkInvalid struct {
	InvalidValue string `json:"invalidValue"`
	Message      string `json:"message"`
}

// bulk checks every execution first and, when one cannot take the action,
// answers 400 listing them all and acts on none (Kestra's
// BulkErrorResponse); otherwise it acts on each and answers how many.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request, act bulkAction, ids []string) error {
	if len(ids) > maxBulk {
		return Errorf(http.StatusBadRequest, fmt.Sprintf("a bulk %s takes at most %d executions, got %d", act.name, maxBulk, len(ids)))
	}
	var execs []*flow.Execution
	invalids := []bulkInvalid{}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		e, _, err := s.opts.Store.Executions().Get(r.Context(), id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			invalids = append(invalids, bulkInvalid{id, "execution not found"})
		case err != nil:
			return fmt.Errorf("execution %s: %w", id, err)
		default:
			if why := act.refuse(e); why != "" {
				invalids = append(invalids, bulkInvalid{id, why})
				continue
			}
			execs = append(execs, e)
		}
	}
	if len(invalids) > 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "invalid bulk " + act.name, "invalids": invalids})
		return nil
	}
	for i, e := range execs {
		if err := act.apply(r.Context(), e); err != nil {
			return fmt.Errorf("bulk %s: %d of %d done, then execution %s: %w", act.name, i, len(execs), e.ID, err)
		}
	}
	// count is Kestra's BulkResponse; totalItems its asynchronous answer
	// (ApiAsyncOperationResponse). Osprey's commands are stored by then.
	writeJSON(w, http.StatusOK, map[string]any{"count": len(execs), "totalItems": len(execs)})
	return nil
}

// command sends one command to the executor, without waiting.
func (s *Server) sendCommand(ctx context.Context, p CommandParams) error {
	st, err := s.steerer()
	if err != nil {
		return err
	}
	_, err = st.Command(ctx, p)
	return err
}

func (s *Server) bulkCommand(a Action, want string, ok func(flow.State) bool) func(*http.Request) (bulkAction, error) {
	return func(*http.Request) (bulkAction, error) {
		if _, err := s.steerer(); err != nil {
			return bulkAction{}, err
		}
		return bulkAction{
			name: string(a),
			refuse: func(e *flow.Execution) string {
				if ok(e.State.Current) {
					return ""
				}
				return fmt.Sprintf("execution is %s, not %s", e.State.Current, want)
			},
			apply: func(ctx context.Context, e *flow.Execution) error {
				return s.sendCommand(ctx, CommandParams{ExecutionID: e.ID, Action: a})
			},
		}, nil
	}
}

func (s *Server) bulkKill(r *http.Request) (bulkAction, error) {
	cascade, err := queryBoolDefault(r.URL.Query().Get("isOnKillCascade"), "isOnKillCascade", true)
	if err != nil {
		return bulkAction{}, err
	}
	return bulkAction{
		name: "kill",
		refuse: func(e *flow.Execution) string {
			if e.State.Current.IsTerminal() {
				return fmt.Sprintf("execution already ended %s", e.State.Current)
			}
			return ""
		},
		apply: func(ctx context.Context, e *flow.Execution) error {
			if st, ok := s.opts.Runner.(Steerer); ok {
				_, err := st.Command(ctx, CommandParams{ExecutionID: e.ID, Action: ActionKill, NoCascade: !cascade})
				return err
			}
			return s.opts.Runner.Kill(ctx, e.ID)
		},
	}, nil
}

func (s *Server) bulkUnqueue(r *http.Request) (bulkAction, error) {
	to, err := unqueueState(r)
	if err != nil {
		return bulkAction{}, err
	}
	act, err := s.bulkCommand(ActionUnqueue, "QUEUED", isState(flow.StateQueued))(r)
	act.apply = func(ctx context.Context, e *flow.Execution) error {
		return s.sendCommand(ctx, CommandParams{ExecutionID: e.ID, Action: ActionUnqueue, State: to})
	}
	act.own = []string{"state"} // by query, filter with filters[state][IN]
	return act, err
}

func (s *Server) bulkChangeStatus(r *http.Request) (bulkAction, error) {
	to, err := stateParam(r.URL.Query().Get("newStatus"), "newStatus")
	if err != nil {
		return bulkAction{}, err
	}
	act, err := s.bulkCommand(ActionChangeStatus, "ended", flow.State.IsTerminal)(r)
	refuse := act.refuse
	act.refuse = func(e *flow.Execution) string {
		if e.State.Current == to {
			return "execution already " + string(to)
		}
		return refuse(e)
	}
	act.apply = func(ctx context.Context, e *flow.Execution) error {
		return s.sendCommand(ctx, CommandParams{ExecutionID: e.ID, Action: ActionChangeStatus, State: to})
	}
	return act, err
}

// bulkReplay replays each ended execution on its own revision, or with
// ?latestRevision=true on its flow's latest.
func (s *Server) bulkReplay(r *http.Request) (bulkAction, error) {
	st, err := s.steerer()
	if err != nil {
		return bulkAction{}, err
	}
	latest, err := queryBoolDefault(r.URL.Query().Get("latestRevision"), "latestRevision", false)
	if err != nil {
		return bulkAction{}, err
	}
	return bulkAction{
		name: "replay",
		refuse: func(e *flow.Execution) string {
			if !e.State.Current.IsTerminal() {
				return fmt.Sprintf("execution is %s, not ended", e.State.Current)
			}
			return ""
		},
		apply: func(ctx context.Context, e *flow.Execution) error {
			rev := 0
			if latest {
				f, err := s.opts.Store.Flows().Get(ctx, e.Namespace, e.FlowID, 0)
				if err != nil {
					return fmt.Errorf("latest revision of %s.%s: %w", e.Namespace, e.FlowID, err)
				}
				rev = f.Revision
			}
			_, err := st.Replay(ctx, ReplayParams{ExecutionID: e.ID, Revision: rev})
			return err
		},
	}, nil
}

// bulkDelete deletes ended executions (every one with
// ?includeNonTerminated=true), with their files unless deleteStorage=false.
func (s *Server) bulkDelete(r *http.Request, byIDs bool) ([]string, bulkAction, error) {
	q := r.URL.Query()
	all, err := queryBoolDefault(q.Get("includeNonTerminated"), "includeNonTerminated", false)
	if err != nil {
		return nil, bulkAction{}, err
	}
	purge, err := queryBoolDefault(q.Get("deleteStorage"), "deleteStorage", true)
	if err != nil {
		return nil, bulkAction{}, err
	}
	act := bulkAction{
		name: "delete",
		refuse: func(e *flow.Execution) string {
			if !all && !e.State.Current.IsTerminal() {
				return fmt.Sprintf("execution is %s: only ended executions are deleted without includeNonTerminated=true", e.State.Current)
			}
			return ""
		},
		apply: func(ctx context.Context, e *flow.Execution) error { return s.removeExecution(ctx, e, purge) },
	}
	return s.idsThen(func(*http.Request) (bulkAction, error) { return act, nil })(r, byIDs)
}

// bulkLabels adds labels to ended executions. By ids the body is
// {executionsId, executionLabels}; by query it is the list of labels.
func (s *Server) bulkLabels(r *http.Request, byIDs bool) ([]string, bulkAction, error) {
	if _, err := s.steerer(); err != nil {
		return nil, bulkAction{}, err
	}
	var ids []string
	var labels []flow.Label
	if byIDs {
		var body struct {
			ExecutionsID    []string     `json:"executionsId"`
			ExecutionLabels []flow.Label `json:"executionLabels"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return nil, bulkAction{}, Errorf(http.StatusBadRequest, "the body must be {executionsId: [...], executionLabels: [{key, value}]}: "+err.Error())
		}
		ids, labels = body.ExecutionsID, body.ExecutionLabels
	} else if err := json.NewDecoder(r.Body).Decode(&labels); err != nil {
		return nil, bulkAction{}, Errorf(http.StatusBadRequest, "the body must be a JSON list of labels [{key, value}]: "+err.Error())
	}
	if err := checkLabels(labels); err != nil {
		return nil, bulkAction{}, err
	}
	return ids, bulkAction{
		name:   "labels",
		refuse: labelsRefusal,
		apply: func(ctx context.Context, e *flow.Execution) error {
			return s.sendCommand(ctx, CommandParams{ExecutionID: e.ID, Action: ActionSetLabels, Labels: labels})
		},
	}, nil
}

func labelsRefusal(e *flow.Execution) string {
	if !e.State.Current.IsTerminal() {
		return fmt.Sprintf("execution is %s: labels are set on an ended execution", e.State.Current)
	}
	return ""
}

// checkLabels refuses labels a user may not set: an empty key or value,
// or a system label (system.*), which only Osprey sets.
func checkLabels(labels []flow.Label) error {
	if len(labels) == 0 {
		return Errorf(http.StatusBadRequest, "no labels given: send [{key, value}, …]")
	}
	for _, l := range labels {
		if l.Key == "" || l.Value == "" {
			return Errorf(http.StatusBadRequest, fmt.Sprintf("label %q=%q: a label needs a key and a value", l.Key, l.Value))
		}
		if strings.HasPrefix(l.Key, "system.") {
			return Errorf(http.StatusBadRequest, fmt.Sprintf("label %s: system labels are set by Osprey only", l.Key))
		}
	}
	return nil
}

// unqueueState reads unqueue's ?state=: RUNNING (the default) starts the
// execution now, CANCELLED or FAILED ends it without running.
func unqueueState(r *http.Request) (flow.State, error) {
	v := r.URL.Query().Get("state")
	if v == "" {
		return flow.StateRunning, nil
	}
	st, err := stateParam(v, "state")
	if err != nil {
		return "", err
	}
	if st != flow.StateRunning && st != flow.StateCancelled && st != flow.StateFailed {
		return "", Errorf(http.StatusBadRequest, fmt.Sprintf("state must be RUNNING, CANCELLED or FAILED: an execution leaves the queue to run or to end, not to %s", st))
	}
	return st, nil
}

// setExecutionLabels adds labels to one ended execution and answers it
// as the labels leave it (Kestra's setLabelsOnTerminatedExecution).
func (s *Server) setExecutionLabels(w http.ResponseWriter, r *http.Request) error {
	st, err := s.steerer()
	if err != nil {
		return err
	}
	var labels []flow.Label
	if err := json.NewDecoder(r.Body).Decode(&labels); err != nil {
		return Errorf(http.StatusBadRequest, "the body must be a JSON list of labels [{key, value}]: "+err.Error())
	}
	if err := checkLabels(labels); err != nil {
		return err
	}
	e, err := s.loadExecution(r)
	if err != nil {
		return err
	}
	if why := labelsRefusal(e); why != "" {
		// Kestra answers 400 here ("The execution is not terminated").
		return Errorf(http.StatusBadRequest, fmt.Sprintf("%s: %s", e.ID, why))
	}
	return s.command(w, r, st, CommandParams{ExecutionID: e.ID, Action: ActionSetLabels, Labels: labels})
}

// unqueueExecution takes a QUEUED execution out of its flow's
// concurrency queue (Kestra's unqueueExecution).
func (s *Server) unqueueExecution(w http.ResponseWriter, r *http.Request) error {
	st, err := s.steerer()
	if err != nil {
		return err
	}
	to, err := unqueueState(r)
	if err != nil {
		return err
	}
	e, err := s.loadExecution(r)
	if err != nil {
		return err
	}
	if e.State.Current != flow.StateQueued {
		return Errorf(http.StatusConflict, fmt.Sprintf("execution %s is %s: only a QUEUED execution is unqueued", e.ID, e.State.Current))
	}
	return s.command(w, r, st, CommandParams{ExecutionID: e.ID, Action: ActionUnqueue, State: to})
}
