package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/store"
)

// createExecution starts an execution of the flow's latest revision (or
// ?revision=) with inputs from a multipart form, a urlencoded form or a
// JSON object, and labels from ?labels=key:value. With ?wait=true it
// answers once the execution is terminal, or when MaxWait runs out.
func (s *Server) createExecution(w http.ResponseWriter, r *http.Request) error {
	ns, id := r.PathValue("namespace"), r.PathValue("id")
	q := r.URL.Query()
	wait, err := queryBool(q.Get("wait"), "wait")
	if err != nil {
		return err
	}
	rev, err := queryInt(q.Get("revision"), "revision", 0, 1)
	if err != nil {
		return err
	}
	labels, err := parseLabels(q["labels"])
	if err != nil {
		return err
	}
	var at *time.Time
	if v := q.Get("scheduleDate"); v != "" {
		d, err := flow.ParseDateTime(v, nil)
		if err != nil {
			return Errorf(http.StatusBadRequest, fmt.Sprintf("scheduleDate %q is not an ISO 8601 date-time such as 2026-12-24T17:00:00+01:00", v))
		}
		at = &d
	}
	up := s.uploader(r.Context(), ns, id)
	inputs, err := readInputs(r, up)
	if err != nil {
		up.discard()
		return err
	}
	started := false
	defer func() {
		if !started {
			up.discard()
		}
	}()
	rec, err := s.opts.Store.Flows().Get(r.Context(), ns, id, rev)
	if err != nil {
		return fmt.Errorf("flow %s.%s: %w", ns, id, err)
	}
	f, err := s.parsed(r.Context(), rec)
	if err != nil {
		return &Error{Status: http.StatusUnprocessableEntity, Message: fmt.Sprintf("flow %s.%s revision %d is invalid: %v", ns, id, rec.Revision, err)}
	}
	if f.Disabled {
		return Errorf(http.StatusConflict, fmt.Sprintf("flow %s.%s is disabled: enable it before running it", ns, id))
	}
	if err := checkFileInputs(f, inputs, up); err != nil {
		return err
	}
	execID := up.executionID()
	var ended <-chan struct{}
	if wait {
		// The waiter listens for the end before the execution exists, so
		// its end cannot pass unseen and no read is needed to catch one
		// that came first (see waitTerminal).
		if execID == "" {
			execID = flow.NewID()
		}
		subCtx, cancel := context.WithCancel(r.Context())
		defer cancel()
		if ch, err := s.opts.Store.Queue().Subscribe(subCtx, store.TopicExecutionEnd(execID)); err == nil {
			ended = ch
		}
	}
	e, err := s.opts.Runner.Start(r.Context(), StartParams{Flow: f, Inputs: inputs, Labels: labels, ScheduleDate: at, ExecutionID: execID})
	var problems flow.Errors
	if errors.As(err, &problems) {
		// The runner reports bad inputs as positioned problems; they are
		// about this request, not about the flow's source.
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.Message
		}
		return &Error{Status: http.StatusUnprocessableEntity, Details: problems,
			Message: fmt.Sprintf("cannot start %s.%s: %s", ns, id, strings.Join(msgs, "; "))}
	}
	if err != nil {
		return fmt.Errorf("start execution of %s.%s: %w", ns, id, err)
	}
	started = true
	if wait && !e.Settled() {
		if e.ID != execID {
			ended = nil // a runner that chose its own id: wait as for any other
		}
		if e, err = s.waitSubscribed(w, r, e, ended); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// parsed returns the flow revision rec, parsed: from Options.Flows when
// set (shared: never changed here), else parsed now.
func (s *Server) parsed(ctx context.Context, rec store.FlowRecord) (*flow.Flow, error) {
	if s.opts.Flows != nil {
		return s.opts.Flows.Get(ctx, rec.Namespace, rec.ID, rec.Revision)
	}
	f, err := s.opts.Parse([]byte(rec.Source))
	if err == nil && f == nil {
		err = errors.New("empty flow")
	}
	if err != nil {
		return nil, err
	}
	f.Revision, f.Source = rec.Revision, rec.Source
	return f, nil
}

// waitTerminal blocks until execution started (just created) is settled
// (ended, and its afterExecution tasks too, as Kestra's wait), MaxWait
// passes (the execution is then returned as it stands) or the client goes
// away.
func (s *Server) waitTerminal(w http.ResponseWriter, r *http.Request, started *flow.Execution) (*flow.Execution, error) {
	return s.waitSubscribed(w, r, started, nil)
}

// waitSubscribed is waitTerminal for an execution whose end topic ended
// already listens to, subscribed before the execution was created (nil:
// not subscribed). Such a wait reads nothing until the end wakes it, then
// reads the execution straight away: on PostgreSQL two round trips fewer
// per ?wait=true than a state read to catch an end that came before the
// subscription and another after the wake-up. Polls still read the state
// first, as a wake-up can be lost.
func (s *Server) waitSubscribed(w http.ResponseWriter, r *http.Request, started *flow.Execution, ended <-chan struct{}) (*flow.Execution, error) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.opts.MaxWait + time.Minute))
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.MaxWait)
	defer cancel()
	id := started.ID
	// A wait cut short answers with the execution as it was created, or
	// as last read.
	last := started
	// check reads the execution once it ended; woken says the end topic
	// woke it, so the state need not be read first.
	check := func(ctx context.Context, woken bool) (bool, error) {
		if !woken {
			// The state alone until it ends: the whole execution is read
			// once, at its end, so a wide execution's task runs are not
			// read at every poll, nor a new one's at once.
			st, err := s.opts.Store.Executions().State(ctx, id)
			if err != nil {
				return false, fmt.Errorf("execution %s: %w", id, err)
			}
			if !st.IsTerminal() {
				return false, nil
			}
		}
		e, _, err := s.opts.Store.Executions().Get(ctx, id)
		if err != nil {
			return false, fmt.Errorf("execution %s: %w", id, err)
		}
		last = e
		return e.Settled(), nil
	}
	var err error
	if ended == nil {
		// Only the end matters here: the end topic spares a read per step.
		err = s.loop(ctx, store.TopicExecutionEnd(id), func(ctx context.Context) (bool, error) {
			return check(ctx, false)
		}, nil)
	} else {
		err = s.awaitEnd(ctx, ended, check)
	}
	// Past MaxWait, or when the server stops, the client gets the
	// execution as it stands rather than an error.
	if (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errClosing)) && r.Context().Err() == nil {
		if e, _, err := s.opts.Store.Executions().Get(r.Context(), id); err == nil {
			last = e
		}
		return last, nil
	}
	return last, err
}

// awaitEnd calls check when ended wakes it (woken true) or the poll
// interval passes (false), until check reports done or fails, ctx ends or
// the server closes.
func (s *Server) awaitEnd(ctx context.Context, ended <-chan struct{}, check func(context.Context, bool) (bool, error)) error {
	poll := time.NewTicker(s.opts.PollInterval)
	defer poll.Stop()
	for {
		woken := false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closing:
			return errClosing
		case _, ok := <-ended:
			if !ok {
				ended = nil // poll only
				continue
			}
			woken = true
		case <-poll.C:
		}
		if done, err := check(ctx, woken); err != nil || done {
			return err
		}
	}
}

// readInputs reads execution inputs from the body as Kestra accepts them.
func readInputs(r *http.Request, up *uploader) (map[string]any, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch mt {
	case "multipart/form-data":
		return readMultipartInputs(r, up)
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("read form: %w", badRequest(err))
		}
		return formValues(r.PostForm), nil
	case "application/json":
		var raw json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read inputs: %w", badRequest(err))
		}
		var in map[string]any
		if len(raw) > 0 {
			// Numbers stay exact, objects keep their keys' order, as Kestra's.
			if err := flow.DecodeJSON(raw, &in); err != nil {
				return nil, fmt.Errorf("read inputs: %w", badRequest(err))
			}
		}
		return in, nil
	case "":
		b, err := readBody(r)
		if err != nil {
			return nil, err
		}
		if len(strings.TrimSpace(string(b))) > 0 {
			return nil, Errorf(http.StatusUnsupportedMediaType, "send inputs as multipart/form-data or application/json")
		}
		return nil, nil
	}
	return nil, Errorf(http.StatusUnsupportedMediaType, "unsupported content type "+mt+": send inputs as multipart/form-data or application/json")
}

// badRequest marks a malformed body, keeping a body-size error as it is.
func badRequest(err error) error {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return err
	}
	return Errorf(http.StatusBadRequest, "malformed request body: "+err.Error())
}

// readMultipartInputs streams the form parts: file parts go to internal
// storage as they arrive (FILE inputs), the other parts together stay
// within the body limit.
func readMultipartInputs(r *http.Request, up *uploader) (map[string]any, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, fmt.Errorf("read multipart form: %w", badRequest(err))
	}
	values := map[string][]string{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read multipart form: %w", badRequest(err))
		}
		name := p.FormName()
		if name == "" {
			continue
		}
		if p.FileName() != "" {
			uri, err := up.put(name, p.FileName(), p)
			if err != nil {
				return nil, err
			}
			values[name] = append(values[name], uri)
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p, up.fieldBudget+1))
		if err != nil {
			return nil, fmt.Errorf("read input %s: %w", name, badRequest(err))
		}
		if up.fieldBudget -= int64(len(b)); up.fieldBudget < 0 {
			return nil, &http.MaxBytesError{Limit: up.fieldLimit}
		}
		values[name] = append(values[name], string(b))
	}
	return formValues(values), nil
}

// formValues keeps single values as strings and repeated ones as lists
// (ARRAY and MULTISELECT inputs).
func formValues(v map[string][]string) map[string]any {
	if len(v) == 0 {
		return nil
	}
	out := make(map[string]any, len(v))
	for k, vs := range v {
		if len(vs) == 1 {
			out[k] = vs[0]
			continue
		}
		list := make([]any, len(vs))
		for i, x := range vs {
			list[i] = x
		}
		out[k] = list
	}
	return out
}

// parseLabels reads Kestra's key:value label parameters.
func parseLabels(raw []string) ([]flow.Label, error) {
	var out []flow.Label
	for _, l := range raw {
		k, v, ok := strings.Cut(l, ":")
		if !ok || k == "" {
			return nil, Errorf(http.StatusBadRequest, fmt.Sprintf("label %q must be key:value", l))
		}
		out = append(out, flow.Label{Key: k, Value: v})
	}
	return out, nil
}

func (s *Server) getExecution(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("executionId")
	e, _, err := s.opts.Store.Executions().Get(r.Context(), id)
	if err != nil {
		return fmt.Errorf("execution %s: %w", id, err)
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// knownStates are the states a search may filter on.
var knownStates = []flow.State{
	flow.StateCreated, flow.StateQueued, flow.StateRunning, flow.StatePaused, flow.StateRestarted,
	flow.StateKilling, flow.StateSuccess, flow.StateWarning, flow.StateFailed, flow.StateKilled,
	flow.StateCancelled, flow.StateRetrying, flow.StateRetried, flow.StateSkipped, flow.StateBreakpoint,
	flow.StateResubmitted,
}

func (s *Server) searchExecutions(w http.ResponseWriter, r *http.Request) error {
	eq, err := executionQuery(r.URL.Query())
	if err != nil {
		return err
	}
	execs, total, err := s.opts.Store.Executions().Search(r.Context(), eq)
	if err != nil {
		return fmt.Errorf("search executions: %w", err)
	}
	if execs == nil {
		execs = []*flow.Execution{}
	}
	for _, e := range execs {
		// Kestra 2.0 names the tenant of every execution (its light
		// execution model requires it); Osprey's one tenant is main.
		e.TenantID = cmp.Or(e.TenantID, "main")
	}
	writeJSON(w, http.StatusOK, pagedResults[*flow.Execution]{Results: execs, Total: total})
	return nil
}

// executionQuery reads the execution search's parameters (also the
// filters of the bulk actions by query).
func executionQuery(q url.Values) (store.ExecutionQuery, error) {
	page, size, err := paging(q.Get("page"), q.Get("size"))
	if err != nil {
		return store.ExecutionQuery{}, err
	}
	f, err := parseFilters(q, executionFilters)
	if err != nil {
		return store.ExecutionQuery{}, err
	}
	labels, err := parseLabels(append(q["labels"], f.labels...))
	if err != nil {
		return store.ExecutionQuery{}, err
	}
	eq := store.ExecutionQuery{
		Namespace: cmp.Or(f.namespace, q.Get("namespace")), FlowID: cmp.Or(f.flowID, q.Get("flowId")), Labels: labels,
		ParentID: q.Get("parentId"), Page: page, Size: size,
	}
	for _, raw := range append(q["state"], f.states...) {
		for _, st := range strings.Split(raw, ",") {
			state := flow.State(strings.ToUpper(strings.TrimSpace(st)))
			if !slices.Contains(knownStates, state) {
				return store.ExecutionQuery{}, Errorf(http.StatusBadRequest, fmt.Sprintf("unknown state %q", st))
			}
			eq.States = append(eq.States, state)
		}
	}
	if eq.From, err = queryTime(q.Get("startDate"), "startDate"); err != nil {
		return store.ExecutionQuery{}, err
	}
	if eq.To, err = queryTime(q.Get("endDate"), "endDate"); err != nil {
		return store.ExecutionQuery{}, err
	}
	return eq, nil
}

// executionsOfFlow is Kestra's GET /executions (searchExecutionsByFlowId):
// a flow's executions, namespace and flowId required.
func (s *Server) executionsOfFlow(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for _, p := range []string{"namespace", "flowId"} {
		if q.Get(p) == "" {
			return Errorf(http.StatusBadRequest, fmt.Sprintf("query parameter %s is required: GET /executions lists one flow's executions; use /executions/search for others", p))
		}
	}
	return s.searchExecutions(w, r)
}

func queryTime(v, name string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, Errorf(http.StatusBadRequest, fmt.Sprintf("query parameter %s must be an RFC 3339 date, got %q", name, v))
	}
	return &t, nil
}

// killExecution asks the runner to kill a running execution: 202, as
// Kestra answers, since the kill completes asynchronously.
func (s *Server) killExecution(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.kill(w, r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// killExecutionAction is Kestra 2.0's DELETE …/actions/kill: 200 with the
// execution as the kill leaves it, where the older path answers 202.
func (s *Server) killExecutionAction(w http.ResponseWriter, r *http.Request) error {
	e, err := s.kill(w, r)
	if err != nil {
		return err
	}
	if e == nil {
		id := r.PathValue("executionId")
		if e, _, err = s.opts.Store.Executions().Get(r.Context(), id); err != nil {
			return fmt.Errorf("execution %s: %w", id, err)
		}
	}
	// The spec's media type for this answer (Micronaut's text/json).
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode execution: %w", err)
	}
	w.Header().Set("Content-Type", "text/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return nil
}

// kill sends the kill of the execution in the path; it returns the
// execution as the kill leaves it when the runner says.
func (s *Server) kill(w http.ResponseWriter, r *http.Request) (*flow.Execution, error) {
	id := r.PathValue("executionId")
	e, _, err := s.opts.Store.Executions().Get(r.Context(), id)
	if err != nil {
		return nil, fmt.Errorf("execution %s: %w", id, err)
	}
	if e.State.Current.IsTerminal() {
		return nil, Errorf(http.StatusConflict, fmt.Sprintf("execution %s is already %s: there is nothing to kill", id, e.State.Current))
	}
	q := r.URL.Query()
	cascade := true
	if v := q.Get("isOnKillCascade"); v != "" {
		if cascade, err = queryBool(v, "isOnKillCascade"); err != nil {
			return nil, err
		}
	}
	wait, err := queryBool(q.Get("wait"), "wait")
	if err != nil {
		return nil, err
	}
	if st, ok := s.opts.Runner.(Steerer); ok {
		// the kill as a command: it can spare subflows and be waited on
		e, err = s.send(w, r, st, CommandParams{ExecutionID: id, Action: ActionKill, NoCascade: !cascade, Wait: wait})
	} else {
		e, err = nil, s.opts.Runner.Kill(r.Context(), id)
	}
	if err != nil {
		return nil, fmt.Errorf("kill execution %s: %w", id, err)
	}
	return e, nil
}

func (s *Server) deleteExecution(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("executionId")
	// Kestra's deleteStorage (default true) removes the execution's files
	// with it: its inputs and every task run's outputs.
	purge, err := queryBoolDefault(r.URL.Query().Get("deleteStorage"), "deleteStorage", true)
	if err != nil {
		return err
	}
	ex, _, err := s.opts.Store.Executions().Get(r.Context(), id)
	if err != nil {
		return fmt.Errorf("execution %s: %w", id, err)
	}
	if err := s.removeExecution(r.Context(), ex, purge); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeExecution deletes ex and, with purge, its files.
func (s *Server) removeExecution(ctx context.Context, ex *flow.Execution, purge bool) error {
	if err := s.opts.Store.Executions().Delete(ctx, ex.ID); err != nil {
		return fmt.Errorf("execution %s: %w", ex.ID, err)
	}
	if purge && s.opts.Storage != nil {
		if _, err := s.opts.Storage.DeleteTree(ctx, storage.ExecutionPath(ex.Namespace, ex.FlowID, ex.ID)); err != nil {
			return fmt.Errorf("execution %s deleted, its files not: %w", ex.ID, err)
		}
	}
	return nil
}

// queryBoolDefault reads a boolean parameter that defaults to def.
func queryBoolDefault(v, name string, def bool) (bool, error) {
	if v == "" {
		return def, nil
	}
	return queryBool(v, name)
}
