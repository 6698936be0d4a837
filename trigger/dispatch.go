package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/input"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/mask"
	"github.com/ospreyhq/osprey/store"
)

// Type names of the event triggers, as Kind returns them.
const (
	KindFlow     = "Flow"
	KindWebhook  = "Webhook"
	KindSchedule = "Schedule"
	// KindScheduleOnDates fires on a list of dates.
	KindScheduleOnDates = "ScheduleOnDates"
)

// FlowSource loads parsed flows: one revision, or the latest live revision
// of every flow.
type FlowSource interface {
	Get(ctx context.Context, namespace, id string, rev int) (*flow.Flow, error)
	All(ctx context.Context) ([]*flow.Flow, error)
}

// Builder makes a CREATED execution of f with inputs given as raw values
// (typed where they can be, as Kestra does for triggered executions); it
// does not store it.
type Builder func(f *flow.Flow, inputs map[string]any) (*flow.Execution, error)

// VarsFunc returns the expression variables of an execution of f.
type VarsFunc func(f *flow.Flow, ex *flow.Execution) map[string]any

// Dispatcher starts the executions Flow and Webhook triggers ask for.
type Dispatcher struct {
	Store    store.Store
	Flows    FlowSource
	Build    Builder
	Renderer Renderer
	Vars     VarsFunc
	Now      func() time.Time
	Log      *slog.Logger
	// Sealer encrypts the inputs of a Flow trigger that resolve a secret,
	// so their values are stored sealed like SECRET-type inputs and opened
	// only in the worker's memory. Without it such inputs are refused.
	Sealer Sealer
	// Holidays are the calendars the PublicHoliday condition reads; nil:
	// the built-in ones.
	Holidays Holidays
}

// Sealer encrypts a value for storage; the worker opens it (seal.Box).
type Sealer interface {
	Wrap(plain string) map[string]any
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

// maxFireAttempts bounds the compare-and-swap retries of one Flow trigger
// when other processes update its state at the same time.
const maxFireAttempts = 8

// OnExecution evaluates every Flow trigger of every flow against src,
// which just changed state, and starts the executions that fire. It
// returns them; an error of one listener does not stop the others.
func (d *Dispatcher) OnExecution(ctx context.Context, src *flow.Execution) ([]*flow.Execution, error) {
	flows, err := d.Flows.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list flows: %w", err)
	}
	var listeners []Listener
	for _, f := range flows {
		if f.Disabled {
			continue
		}
		for _, t := range f.Triggers {
			if !t.Disabled && Kind(t.Type) == KindFlow {
				listeners = append(listeners, Listener{Flow: f, Trigger: t})
			}
		}
	}
	if len(listeners) == 0 {
		return nil, nil
	}
	srcFlow, err := d.Flows.Get(ctx, src.Namespace, src.FlowID, src.FlowRevision)
	if err != nil {
		srcFlow = &flow.Flow{ID: src.FlowID, Namespace: src.Namespace, Revision: src.FlowRevision}
	}
	cc := Context{Execution: src, Vars: d.Vars(srcFlow, src), Renderer: d.Renderer, Holidays: d.Holidays}
	var started []*flow.Execution
	var errs []error
	for _, l := range listeners {
		ex, err := d.fireListener(ctx, l, cc)
		if err != nil {
			errs = append(errs, fmt.Errorf("flow trigger %s.%s/%s: %w", l.Flow.Namespace, l.Flow.ID, l.Trigger.ID, err))
			continue
		}
		if ex != nil {
			started = append(started, ex)
		}
	}
	return started, errors.Join(errs...)
}

// fireListener evaluates one listener and, when it fires, creates its
// execution in the same transaction that saves its windows. Flow triggers
// have no next date, so the state's Next serves as a version: each write
// moves it on by one millisecond and the store's compare-and-swap on it
// makes two executors evaluating at once take turns.
func (d *Dispatcher) fireListener(ctx context.Context, l Listener, cc Context) (*flow.Execution, error) {
	// Most listeners do not care about most executions: find out without
	// reading their state. With no windows, Evaluate reports neither a
	// fire nor a change exactly when stored windows would see none either
	// (an expired window left in place is dropped on the next write).
	cc.Now = d.now()
	if fire, changed, err := Evaluate(ctx, l, cc, Windows{}); err != nil || (!fire && !changed) {
		return nil, err
	}
	ts := d.Store.Triggers()
	for range maxFireAttempts {
		cc.Now = d.now()
		st, err := ts.Get(ctx, l.Flow.Namespace, l.Flow.ID, l.Trigger.ID)
		if errors.Is(err, store.ErrNotFound) {
			st = store.TriggerState{Namespace: l.Flow.Namespace, FlowID: l.Flow.ID, TriggerID: l.Trigger.ID}
		} else if err != nil {
			return nil, err
		}
		if st.Disabled {
			return nil, nil
		}
		w := Windows{}
		if len(st.Data) > 0 {
			if err := json.Unmarshal(st.Data, &w); err != nil {
				return nil, fmt.Errorf("read trigger state: %w", err)
			}
		}
		fire, changed, err := Evaluate(ctx, l, cc, w)
		if err != nil {
			return nil, err
		}
		if !fire && !changed {
			return nil, nil
		}
		var execs []*flow.Execution
		if fire {
			ex, err := d.flowExecution(ctx, l, cc)
			if err != nil {
				return nil, err
			}
			execs = append(execs, ex)
			st.Last = &cc.Now
		}
		prev := st.Next
		next := time.UnixMilli(1).UTC()
		if prev != nil {
			next = time.UnixMilli(prev.UnixMilli() + 1).UTC()
		}
		st.Next = &next
		st.Data = nil
		if len(w) > 0 {
			if st.Data, err = json.Marshal(w); err != nil {
				return nil, err
			}
		}
		st.Updated = cc.Now
		won, err := ts.Fire(ctx, prev, st, execs)
		if err != nil {
			return nil, err
		}
		if won {
			if len(execs) == 0 {
				return nil, nil
			}
			if d.Log != nil {
				d.Log.InfoContext(ctx, "flow trigger fired", "namespace", l.Flow.Namespace, "flow_id", l.Flow.ID,
					"trigger_id", l.Trigger.ID, "execution_id", execs[0].ID, "source_execution_id", cc.Execution.ID)
			}
			return execs[0], nil
		}
	}
	return nil, fmt.Errorf("trigger state kept changing under %d attempts: %w", maxFireAttempts, store.ErrConflict)
}

// flowExecution builds the listener's execution: inputs rendered from the
// source execution, trigger variables describing it.
func (d *Dispatcher) flowExecution(ctx context.Context, l Listener, cc Context) (*flow.Execution, error) {
	raw, _ := ordered.AsMap(l.Trigger.Props["inputs"])
	ex, err := BuildWithInputs(ctx, d.Renderer, d.Build, d.Sealer, l.Flow, l.Trigger.ID, raw, cc.Vars)
	if err != nil {
		return nil, err
	}
	ex.Trigger = &flow.ExecutionTrigger{ID: l.Trigger.ID, Type: l.Trigger.Type, Variables: Variables(cc.Execution)}
	return ex, nil
}

// BuildWithInputs renders a trigger's `inputs` with vars and builds the
// execution of f with them. An input whose value holds a secret the
// rendering resolved (secret() in the trigger's inputs) is stored sealed,
// like a SECRET-type input, and opened only in the worker's memory: no
// secret is stored in clear. A text value is sealed whole and reaches the
// flow's tasks as given; any other value holding a secret is refused,
// since only text can be sealed.
func BuildWithInputs(ctx context.Context, r Renderer, build Builder, sealer Sealer, f *flow.Flow, triggerID string, raw, vars map[string]any) (*flow.Execution, error) {
	var m mask.Masker
	var inputs map[string]any
	if len(raw) > 0 {
		v, err := r.RenderValue(mask.NewContext(ctx, &m), raw, vars)
		if err != nil {
			return nil, fmt.Errorf("render inputs of trigger %s: %w", triggerID, err)
		}
		var ok bool
		if inputs, ok = ordered.AsMap(v); !ok {
			return nil, fmt.Errorf("inputs of trigger %s rendered to %T, not a map", triggerID, v)
		}
	}
	ex, err := build(f, inputs)
	if err != nil {
		return nil, err
	}
	var wrap func(string) map[string]any
	if sealer != nil {
		wrap = sealer.Wrap
	}
	if err := input.SealSecrets(&m, ex.Inputs, wrap); err != nil {
		return nil, fmt.Errorf("trigger %s: %w", triggerID, err)
	}
	// Clipped: the builder may hand out the flow's own label slice.
	ex.Labels = append(slices.Clip(ex.Labels), triggerLabels(ctx, r, f, triggerID, vars)...)
	return ex, nil
}

// triggerLabels are the trigger's own labels, after the flow's, as Kestra
// adds them to the executions a trigger creates: each value rendered with
// vars (what the trigger was evaluated with: the source execution's for a
// Flow trigger, the call's for a webhook, the tick's for a schedule), and a
// label whose value does not render left out, the execution still started.
func triggerLabels(ctx context.Context, r Renderer, f *flow.Flow, triggerID string, vars map[string]any) []flow.Label {
	var raw any
	for _, t := range f.Triggers {
		if t.ID == triggerID {
			raw = t.Props["labels"]
		}
	}
	var out []flow.Label
	add := func(k string, v any) {
		s := fmt.Sprint(v)
		if str, ok := v.(string); ok {
			var err error
			if s, err = r.Render(ctx, str, vars); err != nil {
				return
			}
		}
		out = append(out, flow.Label{Key: k, Value: s})
	}
	switch x := raw.(type) {
	case *ordered.Map:
		for k, v := range x.All() {
			add(k, v)
		}
	case []any:
		for _, item := range x {
			if m, ok := ordered.AsMap(item); ok {
				add(str(m["key"]), m["value"])
			}
		}
	}
	return out
}

// StopAfter disables the trigger that started ex when ex ended in one of
// the trigger's stopAfter states, as Kestra does for any trigger type.
func (d *Dispatcher) StopAfter(ctx context.Context, ex *flow.Execution) error {
	if ex.Trigger == nil || ex.Trigger.ID == "" {
		return nil
	}
	f, err := d.Flows.Get(ctx, ex.Namespace, ex.FlowID, ex.FlowRevision)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the flow is gone: nothing left to stop
	}
	if err != nil {
		return fmt.Errorf("stopAfter of %s: %w", ex.ID, err)
	}
	for _, t := range f.Triggers {
		if t.ID != ex.Trigger.ID || !slices.Contains(strs(t.Props["stopAfter"]), string(ex.State.Current)) {
			continue
		}
		ts := d.Store.Triggers()
		st, err := ts.Get(ctx, f.Namespace, f.ID, t.ID)
		if errors.Is(err, store.ErrNotFound) {
			st = store.TriggerState{Namespace: f.Namespace, FlowID: f.ID, TriggerID: t.ID}
		} else if err != nil {
			return err
		}
		if st.Disabled {
			return nil
		}
		st.Disabled, st.Updated = true, d.now()
		if err := ts.Put(ctx, st); err != nil {
			return fmt.Errorf("stop trigger %s of %s.%s: %w", t.ID, f.Namespace, f.ID, err)
		}
		if d.Log != nil {
			d.Log.InfoContext(ctx, "trigger stopped", "namespace", f.Namespace, "flow_id", f.ID, "trigger_id", t.ID,
				"execution_id", ex.ID, "state", ex.State.Current)
		}
	}
	return nil
}
