package trigger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/store"
)

// ErrDisabled is returned when a webhook's flow, or its trigger through
// the API, is disabled.
var ErrDisabled = errors.New("disabled")

// Request is what a webhook call carries into trigger.body, .headers and
// .parameters. Body is nil when the call had none.
type Request struct {
	Body       []byte
	Headers    map[string][]string
	Parameters map[string][]string
}

// Body reads a webhook body as Kestra does: a JSON object or array when it
// parses as one (objects keep their keys' order), otherwise the raw
// string; nil when empty.
func Body(raw []byte) any {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if v, err := ordered.Decode(raw); err == nil {
		switch v.(type) {
		case *ordered.Map, []any:
			return v
		}
	}
	return string(raw)
}

// Webhook starts the execution a call to a flow's webhook asks for: the
// first enabled Webhook trigger whose rendered key equals key. It returns
// store.ErrNotFound when no flow or no trigger matches, ErrDisabled when
// the flow or the trigger is disabled, and a nil execution with a nil
// error when the trigger's conditions do not hold (nothing started).
func (d *Dispatcher) Webhook(ctx context.Context, namespace, id, key string, req Request) (*flow.Execution, error) {
	f, err := d.Flows.Get(ctx, namespace, id, 0)
	if err != nil {
		return nil, err
	}
	flowVars := d.Vars(f, &flow.Execution{Namespace: f.Namespace, FlowID: f.ID, FlowRevision: f.Revision})
	var tr *flow.Trigger
	for _, t := range f.Triggers {
		if Kind(t.Type) != KindWebhook || t.Disabled {
			continue
		}
		want, err := d.Renderer.Render(ctx, str(t.Props["key"]), flowVars)
		if err != nil {
			// A key that does not render matches nothing; the caller
			// learns no more than with a wrong key.
			if d.Log != nil {
				d.Log.WarnContext(ctx, "webhook key does not render", "namespace", f.Namespace, "flow_id", f.ID, "trigger_id", t.ID, "err", err)
			}
			continue
		}
		if want != "" && want == key {
			tr = t
			break
		}
	}
	if tr == nil {
		return nil, fmt.Errorf("webhook of %s.%s: %w", namespace, id, store.ErrNotFound)
	}
	if f.Disabled {
		return nil, fmt.Errorf("flow %s.%s is %w", namespace, id, ErrDisabled)
	}
	st, err := d.Store.Triggers().Get(ctx, f.Namespace, f.ID, tr.ID)
	if err == nil && st.Disabled {
		return nil, fmt.Errorf("trigger %s of %s.%s is %w", tr.ID, namespace, id, ErrDisabled)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	ex, err := d.Build(f, nil)
	if err != nil {
		return nil, err
	}
	ex.Trigger = &flow.ExecutionTrigger{ID: tr.ID, Type: tr.Type, Variables: map[string]any{
		"body":       Body(req.Body),
		"headers":    lists(req.Headers),
		"parameters": lists(req.Parameters),
	}}
	vars := d.Vars(f, ex)
	ok, err := CheckAll(ctx, Conditions(tr.Props), Context{Execution: ex, Vars: vars, Now: d.now(), Renderer: d.Renderer, Holidays: d.Holidays})
	if err != nil && d.Log != nil {
		// Kestra reads a condition that fails to evaluate as false.
		d.Log.WarnContext(ctx, "webhook condition failed", "namespace", f.Namespace, "flow_id", f.ID, "trigger_id", tr.ID, "err", err)
	}
	if err != nil || !ok {
		return nil, nil //nolint:nilerr // a condition that fails to evaluate is false, logged above
	}
	if raw, ok := ordered.AsMap(tr.Props["inputs"]); ok && len(raw) > 0 {
		built, err := BuildWithInputs(ctx, d.Renderer, d.Build, d.Sealer, f, tr.ID, raw, vars)
		if err != nil {
			return nil, err
		}
		built.Trigger = ex.Trigger
		ex = built
	} else {
		ex.Labels = append(slices.Clip(ex.Labels), triggerLabels(ctx, d.Renderer, f, tr.ID, vars)...)
	}
	if err := d.Store.Executions().Create(ctx, ex); err != nil {
		return nil, fmt.Errorf("create execution: %w", err)
	}
	return ex, nil
}

// lists turns a header or query map into JSON-friendly lists.
func lists(m map[string][]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, vs := range m {
		l := make([]any, len(vs))
		for i, v := range vs {
			l[i] = v
		}
		out[k] = l
	}
	return out
}
