package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
)

// CommandKind names what a Command asks of an execution.
type CommandKind string

// The commands an execution accepts from outside the executor, as
// Kestra's API offers them.
const (
	// CommandKill stops the execution and, through the executor, its
	// subflow executions.
	CommandKill CommandKind = "KILL"
	// CommandResume continues a PAUSED execution; OnResume holds the
	// paused tasks' onResume outputs.
	CommandResume CommandKind = "RESUME"
	// CommandRestart runs a FAILED or KILLED execution again from where it
	// failed.
	CommandRestart CommandKind = "RESTART"
	// CommandChangeStatus sets the state of an ended execution, or, with
	// TaskRunID, of one of its task runs (Kestra's change-status and
	// task run state actions).
	CommandChangeStatus CommandKind = "CHANGE_STATUS"
	// CommandPause holds a RUNNING execution: running task runs finish,
	// nothing new starts until a resume.
	CommandPause CommandKind = "PAUSE"
	// CommandForceRun starts a CREATED or QUEUED execution now, past its
	// schedule date and its flow's concurrency limit.
	CommandForceRun CommandKind = "FORCE_RUN"
	// CommandSetLabels adds Labels to an ended execution, replacing the
	// values of the keys it already has (Kestra's setLabels).
	CommandSetLabels CommandKind = "SET_LABELS"
	// CommandUnqueue takes a QUEUED execution out of its flow's
	// concurrency queue: State RUNNING starts it now, past the limit;
	// CANCELLED or FAILED ends it without running (Kestra's unqueue).
	CommandUnqueue CommandKind = "UNQUEUE"
)

// UnqueueStates are the states CommandUnqueue may move an execution to,
// as Kestra's ConcurrencyLimitService allows.
var UnqueueStates = []flow.State{flow.StateRunning, flow.StateCancelled, flow.StateFailed}

// SystemLabelPrefix starts the labels only Osprey sets (system.correlationId,
// …); a command may not add or change one.
const SystemLabelPrefix = "system."

// Command is a change to an execution asked from outside the executor.
// The API stores it; the executor applies it with Apply in the step whose
// transaction saves the result, so the executor is the only writer of an
// execution's state.
type Command struct {
	Kind CommandKind `json:"kind"`
	// OnResume are, for CommandResume, the typed onResume outputs of the
	// paused tasks, by task id.
	OnResume map[string]map[string]any `json:"onResume,omitempty"`
	// State is CommandChangeStatus's new state.
	State flow.State `json:"state,omitempty"`
	// TaskRunID, for CommandChangeStatus, names the task run to change
	// instead of the execution.
	TaskRunID string `json:"taskRunId,omitempty"`
	// NoCascade, for CommandKill, leaves the subflow executions running
	// (Kestra's isOnKillCascade=false).
	NoCascade bool `json:"noCascade,omitempty"`
	// Labels are CommandSetLabels' labels.
	Labels []flow.Label `json:"labels,omitempty"`
	// EndedBefore, for CommandRestart, restarts the execution only if it
	// reached its failed state before this time, and otherwise does
	// nothing: a parent's ForEachItem sends it to a failed batch's
	// execution on every step until the restart shows, and only the first
	// may restart it.
	EndedBefore *time.Time `json:"endedBefore,omitempty"`
}

// Sent is a command a step sends to another execution (a parent's
// ForEachItem restarting a batch's execution); the executor stores it
// with the step, and the target's executor applies it.
type Sent struct {
	ExecutionID string
	Command     Command
}

// RestartedLabel marks an execution that was restarted, as Kestra labels
// it (Label.RESTARTED).
var RestartedLabel = flow.Label{Key: SystemLabelPrefix + "restarted", Value: "true"}

// Applied reports what the executor must do beyond saving the execution.
type Applied struct {
	// KillSubflows asks to send a kill to the execution's subflow
	// executions.
	KillSubflows bool
	// ForceRun asks to start the execution now, past its schedule date
	// and its flow's concurrency limit.
	ForceRun bool
	// WakeParent asks to step the parent execution: a batch's execution
	// that cannot restart failed again, and the parent's ForEachItem
	// waiting for it counts it so.
	WakeParent bool
}

// ConcurrentChildren is implemented by flowables whose children do not
// run one after the other (Parallel, EachParallel, Dag): nothing in them
// comes after anything, which replay needs to know.
type ConcurrentChildren interface {
	ConcurrentChildren() bool
}

// OwnTimeout is implemented by flowables that read the task's timeout as
// a property of their own (Pause: how long to wait for a resume), so the
// engine does not enforce it on them.
type OwnTimeout interface {
	OwnTimeout() bool
}

// FailedRetrier is an optional interface of a Flowable that starts
// executions (ForEachItem's batches): when RetriesFailed is true, a restart
// keeps its outputs, so that it starts again only what failed.
type FailedRetrier interface {
	RetriesFailed() bool
}

func retriesFailed(types Types, t *flow.Task) bool {
	fl, err := types.Flowable(t)
	r, ok := fl.(FailedRetrier)
	return err == nil && ok && r.RetriesFailed()
}

// runnable reports whether a worker runs t (it is not a flowable).
func runnable(types Types, t *flow.Task) bool {
	fl, err := types.Flowable(t)
	return err == nil && fl == nil
}

// Apply carries out c on ex, in memory, as of now. f may be nil when the
// execution's flow revision cannot be loaded; the commands that need it
// are then refused. It is pure: the
// executor calls it in a step and saves ex; the API calls it on a copy to
// check a command up front and to answer with the execution as it will
// be. A command that does not fit the execution's state returns an error
// wrapping ErrInvalidTransition and leaves ex unchanged, but for a batch's
// restart (EndedBefore) whose flow revision is gone: the execution ends
// again as it was, so that the parent waiting for it carries on.
func Apply(types Types, f *flow.Flow, ex *flow.Execution, c Command, now time.Time) (Applied, error) {
	now = now.UTC()
	if c.Kind == CommandRestart && c.EndedBefore != nil {
		if !ex.State.Current.IsFailed() || !endedBefore(ex, *c.EndedBefore) {
			return Applied{}, nil // restarted already
		}
		if f == nil {
			// The parent waits for this batch until it ends after the
			// parent's restart: it ends again, as it was.
			now = now.Truncate(time.Millisecond)
			ex.State.Histories = append(ex.State.Histories, flow.StateHistory{State: ex.State.Current, Date: now})
			ex.State.EndDate = &now
			return Applied{WakeParent: true}, fmt.Errorf("execution %s: its flow revision %d cannot be loaded, so it stays %s: %w", ex.ID, ex.FlowRevision, ex.State.Current, ErrInvalidTransition)
		}
	}
	if f == nil && (c.Kind == CommandRestart || c.TaskRunID != "") {
		return Applied{}, fmt.Errorf("execution %s: its flow revision %d cannot be loaded: %w", ex.ID, ex.FlowRevision, ErrInvalidTransition)
	}
	switch c.Kind {
	case CommandKill:
		cascade := Applied{KillSubflows: !c.NoCascade}
		if ex.State.Current.IsTerminal() {
			// Nothing to stop here, but subflows started with wait: false
			// may still run.
			return cascade, nil
		}
		if ex.State.Current != flow.StateKilling {
			ex.State.Set(flow.StateKilling, now)
		}
		return cascade, nil
	case CommandResume:
		return Applied{}, resume(ex, c.OnResume, now)
	case CommandRestart:
		return Applied{}, restart(types, f, ex, now)
	case CommandChangeStatus:
		if c.TaskRunID != "" {
			return Applied{}, markTaskRun(types, f, ex, c.TaskRunID, c.State, now)
		}
		return Applied{}, changeStatus(ex, c.State, now)
	case CommandPause:
		if ex.State.Current != flow.StateRunning {
			return Applied{}, fmt.Errorf("execution %s is %s; only a RUNNING execution pauses: %w", ex.ID, ex.State.Current, ErrInvalidTransition)
		}
		ex.State.Set(flow.StatePaused, now)
		return Applied{}, nil
	case CommandForceRun:
		if ex.State.Current != flow.StateCreated && ex.State.Current != flow.StateQueued {
			return Applied{}, fmt.Errorf("execution %s is %s; only a CREATED or QUEUED execution is forced to run: %w", ex.ID, ex.State.Current, ErrInvalidTransition)
		}
		return Applied{ForceRun: true}, nil
	case CommandSetLabels:
		return Applied{}, setLabels(ex, c.Labels)
	case CommandUnqueue:
		if ex.State.Current != flow.StateQueued {
			return Applied{}, fmt.Errorf("execution %s is %s; only a QUEUED execution is unqueued: %w", ex.ID, ex.State.Current, ErrInvalidTransition)
		}
		if !slices.Contains(UnqueueStates, c.State) {
			return Applied{}, fmt.Errorf("an execution is unqueued to RUNNING, CANCELLED or FAILED, not %q: %w", c.State, ErrInvalidTransition)
		}
		if c.State == flow.StateRunning {
			return Applied{ForceRun: true}, nil
		}
		ex.State.Set(c.State, now)
		return Applied{}, nil
	}
	return Applied{}, fmt.Errorf("unknown command %q: %w", c.Kind, ErrInvalidTransition)
}

// setLabels adds labels to an ended execution as Kestra's setLabels does:
// a key it has takes the new value in place, a new key is appended, and
// a system label may only be repeated as it is.
func setLabels(ex *flow.Execution, labels []flow.Label) error {
	if !ex.State.Current.IsTerminal() {
		return fmt.Errorf("execution %s is %s; labels are set on an ended execution: %w", ex.ID, ex.State.Current, ErrInvalidTransition)
	}
	for _, l := range labels {
		if strings.HasPrefix(l.Key, SystemLabelPrefix) && !slices.Contains(ex.Labels, l) {
			return fmt.Errorf("label %s: system labels are set by Osprey only: %w", l.Key, ErrInvalidTransition)
		}
	}
	for _, l := range labels {
		if l.Key == "" && l.Value == "" {
			continue
		}
		i := slices.IndexFunc(ex.Labels, func(old flow.Label) bool { return old.Key == l.Key })
		if i >= 0 {
			ex.Labels[i].Value = l.Value
			continue
		}
		ex.Labels = append(ex.Labels, l)
	}
	return nil
}

// ApplyAll applies the commands in order, as one step does. A command
// refused because the execution moved on since the API accepted it
// becomes a WARN line of the execution's log.
func ApplyAll(types Types, f *flow.Flow, ex *flow.Execution, cmds []Command, now time.Time) (Applied, []flow.LogEntry) {
	var all Applied
	var logs []flow.LogEntry
	for _, c := range cmds {
		a, err := Apply(types, f, ex, c, now)
		all.WakeParent = all.WakeParent || a.WakeParent // also when refused
		if err != nil {
			logs = append(logs, flow.LogEntry{
				Namespace: ex.Namespace, FlowID: ex.FlowID, ExecutionID: ex.ID, Timestamp: now.UTC(),
				Level: "WARN", Thread: "executor", Message: fmt.Sprintf("%s refused: %v", c.Kind, err),
			})
			continue
		}
		all.KillSubflows = all.KillSubflows || a.KillSubflows
		all.ForceRun = all.ForceRun || a.ForceRun
	}
	return all, logs
}

// resume continues a paused execution: each paused task run runs again
// with its onResume outputs. A paused execution with no paused task run
// (a manual pause) simply runs on.
func resume(ex *flow.Execution, onResume map[string]map[string]any, now time.Time) error {
	if ex.State.Current != flow.StatePaused {
		return fmt.Errorf("execution %s is %s, not PAUSED: %w", ex.ID, ex.State.Current, ErrInvalidTransition)
	}
	for _, tr := range ex.TaskRunList {
		if tr.State.Current != flow.StatePaused {
			continue
		}
		outs := onResume[tr.TaskID]
		if outs == nil {
			outs = map[string]any{}
		}
		tr.State.Set(flow.StateRunning, now)
		tr.Outputs = map[string]any{"onResume": outs}
	}
	ex.State.Set(flow.StateRunning, now)
	return nil
}

// restart runs a failed execution again from where it failed, as Kestra's
// ExecutionService.restart: the failed runnable task runs get a new
// attempt, their failed parents run again, the task runs of errors and
// finally branches that the failure started are dropped, and the
// execution goes RESTARTED.
func restart(types Types, f *flow.Flow, ex *flow.Execution, now time.Time) error {
	if !ex.State.Current.IsFailed() {
		return fmt.Errorf("execution %s is %s; only a FAILED or KILLED execution restarts: %w", ex.ID, ex.State.Current, ErrInvalidTransition)
	}
	handlers := handlerTasks(f)
	// A failed group (WorkingDirectory) runs again as a whole, as one job:
	// its children's task runs go with its old run.
	regroup := map[string]bool{}
	for _, tr := range ex.TaskRunList {
		if t := f.FindTask(tr.TaskID); tr.State.Current.IsFailed() && t != nil && isGroup(types, t) {
			regroup[tr.ID] = true
		}
	}
	kept := ex.TaskRunList[:0]
	removed := map[string]bool{}
	for _, tr := range ex.TaskRunList {
		if handlers[tr.TaskID] || removed[tr.ParentTaskRunID] || regroup[tr.ParentTaskRunID] {
			removed[tr.ID] = true
			continue
		}
		kept = append(kept, tr)
	}
	clear(ex.TaskRunList[len(kept):])
	ex.TaskRunList = kept
	for _, tr := range ex.TaskRunList {
		if !tr.State.Current.IsFailed() {
			continue
		}
		t := f.FindTask(tr.TaskID)
		switch {
		case t != nil && (runnable(types, t) || regroup[tr.ID]):
			tr.State.Set(flow.StateRestarted, now)
		default:
			if t != nil && len(t.ChildTasks()) == 0 && !retriesFailed(types, t) {
				// a failed Subflow starts a new execution rather than
				// read the failed one's outcome again
				tr.Outputs = nil
			}
			tr.State.Set(flow.StateRunning, now)
		}
		tr.Error = ""
	}
	ex.Error = ""
	if ex.Metadata == nil {
		ex.Metadata = &flow.ExecutionMetadata{AttemptNumber: 1}
	}
	if ex.Metadata.OriginalCreatedDate == nil && len(ex.State.Histories) > 0 {
		// Kestra's metadata always has it (its API model requires it).
		created := ex.State.Histories[0].Date
		ex.Metadata.OriginalCreatedDate = &created
	}
	ex.Metadata.AttemptNumber++
	if !slices.Contains(ex.Labels, RestartedLabel) {
		// Kestra's ExecutionService.restart labels it so
		ex.Labels = append(ex.Labels, RestartedLabel)
	}
	ex.State.Set(flow.StateRestarted, now)
	return nil
}

// endedBefore reports whether ex reached its current state before t.
func endedBefore(ex *flow.Execution, t time.Time) bool {
	h := ex.State.Histories
	return len(h) > 0 && h[len(h)-1].Date.Before(t)
}

// handlerTasks are the ids of the tasks of every errors and finally
// branch: they run because of how a run went, so a restart or a replay
// decides again whether they run.
func handlerTasks(f *flow.Flow) map[string]bool {
	out := map[string]bool{}
	for _, t := range slices.Concat(f.Errors, f.Finally) {
		out[t.ID] = true
	}
	for _, t := range f.AllTasks() {
		for _, c := range slices.Concat(t.Children["errors"], t.Children["finally"]) {
			out[c.ID] = true
		}
	}
	return out
}

// endStates are the states an ended execution may be changed to.
var endStates = []flow.State{flow.StateSuccess, flow.StateWarning, flow.StateFailed, flow.StateKilled, flow.StateCancelled}

// changeStatus sets the state of an ended execution (Kestra's
// change-status action).
func changeStatus(ex *flow.Execution, st flow.State, now time.Time) error {
	if !slices.Contains(endStates, st) {
		return fmt.Errorf("an execution's status can be changed to %v, not %q: %w", endStates, st, ErrInvalidTransition)
	}
	if !ex.State.Current.IsTerminal() {
		return fmt.Errorf("execution %s is %s; only an ended execution changes status: %w", ex.ID, ex.State.Current, ErrInvalidTransition)
	}
	if ex.State.Current == st {
		return fmt.Errorf("execution %s is already %s: %w", ex.ID, st, ErrInvalidTransition)
	}
	ex.State.Set(st, now)
	return nil
}

// markTaskRun sets the state of one task run of an ended or paused
// execution, as Kestra's ExecutionService.markAs: its flowable ancestors
// run again, and the execution goes RESTARTED (unless another task run is
// still paused) so the executor carries on from there.
func markTaskRun(types Types, f *flow.Flow, ex *flow.Execution, trID string, st flow.State, now time.Time) error {
	if !slices.Contains(endStates, st) {
		return fmt.Errorf("a task run's state can be changed to %v, not %q: %w", endStates, st, ErrInvalidTransition)
	}
	if !ex.State.Current.IsTerminal() && ex.State.Current != flow.StatePaused {
		return fmt.Errorf("execution %s is %s; a task run changes state only in an ended or PAUSED execution: %w", ex.ID, ex.State.Current, ErrInvalidTransition)
	}
	target := ex.TaskRunByID(trID)
	if target == nil {
		return fmt.Errorf("task run %s is not in execution %s: %w", trID, ex.ID, ErrInvalidTransition)
	}
	target.State.Set(st, now)
	if n := len(target.Attempts); n > 0 {
		target.Attempts[n-1].State.Set(st, now)
	}
	for _, p := range ex.Parents(target) {
		if t := f.FindTask(p.TaskID); t != nil && !runnable(types, t) && p.State.Current != flow.StateRunning {
			p.State.Set(flow.StateRunning, now)
		}
	}
	if slices.ContainsFunc(ex.TaskRunList, func(tr *flow.TaskRun) bool { return tr.State.Current == flow.StatePaused }) {
		return nil
	}
	ex.State.Set(flow.StateRestarted, now)
	return nil
}
