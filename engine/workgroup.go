package engine

import (
	"maps"
	"time"

	"github.com/ospreyhq/osprey/flow"
)

// A work group is a flowable whose children one worker runs, one after the
// other, in one job and one working directory: Kestra's WorkingDirectory.
// Kestra's executor sends the whole task to one worker, which runs the
// children in order, sharing its directory, and reports a task run per
// child (Worker#handleTask, ExecutorService#addDynamicTaskRun). Osprey does
// the same through one job: the group's task run is dispatched like a
// runnable, with its children's task runs named in the payload; the result
// carries one Result per child, and the step that applies it adds the
// children's task runs under the group's. A worker lost mid-group loses the
// whole job, which runs again from the first child, in a fresh directory,
// as Kestra retries a WorkingDirectory's WorkerTask as a whole. The group's
// errors and finally tasks run afterwards as any flowable's do.

// Group is implemented by a flowable whose children a worker runs in one
// job. GroupTasks lists them, in order.
type Group interface {
	Flowable
	GroupTasks() []*flow.Task
}

// GroupChild is one child of a group job: the task run it will be, and
// the path under which its outputs join the outputs variable (its
// ancestors' loop values), so that the next child reads them.
type GroupChild struct {
	TaskID     string        `json:"taskId"`
	TaskRun    *flow.TaskRun `json:"taskRun"`
	OutputKeys []string      `json:"outputKeys,omitempty"`
	// Retry is the child's retry policy (its own, else the nearest
	// parent's, else the flow's); the worker retries the child in the
	// group's directory with it (RetryAt).
	Retry map[string]any `json:"retry,omitempty"`
}

// group returns t's flowable as a Group, when it is one.
func (s *Scope) group(t *flow.Task) (Group, bool) {
	if t == nil {
		return nil, false
	}
	fl, err := s.engine.Types.Flowable(t)
	if err != nil || fl == nil {
		return nil, false
	}
	g, ok := fl.(Group)
	return g, ok
}

// hasJob reports whether a worker runs t's task runs: a runnable, or a
// group (whose job must be cancelled on a kill or a timeout).
func (s *Scope) hasJob(t *flow.Task) bool {
	if t == nil {
		return false
	}
	fl, err := s.engine.Types.Flowable(t)
	if err != nil {
		return false
	}
	if fl == nil {
		return true
	}
	_, ok := fl.(Group)
	return ok
}

// dispatchGroup queues the one job that runs g's children under tr.
func (s *Scope) dispatchGroup(tr *flow.TaskRun, t *flow.Task, g Group) {
	newID := s.engine.NewID
	if newID == nil {
		newID = flow.NewID
	}
	var children []GroupChild
	for _, c := range g.GroupTasks() {
		if c.Disabled {
			continue
		}
		child := &flow.TaskRun{
			ID: newID(), ExecutionID: tr.ExecutionID, Namespace: tr.Namespace, FlowID: tr.FlowID,
			TaskID: c.ID, ParentTaskRunID: tr.ID,
			State: flow.NewStateInfo(flow.StateCreated, s.now),
		}
		children = append(children, GroupChild{TaskID: c.ID, TaskRun: child, OutputKeys: outputKeys(s.exec, child), Retry: s.retryPolicy(c, child)})
	}
	attempt := len(tr.Attempts) + 1
	s.fx.Dispatch = append(s.fx.Dispatch, Dispatch{TaskRun: tr, Task: t, Attempt: attempt, Vars: s.Vars(tr), Children: children})
}

// applyGroupResult records a group job's result: one attempt on the
// group's task run, and a task run per child that ran, with its attempt,
// outputs and state (allowFailure and allowWarning applied). The group's
// task run stays RUNNING: Group settles it, after its errors and finally.
// A result that comes after the group ended (killed, timed out) still
// records its children, so their logs have their task runs.
func (s *Scope) applyGroupResult(tr *flow.TaskRun, r Result) {
	s.recordAttempt(tr, r)
	if r.Outputs != nil {
		tr.Outputs = r.Outputs
	}
	if len(r.Labels) > 0 {
		s.exec.Labels = mergeLabels(s.exec.Labels, r.Labels)
	}
	if r.Error != "" && tr.Error == "" {
		tr.Error = r.Error
	}
	for _, c := range r.Children {
		if s.byID[c.TaskRunID] != nil {
			continue
		}
		child := &flow.TaskRun{
			ID: c.TaskRunID, ExecutionID: tr.ExecutionID, Namespace: tr.Namespace, FlowID: tr.FlowID,
			TaskID: c.TaskID, ParentTaskRunID: tr.ID,
			State: flow.NewStateInfo(flow.StateCreated, c.Started), Outputs: c.Outputs, Error: c.Error,
		}
		st := c.State
		if st != flow.StateSkipped {
			child.State.Set(flow.StateRunning, c.Started)
			att := flow.TaskRunAttempt{WorkerID: c.WorkerID, Metrics: c.Metrics, State: flow.NewStateInfo(flow.StateRunning, c.Started)}
			att.State.Set(c.State, c.Ended)
			for _, r := range c.Retried {
				earlier := flow.TaskRunAttempt{WorkerID: r.WorkerID, Metrics: r.Metrics, State: flow.NewStateInfo(flow.StateRunning, r.Started)}
				earlier.State.Set(r.State, r.Ended)
				child.Attempts = append(child.Attempts, earlier)
			}
			child.Attempts = append(child.Attempts, att)
			if t := s.findTask(c.TaskID); t != nil {
				if w, _ := s.retryPolicy(t, child)["warningOnRetry"].(bool); w && st == flow.StateSuccess && len(c.Retried) > 0 {
					st = flow.StateWarning
				}
				st = s.allowed(t, st)
			}
		}
		child.State.Set(st, c.Ended)
		s.exec.TaskRunList = append(s.exec.TaskRunList, child)
		s.index[key(tr.ID, c.TaskID, "", nil)] = child
		s.byID[child.ID] = child
	}
	s.outputsChanged()
	s.touch()
}

// recordAttempt appends a worker's attempt (and the lost runs before it)
// to tr.
func (s *Scope) recordAttempt(tr *flow.TaskRun, r Result) {
	for range r.Lost {
		lost := flow.TaskRunAttempt{State: flow.NewStateInfo(flow.StateRunning, r.Started)}
		lost.State.Set(flow.StateResubmitted, r.Started)
		tr.Attempts = append(tr.Attempts, lost)
	}
	att := flow.TaskRunAttempt{WorkerID: r.WorkerID, Metrics: r.Metrics, LogFile: r.LogFile}
	att.State = flow.NewStateInfo(flow.StateRunning, r.Started)
	att.State.Set(r.State, r.Ended)
	tr.Attempts = append(tr.Attempts, att)
}

// Group settles a group's task run once its job reported: the worst state
// of its children and of the job itself (a failure writing inputFiles or
// storing outputFiles fails the group with no child at fault), then errors
// if it failed, then finally, as Sequential.
func (s *Scope) Group(parent *flow.TaskRun, errs, finally []*flow.Task) Outcome {
	if groupInFlight(parent) {
		return Outcome{} // the job runs
	}
	st := flow.StateSuccess
	if last := parent.Attempts[len(parent.Attempts)-1].State.Current; last == flow.StateFailed || last == flow.StateKilled {
		st = last
	}
	for _, c := range s.exec.Children(parent.ID) {
		if c.State.Current.IsTerminal() && !s.inList(c.TaskID, errs, finally) {
			st = Worst(st, c.State.Current)
		}
	}
	if st == flow.StateFailed && hasEnabled(errs) {
		if _, done := s.Block(parent, parent.Value, nil, errs, 1); !done {
			return Outcome{}
		}
	}
	if hasEnabled(finally) {
		fst, done := s.Block(parent, parent.Value, nil, finally, 1)
		if !done {
			return Outcome{}
		}
		st = Worst(st, fst)
	}
	return Outcome{Done: true, State: st}
}

// groupInFlight reports whether a group's job has not reported yet: each
// dispatch moves the task run to RUNNING from CREATED or RESTARTED, and
// each report adds one attempt (lost runs aside).
func groupInFlight(tr *flow.TaskRun) bool {
	dispatched := 0
	for i := 1; i < len(tr.State.Histories); i++ {
		prev := tr.State.Histories[i-1].State
		if tr.State.Histories[i].State == flow.StateRunning && (prev == flow.StateCreated || prev == flow.StateRestarted) {
			dispatched++
		}
	}
	reported := 0
	for _, a := range tr.Attempts {
		if a.State.Current != flow.StateResubmitted {
			reported++
		}
	}
	return reported < dispatched
}

// isGroup reports whether t is a group (Group).
func isGroup(types Types, t *flow.Task) bool {
	fl, err := types.Flowable(t)
	if err != nil || fl == nil {
		return false
	}
	_, ok := fl.(Group)
	return ok
}

func (s *Scope) inList(id string, lists ...[]*flow.Task) bool {
	for _, l := range lists {
		for _, t := range l {
			if t.ID == id {
				return true
			}
		}
	}
	return false
}

// outputKeys is the path of tr's outputs in the outputs variable: its
// ancestors' loop values, outermost first, then its own (as Outputs).
func outputKeys(ex *flow.Execution, tr *flow.TaskRun) []string {
	var keys []string
	parents := ex.Parents(tr)
	for i := len(parents) - 1; i >= 0; i-- {
		if parents[i].Value != "" {
			keys = append(keys, parents[i].Value)
		}
	}
	if tr.Value != "" {
		keys = append(keys, tr.Value)
	}
	return keys
}

// ChildVars returns the expression variables of a group's child from the
// group's own (groupVars, as the job carries them), as Kestra's worker
// builds them (RunContextInitializer#forWorkingDirectory): the child's task
// and task run, whose value is the group's (a child task run has no value
// of its own, so its outputs nest under its ancestors' values only), the
// group's task run as workerTaskrun, and the group's parent and parents.
// The outputs of the children before it join with AddChildOutputs.
func ChildVars(groupVars map[string]any, group *flow.TaskRun, c GroupChild, t *flow.Task, started time.Time) map[string]any {
	v := maps.Clone(groupVars)
	if v == nil {
		v = map[string]any{}
	}
	v["task"] = map[string]any{"id": t.ID, "type": t.Type}
	v["workerTaskrun"] = groupVars["taskrun"]
	v["taskrun"] = map[string]any{
		"id":            c.TaskRun.ID,
		"startDate":     FormatDate(started),
		"attemptsCount": 0,
		"parentId":      group.ID,
		"value":         nilIfEmpty(group.Value),
	}
	return v
}

// AddChildOutputs adds a finished child's outputs to vars' outputs map
// (in place: the map belongs to the group job), where the next children
// read them as outputs.<id>.
func AddChildOutputs(vars map[string]any, c GroupChild, outs map[string]any) {
	if len(outs) == 0 {
		return
	}
	all, ok := vars["outputs"].(map[string]any)
	if !ok {
		all = map[string]any{}
		vars["outputs"] = all
	}
	if len(c.OutputKeys) == 0 {
		all[c.TaskID] = mergeMaps(asMap(all[c.TaskID]), outs)
		return
	}
	cur := asMap(all[c.TaskID])
	all[c.TaskID] = cur
	for i, k := range c.OutputKeys {
		if i == len(c.OutputKeys)-1 {
			cur[k] = mergeMaps(asMap(cur[k]), outs)
			return
		}
		next := asMap(cur[k])
		cur[k] = next
		cur = next
	}
}
