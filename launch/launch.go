// Package launch creates executions and hands the executor commands for
// existing ones: start (inputs checked and typed), subflow starts for the
// engine, replay (a new execution); kill, resume, restart, change-status,
// pause and force-run are commands the executor applies (see command.go).
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
	"github.com/ospreyhq/osprey/internal/ordered"
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
	// Evaluate renders a flow's check condition with the variables of a
	// new execution (its inputs); without it checks are not evaluated.
	Evaluate func(f *flow.Flow, ex *flow.Execution, tmpl string) (string, error)
	// Types tells commands and replays which tasks a worker runs (the
	// engine's own Types).
	Types engine.Types
	// Poll is how often Await looks whether the executor applied a
	// command (default 25ms).
	Poll time.Duration
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
	return l.build(f, raw, labels, "")
}

// build is Build under id ("": a new one), which the execution's
// originalId and correlation label take too.
func (l *Launcher) build(f *flow.Flow, raw map[string]any, labels []flow.Label, id string) (*flow.Execution, error) {
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
	if id == "" {
		id = flow.NewID()
	}
	labels = mergeLabels(f.Labels, labels)
	if !slices.ContainsFunc(labels, func(l flow.Label) bool { return l.Key == correlationLabel }) {
		labels = append(labels, flow.Label{Key: correlationLabel, Value: id})
	}
	ex := &flow.Execution{
		ID:           id,
		OriginalID:   id, // Kestra's: an execution is its own original until replayed
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
// scheduleDate): it is stored CREATED at once, with its inputs and the
// flow's checks checked,
// and the executor starts it at that date; nil starts it now.
func (l *Launcher) StartAt(ctx context.Context, f *flow.Flow, raw map[string]any, labels []flow.Label, at *time.Time) (*flow.Execution, error) {
	return l.StartAs(ctx, f, raw, labels, at, "")
}

// StartAs is StartAt under an id chosen before the start ("": a new one):
// the webserver uploads FILE inputs under it and listens for its end
// before the execution exists.
func (l *Launcher) StartAs(ctx context.Context, f *flow.Flow, raw map[string]any, labels []flow.Label, at *time.Time, id string) (*flow.Execution, error) {
	ex, err := l.build(f, raw, labels, id)
	if err != nil {
		return nil, err
	}
	if err := l.Checks(f, ex); err != nil {
		return nil, err
	}
	if at != nil {
		d := at.UTC()
		ex.ScheduleDate = &d
	}
	if err := l.Store.Executions().Create(ctx, ex); err != nil {
		return nil, fmt.Errorf("create execution: %w", err)
	}
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
		m, ok := ordered.Plain(d).(map[string]any)
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
