package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/worker"
)

func runnable[T any](typ string, props []string, check func(t *flow.Task, x *T) []*flow.Error) *Spec {
	return &Spec{Type: typ, Kind: KindRunnable, Props: props, Decode: func(t *flow.Task) (any, []*flow.Error) {
		x := new(T)
		if errs := decode(t, x); len(errs) > 0 {
			return nil, errs
		}
		if check != nil {
			if errs := check(t, x); len(errs) > 0 {
				return nil, errs
			}
		}
		return x, nil
	}}
}

// Log writes a message (or several) to the execution's log.
type Log struct {
	Message any    `json:"message"`
	Level   string `json:"level"`
}

// Run implements worker.Runnable.
func (l *Log) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	msgs := []any{l.Message}
	if list, ok := l.Message.([]any); ok {
		msgs = list
	}
	for _, m := range msgs {
		out, err := rc.Render(ctx, str(m))
		if err != nil {
			return nil, err
		}
		rc.Log(l.Level, out)
	}
	return nil, nil
}

// Return renders format and returns it as the output value.
type Return struct {
	Format any `json:"format"`
}

// Run implements worker.Runnable.
func (r *Return) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	out, err := rc.Render(ctx, str(r.Format))
	if err != nil {
		return nil, err
	}
	return map[string]any{"value": out}, nil
}

// Echo logs a rendered format (deprecated in Kestra, still accepted).
type Echo struct {
	Format any    `json:"format"`
	Level  string `json:"level"`
}

// Run implements worker.Runnable.
func (e *Echo) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	out, err := rc.Render(ctx, str(e.Format))
	if err != nil {
		return nil, err
	}
	rc.Log(e.Level, out)
	return nil, nil
}

// OutputValues returns rendered values as outputs.values, keys in the
// order the flow wrote them (Kestra keeps its YAML's LinkedHashMap).
type OutputValues struct {
	Values *ordered.Map `json:"values"`
}

// Run implements worker.Runnable.
func (o *OutputValues) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	v, err := rc.RenderValue(ctx, o.Values)
	if err != nil {
		return nil, err
	}
	return map[string]any{"values": v}, nil
}

// Fail fails the task run, when condition (if given) renders true.
type Fail struct {
	Condition    any    `json:"condition"`
	ErrorMessage string `json:"errorMessage"`
}

// Run implements worker.Runnable.
func (f *Fail) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	msg := f.ErrorMessage
	if msg == "" {
		msg = "Task failure"
	}
	if f.Condition != nil {
		c, err := rc.Render(ctx, str(f.Condition))
		if err != nil {
			return nil, err
		}
		if !engine.Truthy(c) {
			return nil, nil
		}
	}
	out, err := rc.Render(ctx, msg)
	if err != nil {
		return nil, err
	}
	return nil, errors.New(out)
}

// Assert fails the task run when one of its conditions renders false,
// naming the first one that did (Kestra's core.execution.Assert).
type Assert struct {
	Conditions   []string `json:"conditions"`
	ErrorMessage string   `json:"errorMessage"`
}

// Run implements worker.Runnable.
func (a *Assert) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	failed := 0
	for _, c := range a.Conditions {
		out, err := rc.Render(ctx, c)
		if err != nil {
			return nil, err
		}
		if !engine.Truthy(out) {
			failed++
			rc.Log("ERROR", fmt.Sprintf("assertion is false: %s", c))
		}
	}
	if failed == 0 {
		return nil, nil
	}
	msg := a.ErrorMessage
	if msg == "" {
		msg = fmt.Sprintf("%d assertion(s) failed", failed)
	} else if rendered, err := rc.Render(ctx, msg); err == nil {
		msg = rendered
	}
	return nil, errors.New(msg)
}

// Labels sets execution labels from a map or a list of key/value pairs.
type Labels struct {
	Labels any `json:"labels"`
}

// Run implements worker.Runnable.
func (l *Labels) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	var v any
	var err error
	if s, ok := l.Labels.(string); ok {
		// a JSON document or an expression giving a map or a list
		v, err = rc.RenderTyped(ctx, s)
		if txt, ok := v.(string); ok && err == nil {
			var parsed any
			if jerr := json.Unmarshal([]byte(txt), &parsed); jerr == nil {
				v = parsed
			}
		}
	} else {
		v, err = rc.RenderValue(ctx, l.Labels)
	}
	if err != nil {
		return nil, err
	}
	var out []flow.Label
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			out = append(out, flow.Label{Key: k, Value: str(v[k])})
		}
	case *ordered.Map:
		for k, e := range v.All() {
			out = append(out, flow.Label{Key: k, Value: str(e)})
		}
	case []any:
		for _, item := range v {
			m, ok := ordered.AsMap(item)
			if !ok {
				return nil, fmt.Errorf("labels: list entries must be maps with key and value")
			}
			out = append(out, flow.Label{Key: str(m["key"]), Value: str(m["value"])})
		}
	case string:
		return nil, fmt.Errorf("labels: expected a map or a list, got a string")
	}
	for _, l := range out {
		if l.Key == "" {
			return nil, fmt.Errorf("labels: a label has an empty key")
		}
		if strings.HasPrefix(l.Key, "system.") {
			// Kestra's Labels task: none can be set at run time.
			return nil, fmt.Errorf("System labels can only be set by Kestra itself, offending label: %s=%s", l.Key, l.Value)
		}
	}
	rc.SetLabels(out)
	return nil, nil
}

// Sleep waits for duration.
type Sleep struct {
	Duration string `json:"duration"`
}

// Run implements worker.Runnable.
func (s *Sleep) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	ds, err := rc.Render(ctx, s.Duration)
	if err != nil {
		return nil, err
	}
	d, err := flow.ParseDuration(ds)
	if err != nil {
		return nil, err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

var (
	_ worker.Runnable = (*Log)(nil)
	_ worker.Runnable = (*Return)(nil)
	_ worker.Runnable = (*Echo)(nil)
	_ worker.Runnable = (*OutputValues)(nil)
	_ worker.Runnable = (*Fail)(nil)
	_ worker.Runnable = (*Labels)(nil)
	_ worker.Runnable = (*Assert)(nil)
	_ worker.Runnable = (*Sleep)(nil)
)
