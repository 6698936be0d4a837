package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// ErrInvalidTransition is returned when an action does not fit the
// execution's state (resuming one that is not paused, killing one that
// ended).
var ErrInvalidTransition = errors.New("invalid transition")

// Types tells the engine how a task type behaves.
type Types interface {
	// Flowable returns the flowable behaviour of t, or nil when t is a
	// runnable task that a worker runs.
	Flowable(t *flow.Task) (Flowable, error)
}

// Flowable is a task whose children the executor schedules. Resolve creates
// the child task runs that may start now (through s) and reports whether the
// parent is done and in which state. It is called on every step while the
// parent runs, so it must be idempotent: create a child only once.
type Flowable interface {
	Resolve(s *Scope, parent *flow.TaskRun) (Outcome, error)
}

// Outcome is what a Flowable reports: whether it is done, and its state then.
type Outcome struct {
	Done  bool
	State flow.State
}

// Renderer renders expressions with the variables of one task run.
type Renderer interface {
	Render(ctx context.Context, tmpl string, vars map[string]any) (string, error)
	RenderTyped(ctx context.Context, tmpl string, vars map[string]any) (any, error)
}

// Engine advances executions. It is safe for concurrent use.
type Engine struct {
	Types    Types
	Renderer Renderer
	// Globals are kestra.variables.globals; Envs the KESTRA_-prefixed
	// environment, both exposed to expressions.
	Globals map[string]any
	Envs    map[string]any
	// NewID makes task run ids; flow.NewID when nil.
	NewID func() string
	// Starter builds subflow executions; nil refuses subflows.
	Starter Starter
	// MaxLoopItems bounds the values of one loop (ForEach, EachParallel,
	// …); DefaultMaxLoopItems when zero.
	MaxLoopItems int
}

// DefaultMaxLoopItems is the default of osprey.limits.loop-items.
const DefaultMaxLoopItems = 10_000

func (e *Engine) maxLoopItems() int {
	if e.MaxLoopItems > 0 {
		return e.MaxLoopItems
	}
	return DefaultMaxLoopItems
}

// Step is the input of one Advance call.
type Step struct {
	Flow    *flow.Flow
	Exec    *flow.Execution
	Results []Result
	// Related holds executions the flowables may look at: the subflow
	// executions started by this one, by id.
	Related map[string]*flow.Execution
	Now     time.Time
	// Index is the index of Exec's task runs kept from the step before
	// (see Index); nil builds one for this step only.
	Index *Index
}

// Dispatch is a task run attempt to hand to a worker.
type Dispatch struct {
	TaskRun *flow.TaskRun
	Task    *flow.Task
	Attempt int
	// Vars are the task run's expression variables; when nil, Variables
	// builds them.
	Vars map[string]any
	// Children are a group's children (Group), run by the same job.
	Children []GroupChild
	// lazy holds what the variables are built from, as the step saw it
	// when it dispatched the task run: a step that dispatches thousands
	// of task runs keeps a few pointers for each rather than a map, and
	// its caller builds, encodes and drops them one at a time.
	lazy *lazyVars
}

// Variables returns the expression variables of the dispatched task run,
// as of the step that dispatched it.
func (d *Dispatch) Variables() map[string]any {
	if d.Vars == nil && d.lazy != nil {
		return d.lazy.build()
	}
	return d.Vars
}

// Effects is what a step produced, for the caller to persist atomically.
type Effects struct {
	Dispatch []Dispatch
	// NewExecutions are created with this step: subflows, and the next
	// attempt of an execution retried with CREATE_NEW_EXECUTION.
	NewExecutions []*flow.Execution
	// Cancel lists task runs whose running attempt must stop (kill).
	Cancel []string
	// Send are commands for other executions, stored with this step.
	Send []Sent
	// WakeAt asks to be stepped again at that time (delays, retries).
	WakeAt *time.Time
	// Changed is true when the execution document changed.
	Changed bool
	// Ended is true when the execution reached a terminal state in this step.
	Ended bool
	// Logs are log lines the step produced (a flowable task's failure).
	Logs []flow.LogEntry
}

// maxPasses bounds the fixpoint loop of one step; each pass settles at
// least one task run, so deep nesting needs several.
const maxPasses = 256

// Advance moves step.Exec forward as far as it can go without a worker and
// returns the effects. It mutates step.Exec only.
func (e *Engine) Advance(ctx context.Context, step Step) (Effects, error) {
	idx := step.Index
	if idx == nil {
		idx = NewIndex()
	}
	idx.sync(step.Exec.TaskRunList)
	// What the step creates is indexed as it goes (Create), so the index
	// holds the list as the step leaves it.
	defer func() { idx.list = step.Exec.TaskRunList }()
	s := &Scope{
		ctx:     ctx,
		engine:  e,
		flow:    step.Flow,
		exec:    step.Exec,
		now:     step.Now.UTC(),
		related: step.Related,
		index:   idx.byKey,
		byID:    idx.byID,
	}
	for _, r := range step.Results {
		s.applyResult(r)
	}
	ex := step.Exec
	if ex.State.Current.IsTerminal() {
		// An ended execution only runs its afterExecution tasks.
		if s.afterPending() {
			for pass := 0; pass < maxPasses; pass++ {
				s.progressed = false
				s.afterExecution()
				if !s.progressed {
					break
				}
			}
		}
		return s.fx, nil
	}
	if len(s.flow.SLA) > 0 && ex.State.Current != flow.StateKilling && s.checkSLA() {
		s.afterExecution()
		return s.fx, nil
	}
	switch ex.State.Current {
	case flow.StateCreated, flow.StateRestarted, flow.StateQueued:
		// A QUEUED execution reaches here once its flow's concurrency
		// limit lets it start.
		s.setExecState(flow.StateRunning)
	case flow.StateKilling:
		s.kill()
		return s.fx, nil
	case flow.StatePaused:
		if !s.anyPaused() {
			// Paused from the API: what runs finishes, nothing starts
			// until a resume.
			return s.fx, nil
		}
	}
	for pass := 0; pass < maxPasses; pass++ {
		s.progressed = false
		if err := s.pass(); err != nil {
			return s.fx, err
		}
		if !s.progressed || ex.State.Current.IsTerminal() {
			break
		}
	}
	s.updatePaused()
	return s.fx, nil
}

// pass resolves every running flowable, retries that are due, and the
// top-level task lists once.
func (s *Scope) pass() error {
	for _, tr := range append([]*flow.TaskRun(nil), s.exec.TaskRunList...) {
		if tr.State.Current == flow.StateRetrying || tr.State.Current == flow.StateRestarted {
			s.retryIfDue(tr)
			continue
		}
		if tr.State.Current != flow.StateRunning && tr.State.Current != flow.StatePaused {
			continue
		}
		t := s.findTask(tr.TaskID)
		if t == nil {
			s.failRun(tr, fmt.Sprintf("task %q is not in flow revision %d", tr.TaskID, s.exec.FlowRevision))
			continue
		}
		fl, err := s.engine.Types.Flowable(t)
		if err != nil {
			s.failRun(tr, err.Error())
			continue
		}
		if fl == nil {
			continue // a worker runs it
		}
		if s.timedOut(t, tr) {
			continue
		}
		out, err := fl.Resolve(s, tr)
		if err != nil {
			s.failRun(tr, err.Error())
			continue
		}
		if out.Done {
			if out.State == flow.StateFailed && len(tr.Attempts) > 0 && s.retryExecutable(t, tr) {
				continue
			}
			s.setRunState(tr, s.allowed(t, out.State))
		}
	}
	out := s.Sequential(nil, s.flow.Tasks, s.flow.Errors, s.flow.Finally)
	if !out.Done {
		return nil
	}
	s.endExecution(out.State)
	// afterExecution runs once the execution has ended, as in Kestra: its
	// tasks see the final state and do not change it.
	s.afterExecution()
	return nil
}

// afterExecution starts what may start of the afterExecution tasks.
func (s *Scope) afterExecution() {
	if hasEnabled(s.flow.AfterExecution) {
		s.Block(nil, "", nil, s.flow.AfterExecution, 1)
	}
}

// afterPending reports whether an ended execution still has
// afterExecution tasks to start or to finish.
func (s *Scope) afterPending() bool {
	for _, t := range s.flow.AfterExecution {
		if t.Disabled {
			continue
		}
		tr := s.Run(nil, t.ID, "", nil)
		if tr == nil || !tr.State.Current.IsTerminal() {
			return true
		}
	}
	return false
}

// timedOut enforces a flowable task's timeout: past it, everything still
// running below the task is killed and the task fails. Before it, a wake-up
// is asked for at the deadline. Pause reads timeout as its own property.
func (s *Scope) timedOut(t *flow.Task, tr *flow.TaskRun) bool {
	if t.Timeout == "" || len(tr.State.Histories) == 0 {
		return false
	}
	if fl, _ := s.engine.Types.Flowable(t); fl != nil {
		if o, ok := fl.(OwnTimeout); ok && o.OwnTimeout() {
			return false
		}
	}
	spec := t.Timeout
	if strings.Contains(spec, "{{") {
		out, err := s.Render(tr, spec)
		if err != nil {
			s.failRun(tr, fmt.Sprintf("timeout: %v", err))
			return true
		}
		spec = out
	}
	d, err := flow.ParseDuration(spec)
	if err != nil {
		s.failRun(tr, fmt.Sprintf("timeout: %v", err))
		return true
	}
	deadline := tr.State.Histories[0].Date.Add(d)
	if s.now.Before(deadline) {
		s.WakeAt(deadline)
		return false
	}
	s.killBelow(tr)
	if _, ok := s.group(t); ok && groupInFlight(tr) {
		s.fx.Cancel = append(s.fx.Cancel, tr.ID)
	}
	s.failRun(tr, fmt.Sprintf("task %s timed out after %s", t.ID, t.Timeout))
	return true
}

// killBelow kills every unfinished task run under parent, cancelling the
// running attempts of runnable ones.
func (s *Scope) killBelow(parent *flow.TaskRun) {
	for _, tr := range s.exec.TaskRunList {
		if tr.State.Current.IsTerminal() || !s.isBelow(tr, parent) {
			continue
		}
		if tr.State.Current == flow.StateRunning && s.hasJob(s.findTask(tr.TaskID)) {
			s.fx.Cancel = append(s.fx.Cancel, tr.ID)
		}
		s.setRunState(tr, flow.StateKilled)
	}
}

func (s *Scope) isBelow(tr, parent *flow.TaskRun) bool {
	for _, p := range s.exec.Parents(tr) {
		if p.ID == parent.ID {
			return true
		}
	}
	return false
}

// endExecution renders the flow outputs and moves the execution to its
// terminal state.
func (s *Scope) endExecution(st flow.State) {
	if len(s.flow.Outputs) > 0 && (st == flow.StateSuccess || st == flow.StateWarning) {
		vars := s.Vars(nil)
		outs := map[string]any{}
		for _, o := range s.flow.Outputs {
			v, err := s.renderOutput(o, vars)
			if err != nil {
				s.exec.Error = fmt.Sprintf("flow output %q: %v", o.ID, err)
				st = flow.StateFailed
				break
			}
			outs[o.ID] = v
		}
		if st != flow.StateFailed {
			s.exec.Outputs = outs
		}
	}
	s.setExecState(st)
	s.fx.Ended = true
}

// renderOutput renders a flow output and converts it to its declared type,
// as Kestra does: a STRING output of a map is its JSON text.
func (s *Scope) renderOutput(o *flow.Output, vars map[string]any) (any, error) {
	str, ok := o.Value.(string)
	if !ok {
		return s.renderAny(o.Value, vars)
	}
	out, err := s.engine.Renderer.Render(s.ctx, str, vars)
	if err != nil {
		return nil, err
	}
	switch strings.ToUpper(o.Type) {
	case "", "STRING", "ENUM", "SELECT", "EMAIL", "URI", "DATETIME", "DATE", "TIME", "DURATION", "SECRET":
		return out, nil
	case "INT":
		n, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an INT", out)
		}
		return n, nil
	case "FLOAT":
		f, err := strconv.ParseFloat(strings.TrimSpace(out), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a FLOAT", out)
		}
		return f, nil
	case "BOOLEAN":
		b, err := strconv.ParseBool(strings.TrimSpace(out))
		if err != nil {
			return nil, fmt.Errorf("%q is not a BOOLEAN", out)
		}
		return b, nil
	default: // JSON, ARRAY, YAML, …
		var v any
		if err := flow.DecodeJSON([]byte(out), &v); err != nil {
			return out, nil //nolint:nilerr // text that is not JSON stays text
		}
		return v, nil
	}
}

func (s *Scope) renderAny(v any, vars map[string]any) (any, error) {
	switch v := v.(type) {
	case string:
		return s.engine.Renderer.RenderTyped(s.ctx, v, vars)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			r, err := s.renderAny(x, vars)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case *ordered.Map:
		out := ordered.New(v.Len())
		for k, x := range v.All() {
			r, err := s.renderAny(x, vars)
			if err != nil {
				return nil, err
			}
			out.Set(k, r)
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			r, err := s.renderAny(x, vars)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// kill stops every running task run and ends the execution KILLED.
func (s *Scope) kill() {
	s.stopRuns()
	s.setExecState(flow.StateKilled)
	s.fx.Ended = true
}

// stopRuns kills every task run that has not ended, cancelling the
// attempts workers are running.
func (s *Scope) stopRuns() {
	for _, tr := range s.exec.TaskRunList {
		if tr.State.Current.IsTerminal() {
			continue
		}
		if tr.State.Current == flow.StateRunning && s.hasJob(s.findTask(tr.TaskID)) {
			s.fx.Cancel = append(s.fx.Cancel, tr.ID)
		}
		s.setRunState(tr, flow.StateKilled)
	}
}

// updatePaused keeps the execution's PAUSED state in step with its task runs.
func (s *Scope) updatePaused() {
	ex := s.exec
	if ex.State.Current.IsTerminal() {
		return
	}
	paused := s.anyPaused()
	switch {
	case paused && ex.State.Current == flow.StateRunning:
		s.setExecState(flow.StatePaused)
	case !paused && ex.State.Current == flow.StatePaused:
		s.setExecState(flow.StateRunning)
	}
}

// anyPaused reports whether a task run waits PAUSED (a Pause task).
func (s *Scope) anyPaused() bool {
	for _, tr := range s.exec.TaskRunList {
		if tr.State.Current == flow.StatePaused {
			return true
		}
	}
	return false
}

// Starter builds the execution of a subflow (loading the flow, checking
// its inputs); the runner implements it with the store.
type Starter interface {
	NewExecution(ctx context.Context, r StartRequest) (*flow.Execution, error)
}

// StartRequest asks for a new execution of a flow.
type StartRequest struct {
	Namespace string
	FlowID    string
	Revision  int // 0: latest
	Inputs    map[string]any
	Labels    []flow.Label
	Trigger   *flow.ExecutionTrigger
	ParentID  string
	// ScheduleDate, when set, starts the execution at that date.
	ScheduleDate *time.Time
}
