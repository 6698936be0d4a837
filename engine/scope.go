package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ospreyhq/osprey/flow"
)

// Scope is what a Flowable sees during one step: the execution, the flow,
// the clock, and the operations that change the execution.
type Scope struct {
	ctx        context.Context
	engine     *Engine
	flow       *flow.Flow
	exec       *flow.Execution
	now        time.Time
	related    map[string]*flow.Execution
	index      map[runKey]*flow.TaskRun
	byID       map[string]*flow.TaskRun // the task runs by id
	outs       map[string]any           // the outputs map; nil: to build (outputs)
	shared     *shared                  // the variables every task run shares
	tasks      map[string]*flow.Task    // the flow's tasks by id, built on first use
	fx         Effects
	progressed bool
}

// Context returns the step's context.
func (s *Scope) Context() context.Context { return s.ctx }

// Flow returns the flow revision the execution runs.
func (s *Scope) Flow() *flow.Flow { return s.flow }

// Execution returns the execution being advanced.
func (s *Scope) Execution() *flow.Execution { return s.exec }

// Now returns the step's time.
func (s *Scope) Now() time.Time { return s.now }

// Related returns an execution started by this one (a subflow), or nil.
func (s *Scope) Related(id string) *flow.Execution { return s.related[id] }

// RelatedOf returns the executions this one started from task run
// taskRunID (a ForEachItem's batches), in no particular order.
func (s *Scope) RelatedOf(taskRunID string) []*flow.Execution {
	var out []*flow.Execution
	for _, e := range s.related {
		if e.Trigger != nil && e.Trigger.Variables["taskRunId"] == taskRunID {
			out = append(out, e)
		}
	}
	return out
}

// WakeAt asks for another step no later than t.
func (s *Scope) WakeAt(t time.Time) {
	if s.fx.WakeAt == nil || t.Before(*s.fx.WakeAt) {
		t := t.UTC()
		s.fx.WakeAt = &t
	}
}

// StartExecution builds a new execution (a subflow) and asks the caller to
// create it with this step.
func (s *Scope) StartExecution(r StartRequest) (*flow.Execution, error) {
	if s.engine.Starter == nil {
		return nil, fmt.Errorf("starting executions is not available here")
	}
	e, err := s.engine.Starter.NewExecution(s.ctx, r)
	if err != nil {
		return nil, err
	}
	s.fx.NewExecutions = append(s.fx.NewExecutions, e)
	if s.related == nil {
		s.related = map[string]*flow.Execution{}
	}
	s.related[e.ID] = e
	s.touch()
	return e, nil
}

// Send asks the caller to store command c for execution id with this
// step: only the executor writes an execution, so a flowable changes
// another execution (a batch's subflow) through a command.
func (s *Scope) Send(id string, c Command) {
	for _, o := range s.fx.Send {
		if o.ExecutionID == id && o.Command.Kind == c.Kind {
			return // a later pass of the same step
		}
	}
	s.fx.Send = append(s.fx.Send, Sent{ExecutionID: id, Command: c})
}

// Render renders tmpl with the variables of task run tr (nil: flow level).
func (s *Scope) Render(tr *flow.TaskRun, tmpl string) (string, error) {
	return s.engine.Renderer.Render(s.ctx, tmpl, s.Vars(tr))
}

// RenderTyped renders tmpl keeping the type of a lone expression.
func (s *Scope) RenderTyped(tr *flow.TaskRun, tmpl string) (any, error) {
	return s.engine.Renderer.RenderTyped(s.ctx, tmpl, s.Vars(tr))
}

// RenderValue renders every string inside v (maps, lists) for tr.
func (s *Scope) RenderValue(tr *flow.TaskRun, v any) (any, error) {
	return s.renderAny(v, s.Vars(tr))
}

// SetOutputs replaces a task run's outputs (flowables that expose some).
func (s *Scope) SetOutputs(tr *flow.TaskRun, outs map[string]any) {
	tr.Outputs = outs
	s.outputsChanged()
	s.touch()
}

// SetItems records a flowable's resolved iteration values or branch.
// A loop wider than the engine's MaxLoopItems is refused: every value
// becomes a task run stored with the execution.
func (s *Scope) SetItems(tr *flow.TaskRun, items []string) error {
	if n := s.engine.maxLoopItems(); len(items) > n {
		return fmt.Errorf("%d loop values exceed osprey.limits.loop-items (%d): split the values and start one Subflow (or ForEachItem batch) per slice, or raise the limit", len(items), n)
	}
	tr.Items = items
	s.touch()
	return nil
}

// MaxLoopItems is osprey.limits.loop-items: how many values a loop, or
// batches a ForEachItem, may have.
func (s *Scope) MaxLoopItems() int { return s.engine.maxLoopItems() }

// SetState moves a task run to st (Pause uses it to pause and resume).
func (s *Scope) SetState(tr *flow.TaskRun, st flow.State) { s.setRunState(tr, st) }

// Fail ends a task run as FAILED with msg.
func (s *Scope) Fail(tr *flow.TaskRun, msg string) { s.failRun(tr, msg) }

// Run returns the child task run of parent (nil: top level) of task
// taskID with the given loop value and iteration (nil: none), or nil.
func (s *Scope) Run(parent *flow.TaskRun, taskID, value string, iteration *int) *flow.TaskRun {
	pid := ""
	if parent != nil {
		pid = parent.ID
	}
	return s.index[key(pid, taskID, value, iteration)]
}

// runKey names a task run by its place: parent, task, loop value and
// iteration. A struct, not a joined string, so indexing a wide execution
// at every step allocates nothing per task run.
type runKey struct {
	parentID, taskID, value string
	iteration               int
	iterated                bool
}

func key(parentID, taskID, value string, iteration *int) runKey {
	k := runKey{parentID: parentID, taskID: taskID, value: value}
	if iteration != nil {
		k.iteration, k.iterated = *iteration, true
	}
	return k
}

// findTask returns the flow's task id, or nil: flow.FindTask walks the
// whole flow, and a step looks up the task of every running task run.
func (s *Scope) findTask(id string) *flow.Task {
	if s.tasks == nil {
		all := s.flow.AllTasks()
		s.tasks = make(map[string]*flow.Task, len(all))
		for _, t := range all {
			if _, dup := s.tasks[t.ID]; !dup { // the first, as FindTask
				s.tasks[t.ID] = t
			}
		}
	}
	return s.tasks[id]
}

// parents returns the ancestors of tr, nearest first, through the id
// index: a wide execution's list is not scanned once per task run.
func (s *Scope) parents(tr *flow.TaskRun) []*flow.TaskRun {
	var out []*flow.TaskRun
	for tr != nil && tr.ParentTaskRunID != "" {
		tr = s.byID[tr.ParentTaskRunID]
		if tr != nil {
			out = append(out, tr)
		}
	}
	return out
}

func (s *Scope) touch() {
	s.progressed = true
	s.fx.Changed = true
}

// Create adds a task run of t under parent with a loop value and
// iteration. A disabled task is never created (callers skip it); a task
// whose runIf renders false is created SKIPPED. Flowable tasks start
// RUNNING; runnable ones are dispatched.
func (s *Scope) Create(t *flow.Task, parent *flow.TaskRun, value string, iteration *int) *flow.TaskRun {
	pid := ""
	if parent != nil {
		pid = parent.ID
	}
	newID := s.engine.NewID
	if newID == nil {
		newID = flow.NewID
	}
	tr := &flow.TaskRun{
		ID:              newID(),
		ExecutionID:     s.exec.ID,
		Namespace:       s.exec.Namespace,
		FlowID:          s.exec.FlowID,
		TaskID:          t.ID,
		ParentTaskRunID: pid,
		Value:           value,
		Iteration:       iteration,
		State:           flow.NewStateInfo(flow.StateCreated, s.now),
	}
	s.exec.TaskRunList = append(s.exec.TaskRunList, tr)
	s.index[key(pid, t.ID, value, iteration)] = tr
	s.byID[tr.ID] = tr
	s.touch()

	if t.RunIf != "" {
		out, err := s.Render(tr, t.RunIf)
		if err != nil {
			s.failRun(tr, fmt.Sprintf("runIf: %v", err))
			return tr
		}
		if !Truthy(out) {
			s.setRunState(tr, flow.StateSkipped)
			return tr
		}
	}
	fl, err := s.engine.Types.Flowable(t)
	if err != nil {
		s.failRun(tr, err.Error())
		return tr
	}
	s.setRunState(tr, flow.StateRunning)
	if fl == nil {
		s.dispatch(tr, t)
	} else if g, ok := fl.(Group); ok {
		s.dispatchGroup(tr, t, g)
	}
	return tr
}

func (s *Scope) dispatch(tr *flow.TaskRun, t *flow.Task) {
	attempt := len(tr.Attempts) + 1
	s.fx.Dispatch = append(s.fx.Dispatch, Dispatch{TaskRun: tr, Task: t, Attempt: attempt, lazy: s.lazyVars(tr)})
}

func (s *Scope) setRunState(tr *flow.TaskRun, st flow.State) {
	if tr.State.Current == st {
		return
	}
	tr.State.Set(st, s.now)
	s.touch()
}

func (s *Scope) setExecState(st flow.State) {
	if s.exec.State.Current == st {
		return
	}
	s.exec.State.Set(st, s.now)
	s.touch()
}

func (s *Scope) failRun(tr *flow.TaskRun, msg string) {
	if tr.Error == "" {
		tr.Error = msg
	}
	s.Log(tr, "ERROR", msg)
	s.setRunState(tr, flow.StateFailed)
}

// Log adds a line from the executor to the task run's log.
func (s *Scope) Log(tr *flow.TaskRun, level, msg string) {
	s.fx.Logs = append(s.fx.Logs, flow.LogEntry{
		Namespace: s.exec.Namespace, FlowID: s.exec.FlowID, TaskID: tr.TaskID, ExecutionID: s.exec.ID,
		TaskRunID: tr.ID, Timestamp: s.now, Level: level, Thread: "executor", Message: msg,
	})
}

// AddAttempt records one attempt on a task run the executor ran itself
// (a Subflow), as Kestra gives executable tasks an attempt.
func (s *Scope) AddAttempt(tr *flow.TaskRun, st flow.State) {
	start := s.now
	if len(tr.State.Histories) > 0 {
		start = tr.State.Histories[0].Date
	}
	att := flow.TaskRunAttempt{State: flow.NewStateInfo(flow.StateRunning, start)}
	att.State.Set(st, s.now)
	tr.Attempts = append(tr.Attempts, att)
	s.touch()
}

// allowed applies allowFailure and allowWarning to a task's final state.
func (s *Scope) allowed(t *flow.Task, st flow.State) flow.State {
	if t.AllowFailure && st == flow.StateFailed {
		// Kestra: allowFailure ? (allowWarning ? SUCCESS : WARNING) : FAILED.
		if t.AllowWarning {
			return flow.StateSuccess
		}
		return flow.StateWarning
	}
	if t.AllowWarning && st == flow.StateWarning {
		return flow.StateSuccess
	}
	return st
}

// applyResult records a worker's attempt and settles the task run, or
// schedules a retry.
func (s *Scope) applyResult(r Result) {
	tr := s.byID[r.TaskRunID]
	if tr == nil || r.Attempt != len(tr.Attempts)+1 {
		return // duplicate delivery
	}
	t := s.findTask(tr.TaskID)
	if _, ok := s.group(t); ok {
		s.applyGroupResult(tr, r)
		return
	}
	if tr.State.Current.IsTerminal() {
		return // a late result for a killed or restarted run
	}
	// What the worker knows of a lost run is that it ended before this
	// one started.
	s.recordAttempt(tr, r)
	if r.Outputs != nil {
		tr.Outputs = r.Outputs
		s.outputsChanged()
	}
	if len(r.Labels) > 0 {
		s.exec.Labels = mergeLabels(s.exec.Labels, r.Labels)
	}
	s.touch()
	if r.State == flow.StateFailed && t != nil {
		p := s.retryPolicy(t, tr)
		if retriesExecution(p) {
			if next, ok := s.nextExecutionRetry(p); ok {
				tr.Error = r.Error
				s.retryExecution(tr, next)
				return
			}
		} else if next, ok := s.nextRetry(p, tr); ok {
			tr.Error = r.Error
			tr.RetryAt = &next
			s.setRunState(tr, flow.StateRetrying)
			s.WakeAt(next)
			return
		}
	}
	tr.Error = r.Error
	tr.RetryAt = nil
	st := r.State
	if st == flow.StateSuccess && len(tr.Attempts) > 1 && t != nil {
		if w, _ := s.retryPolicy(t, tr)["warningOnRetry"].(bool); w {
			st = flow.StateWarning
		}
	}
	if t != nil {
		st = s.allowed(t, st)
	}
	s.setRunState(tr, st)
}

// retryExecution ends the execution as RETRIED, tr (the failed task run)
// RETRIED and whatever still runs KILLED, and creates the chain's next
// execution in the same step: a fresh run of the same flow revision with
// the same inputs, labels and trigger, scheduled for next (Kestra's
// retry behavior CREATE_NEW_EXECUTION).
func (s *Scope) retryExecution(tr *flow.TaskRun, next time.Time) {
	s.setRunState(tr, flow.StateRetried)
	s.stopRuns()
	s.setExecState(flow.StateRetried)
	s.fx.Ended = true

	src := s.exec
	created := s.now
	if len(src.State.Histories) > 0 {
		created = src.State.Histories[0].Date
	}
	meta := &flow.ExecutionMetadata{AttemptNumber: 2, OriginalCreatedDate: &created}
	if src.Metadata != nil {
		meta.AttemptNumber = max(src.Metadata.AttemptNumber, 1) + 1
		if src.Metadata.OriginalCreatedDate != nil {
			meta.OriginalCreatedDate = src.Metadata.OriginalCreatedDate
		}
	}
	at := next.UTC()
	s.fx.NewExecutions = append(s.fx.NewExecutions, &flow.Execution{
		ID:           flow.NewID(),
		TenantID:     src.TenantID,
		Namespace:    src.Namespace,
		FlowID:       src.FlowID,
		FlowRevision: src.FlowRevision,
		Inputs:       src.Inputs,
		Labels:       slices.Clone(src.Labels),
		Variables:    src.Variables,
		Trigger:      src.Trigger,
		ParentID:     src.ParentID,
		OriginalID:   src.ID,
		ScheduleDate: &at,
		State:        flow.NewStateInfo(flow.StateCreated, s.now),
		Metadata:     meta,
	})
	s.touch()
}

func (s *Scope) retryIfDue(tr *flow.TaskRun) {
	if tr.RetryAt != nil && s.now.Before(*tr.RetryAt) {
		s.WakeAt(*tr.RetryAt)
		return
	}
	t := s.findTask(tr.TaskID)
	if t == nil {
		s.failRun(tr, "task removed from the flow")
		return
	}
	tr.RetryAt = nil
	if g, ok := s.group(t); ok {
		// A restarted group runs again as a whole, in a fresh directory.
		s.setRunState(tr, flow.StateRunning)
		s.dispatchGroup(tr, t, g)
		return
	}
	if fl, err := s.engine.Types.Flowable(t); err == nil && fl != nil {
		// An executable task (a Subflow) runs again in the executor: a
		// fresh attempt starts a fresh child execution.
		if tr.State.Current == flow.StateRetrying {
			tr.Outputs = nil
			s.outputsChanged()
		}
		s.setRunState(tr, flow.StateRunning)
		return
	}
	s.setRunState(tr, flow.StateRunning)
	s.dispatch(tr, t)
}

// retryExecutable schedules another attempt of an executable task run (a
// Subflow: the executor records its attempts) that failed, when its retry
// policy allows one; Kestra retries executable tasks with the task's,
// a parent's or the flow's policy (RetryCaseTest#retrySubflow).
func (s *Scope) retryExecutable(t *flow.Task, tr *flow.TaskRun) bool {
	p := s.retryPolicy(t, tr)
	if retriesExecution(p) {
		return false
	}
	next, ok := s.nextRetry(p, tr)
	if !ok {
		return false
	}
	tr.RetryAt = &next
	s.setRunState(tr, flow.StateRetrying)
	s.WakeAt(next)
	return true
}

func mergeLabels(have, add []flow.Label) []flow.Label {
	out := append([]flow.Label(nil), have...)
	for _, l := range add {
		found := false
		for i := range out {
			if out[i].Key == l.Key {
				out[i].Value = l.Value
				found = true
			}
		}
		if !found {
			out = append(out, l)
		}
	}
	return out
}

// RenderWith renders tmpl (any value: strings inside maps and lists too)
// with the given variables instead of a task run's.
func (s *Scope) RenderWith(vars map[string]any, v any) (any, error) {
	return s.renderAny(v, vars)
}
