// Package launch creates executions and acts on them from outside the
// executor: start (inputs checked and typed), subflow starts for the
// engine, kill, resume.
package launch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/input"
	"github.com/ospreyhq/osprey/internal/seal"
	"github.com/ospreyhq/osprey/mask"
	"github.com/ospreyhq/osprey/store"
)

// correlationLabel ties the executions of a subflow chain to the root one.
const correlationLabel = "system.correlationId"

// Flows loads parsed flow revisions (a *flowcache.Cache).
type Flows interface {
	Get(ctx context.Context, namespace, id string, rev int) (*flow.Flow, error)
}

// Launcher creates and steers executions.
type Launcher struct {
	Store store.Store
	Flows Flows
	Now   func() time.Time
	// Secrets seals SECRET-type inputs before they are stored; without it
	// such inputs are refused.
	Secrets *seal.Box
	// Render renders expressions in input defaults ({{ now() }}) with the
	// flow's variables; without it defaults are taken literally.
	Render func(f *flow.Flow, tmpl string) (string, error)
}

var _ engine.Starter = (*Launcher)(nil)

func (l *Launcher) now() time.Time {
	if l.Now != nil {
		return l.Now().UTC()
	}
	return time.Now().UTC()
}

// Build makes a new CREATED execution of f with typed inputs; it does not
// store it.
func (l *Launcher) Build(f *flow.Flow, raw map[string]any, labels []flow.Label) (*flow.Execution, error) {
	if f.Disabled {
		return nil, flow.Errors{{Path: "disabled", Message: fmt.Sprintf("flow %s.%s is disabled", f.Namespace, f.ID)}}
	}
	var opts input.ReadOptions
	if l.Render != nil {
		opts.Render = func(tmpl string) (string, error) { return l.Render(f, tmpl) }
	}
	inputs, err := input.ReadWith(f, raw, opts)
	if err != nil {
		return nil, err
	}
	if err := l.sealSecrets(f, inputs); err != nil {
		return nil, err
	}
	// dotted ids (user.name) nest as in Kestra, after sealing, which looks
	// inputs up by their declared id
	inputs = input.Nest(inputs)
	now := l.now()
	id := flow.NewID()
	labels = mergeLabels(f.Labels, labels)
	if !slices.ContainsFunc(labels, func(l flow.Label) bool { return l.Key == correlationLabel }) {
		labels = append(labels, flow.Label{Key: correlationLabel, Value: id})
	}
	ex := &flow.Execution{
		ID:           id,
		TenantID:     f.TenantID,
		Namespace:    f.Namespace,
		FlowID:       f.ID,
		FlowRevision: f.Revision,
		Inputs:       inputs,
		Labels:       labels,
		State:        flow.NewStateInfo(flow.StateCreated, now),
		Metadata:     &flow.ExecutionMetadata{AttemptNumber: 1, OriginalCreatedDate: &now},
	}
	return ex, nil
}

// StartRaw creates an execution with inputs taken as given (only missing
// defaults filled in), as Kestra's runner does for inputs passed in code.
func (l *Launcher) StartRaw(ctx context.Context, f *flow.Flow, raw map[string]any, labels []flow.Label) (*flow.Execution, error) {
	ex, err := l.Build(f, nil, labels)
	if err != nil {
		// inputs are not checked in raw mode: build without them
		ex, err = l.Build(&flow.Flow{ID: f.ID, Namespace: f.Namespace, Revision: f.Revision, Labels: f.Labels, TenantID: f.TenantID}, nil, labels)
		if err != nil {
			return nil, err
		}
	}
	ex.Inputs = input.Defaults(f, raw)
	if err := l.sealSecrets(f, ex.Inputs); err != nil {
		return nil, err
	}
	if err := l.Store.Executions().Create(ctx, ex); err != nil {
		return nil, fmt.Errorf("create execution: %w", err)
	}
	_ = l.Store.Queue().Notify(ctx, store.TopicExecutions)
	return ex, nil
}

// sealSecrets replaces the values of SECRET-type inputs by sealed markers:
// the plain value exists only in the request and, later, in the memory of
// the worker running a task.
func (l *Launcher) sealSecrets(f *flow.Flow, inputs map[string]any) error {
	for _, in := range f.Inputs {
		v, ok := inputs[in.ID]
		if !ok || v == nil || !strings.EqualFold(in.Type, "SECRET") {
			continue
		}
		if l.Secrets == nil {
			return flow.Errors{{Path: "inputs." + in.ID, Line: in.Pos.Line, Column: in.Pos.Column,
				Message: fmt.Sprintf("input %q is a SECRET: set kestra.encryption.secret-key (32+ characters) so Osprey can store it encrypted", in.ID)}}
		}
		s, isString := v.(string)
		if !isString {
			continue // already sealed, or not a value we can seal
		}
		inputs[in.ID] = l.Secrets.Wrap(s)
	}
	return nil
}

// Start creates an execution of f and hands it to the executor.
func (l *Launcher) Start(ctx context.Context, f *flow.Flow, raw map[string]any, labels []flow.Label) (*flow.Execution, error) {
	return l.StartAt(ctx, f, raw, labels, nil)
}

// StartAt is Start for an execution scheduled at a date (Kestra's
// scheduleDate): it is stored CREATED at once, with its inputs checked,
// and the executor starts it at that date; nil starts it now.
func (l *Launcher) StartAt(ctx context.Context, f *flow.Flow, raw map[string]any, labels []flow.Label, at *time.Time) (*flow.Execution, error) {
	ex, err := l.Build(f, raw, labels)
	if err != nil {
		return nil, err
	}
	if at != nil {
		d := at.UTC()
		ex.ScheduleDate = &d
	}
	if err := l.Store.Executions().Create(ctx, ex); err != nil {
		return nil, fmt.Errorf("create execution: %w", err)
	}
	_ = l.Store.Queue().Notify(ctx, store.TopicExecutions)
	return ex, nil
}

// NewExecution implements engine.Starter for subflows.
func (l *Launcher) NewExecution(ctx context.Context, r engine.StartRequest) (*flow.Execution, error) {
	f, err := l.Flows.Get(ctx, r.Namespace, r.FlowID, r.Revision)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("subflow %s.%s not found", r.Namespace, r.FlowID)
		}
		return nil, err
	}
	ex, err := l.Build(f, r.Inputs, r.Labels)
	if err != nil {
		return nil, fmt.Errorf("subflow %s.%s: %w", r.Namespace, r.FlowID, err)
	}
	// Inputs rendered from secret() in the parent's step are sealed, so
	// the subflow's execution is stored without them in clear.
	var wrap func(string) map[string]any
	if l.Secrets != nil {
		wrap = l.Secrets.Wrap
	}
	if err := input.SealSecrets(mask.FromContext(ctx), ex.Inputs, wrap); err != nil {
		return nil, fmt.Errorf("subflow %s.%s: %w", r.Namespace, r.FlowID, err)
	}
	ex.ParentID = r.ParentID
	ex.Trigger = r.Trigger
	if r.ScheduleDate != nil {
		d := r.ScheduleDate.UTC()
		ex.ScheduleDate = &d
	}
	return ex, nil
}

// Kill asks the executor to kill an execution, and every running subflow
// execution it started, recursively, as Kestra does: a parent killed while
// it waits on a subflow would otherwise leave the subflow running.
func (l *Launcher) Kill(ctx context.Context, id string) error {
	err := l.update(ctx, id, func(ex *flow.Execution) error {
		if ex.State.Current.IsTerminal() {
			return fmt.Errorf("execution %s already ended %s: %w", id, ex.State.Current, engine.ErrInvalidTransition)
		}
		ex.State.Set(flow.StateKilling, l.now())
		return nil
	})
	if err != nil {
		return err
	}
	seen := map[string]bool{id: true}
	queue := []string{id}
	for len(queue) > 0 && len(seen) < maxKillCascade {
		parent := queue[0]
		queue = queue[1:]
		children, _, err := l.Store.Executions().Search(ctx, store.ExecutionQuery{ParentID: parent})
		if err != nil {
			return fmt.Errorf("list subflows of %s: %w", parent, err)
		}
		for _, c := range children {
			if seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			queue = append(queue, c.ID)
			if c.State.Current.IsTerminal() {
				continue // its own subflows may still run (wait: false)
			}
			err := l.update(ctx, c.ID, func(ex *flow.Execution) error {
				if !ex.State.Current.IsTerminal() {
					ex.State.Set(flow.StateKilling, l.now())
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("kill subflow %s of %s: %w", c.ID, parent, err)
			}
		}
	}
	return nil
}

// maxKillCascade bounds how many executions one kill visits.
const maxKillCascade = 10000

// Resume continues a paused execution. inputs are read against the Pause
// task's onResume declarations and become its outputs.onResume, as in
// Kestra.
func (l *Launcher) Resume(ctx context.Context, id string, inputs map[string]any) error {
	return l.update(ctx, id, func(ex *flow.Execution) error {
		f, err := l.Flows.Get(ctx, ex.Namespace, ex.FlowID, ex.FlowRevision)
		if err != nil {
			return err
		}
		if ex.State.Current != flow.StatePaused {
			return fmt.Errorf("execution %s is %s, not PAUSED: %w", id, ex.State.Current, engine.ErrInvalidTransition)
		}
		found := false
		for _, tr := range ex.TaskRunList {
			if tr.State.Current == flow.StatePaused {
				onResume, err := resumeInputs(f, tr.TaskID, inputs)
				if err != nil {
					return err
				}
				tr.State.Set(flow.StateRunning, l.now())
				tr.Outputs = map[string]any{"onResume": onResume}
				found = true
			}
		}
		if !found {
			return fmt.Errorf("execution %s has no paused task: %w", id, engine.ErrInvalidTransition)
		}
		ex.State.Set(flow.StateRunning, l.now())
		return nil
	})
}

// Restart runs a failed execution again from where it failed, as Kestra's
// ExecutionService.restart: the failed runnable task runs get a new
// attempt, their failed parents run again, the task runs of errors and
// finally branches that the failure started are dropped, and the
// execution goes RESTARTED.
func (l *Launcher) Restart(ctx context.Context, id string) error {
	return l.update(ctx, id, func(ex *flow.Execution) error {
		if !ex.State.Current.IsFailed() {
			return fmt.Errorf("execution %s is %s; only a FAILED or KILLED execution restarts: %w", id, ex.State.Current, engine.ErrInvalidTransition)
		}
		f, err := l.Flows.Get(ctx, ex.Namespace, ex.FlowID, ex.FlowRevision)
		if err != nil {
			return err
		}
		now := l.now()
		drop := map[string]bool{}
		for _, t := range append(append([]*flow.Task(nil), f.Errors...), f.Finally...) {
			drop[t.ID] = true
		}
		for _, t := range f.AllTasks() {
			for _, k := range []string{"errors", "finally"} {
				for _, c := range t.Children[k] {
					drop[c.ID] = true
				}
			}
		}
		kept := ex.TaskRunList[:0]
		removed := map[string]bool{}
		for _, tr := range ex.TaskRunList {
			if drop[tr.TaskID] || removed[tr.ParentTaskRunID] {
				removed[tr.ID] = true
				continue
			}
			kept = append(kept, tr)
		}
		ex.TaskRunList = kept
		for _, tr := range ex.TaskRunList {
			if !tr.State.Current.IsFailed() {
				continue
			}
			if t := f.FindTask(tr.TaskID); t != nil && len(t.ChildTasks()) == 0 && !isFlowableOnly(t) {
				tr.State.Set(flow.StateRestarted, now)
			} else {
				tr.State.Set(flow.StateRunning, now)
			}
			tr.Error = ""
		}
		ex.Error = ""
		if ex.Metadata == nil {
			ex.Metadata = &flow.ExecutionMetadata{}
		}
		ex.Metadata.AttemptNumber++
		ex.State.Set(flow.StateRestarted, now)
		return nil
	})
}

// isFlowableOnly reports task types that have no children in the flow but
// are still run by the executor, not a worker.
func isFlowableOnly(t *flow.Task) bool {
	return strings.HasSuffix(t.Type, ".Subflow") || strings.HasSuffix(t.Type, ".Flow") || strings.HasSuffix(t.Type, ".Pause")
}

// update applies fn to the stored execution, retrying on a version race
// with the executor, then wakes the executor.
func (l *Launcher) update(ctx context.Context, id string, fn func(*flow.Execution) error) error {
	for attempt := 0; attempt < 20; attempt++ {
		ex, ver, err := l.Store.Executions().Get(ctx, id)
		if err != nil {
			return fmt.Errorf("load execution %s: %w", id, err)
		}
		if err := fn(ex); err != nil {
			return err
		}
		_, err = l.Store.Executions().Save(ctx, store.SaveParams{Execution: ex, Version: ver})
		if errors.Is(err, store.ErrConflict) {
			time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
			continue
		}
		if err != nil {
			return fmt.Errorf("save execution %s: %w", id, err)
		}
		if err := l.Store.Executions().MarkDirty(ctx, id); err != nil {
			return fmt.Errorf("wake executor for %s: %w", id, err)
		}
		return l.Store.Queue().Notify(ctx, store.TopicExecutions)
	}
	return fmt.Errorf("execution %s keeps changing; try again: %w", id, store.ErrConflict)
}

func mergeLabels(base, add []flow.Label) []flow.Label {
	out := append([]flow.Label(nil), base...)
	for _, l := range add {
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Key, l.Key) {
				out[i].Value = l.Value
				replaced = true
			}
		}
		if !replaced {
			out = append(out, l)
		}
	}
	return out
}

// resumeInputs types the inputs given at resume against the onResume
// declarations of the Pause task taskID.
func resumeInputs(f *flow.Flow, taskID string, raw map[string]any) (map[string]any, error) {
	t := f.FindTask(taskID)
	if t == nil {
		return raw, nil
	}
	decl, _ := t.Props["onResume"].([]any)
	pseudo := &flow.Flow{ID: f.ID, Namespace: f.Namespace}
	for _, d := range decl {
		m, ok := d.(map[string]any)
		if !ok {
			continue
		}
		in := &flow.Input{Props: m}
		in.ID, _ = m["id"].(string)
		if in.ID == "" {
			in.ID, _ = m["name"].(string)
		}
		in.Type, _ = m["type"].(string)
		if r, ok := m["required"].(bool); ok {
			in.Required = &r
		}
		in.Defaults = m["defaults"]
		pseudo.Inputs = append(pseudo.Inputs, in)
	}
	if len(pseudo.Inputs) == 0 {
		if raw == nil {
			return map[string]any{}, nil
		}
		return raw, nil
	}
	out, err := input.Read(pseudo, raw)
	if err != nil {
		return nil, err
	}
	for k, v := range out {
		if v == nil {
			delete(out, k)
		}
	}
	return out, nil
}
