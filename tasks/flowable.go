package tasks

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

func flowable[T any](typ string, props []string, build func(t *flow.Task, x *T) (engine.Flowable, []*flow.Error)) *Spec {
	return &Spec{Type: typ, Kind: KindFlowable, Props: props, Decode: func(t *flow.Task) (any, []*flow.Error) {
		x := new(T)
		if errs := decode(t, x); len(errs) > 0 {
			return nil, errs
		}
		return build(t, x)
	}}
}

// noProps is the property struct of flowables whose only properties are
// child task lists.
type noProps struct{}

// sequential runs its tasks one after the other.
type sequential struct{ t *flow.Task }

func (f sequential) Resolve(s *engine.Scope, p *flow.TaskRun) (engine.Outcome, error) {
	c := f.t.Children
	return s.Sequential(p, c["tasks"], c["errors"], c["finally"]), nil
}

type parallelProps struct {
	Concurrent any `json:"concurrent"`
}

// parallel runs its tasks at once, at most concurrent at a time.
type parallel struct {
	t          *flow.Task
	concurrent any
}

// ConcurrentChildren implements engine.ConcurrentChildren.
func (parallel) ConcurrentChildren() bool { return true }

func (f parallel) Resolve(s *engine.Scope, p *flow.TaskRun) (engine.Outcome, error) {
	n, err := renderInt(s, p, f.concurrent, 0)
	if err != nil {
		return engine.Outcome{}, fmt.Errorf("concurrent: %w", err)
	}
	c := f.t.Children
	return s.Parallel(p, c["tasks"], c["errors"], c["finally"], n), nil
}

type ifProps struct {
	Condition any `json:"condition"`
}

// ifTask runs then or else depending on its condition, evaluated once.
type ifTask struct {
	t    *flow.Task
	cond any
}

func (f ifTask) Resolve(s *engine.Scope, p *flow.TaskRun) (engine.Outcome, error) {
	if len(p.Items) == 0 {
		out, err := s.Render(p, str(f.cond))
		if err != nil {
			return engine.Outcome{}, fmt.Errorf("condition: %w", err)
		}
		branch := "else"
		if engine.Truthy(out) {
			branch = "then"
		}
		_ = s.SetItems(p, []string{branch}) // one value
	}
	c := f.t.Children
	return s.Sequential(p, c[p.Items[0]], c["errors"], c["finally"]), nil
}

type switchProps struct {
	Value any `json:"value"`
}

// switchTask runs the case matching its value, or its defaults.
type switchTask struct {
	t     *flow.Task
	value any
}

func (f switchTask) Resolve(s *engine.Scope, p *flow.TaskRun) (engine.Outcome, error) {
	if p.Outputs == nil {
		v, err := s.Render(p, str(f.value))
		if err != nil {
			return engine.Outcome{}, fmt.Errorf("value: %w", err)
		}
		_, found := f.t.Cases[v]
		s.SetOutputs(p, map[string]any{"value": v, "defaults": !found})
	}
	v, _ := p.Outputs["value"].(string)
	tasks, ok := f.t.Cases[v]
	if !ok {
		tasks = f.t.Children["defaults"]
	}
	if len(tasks) == 0 {
		// Nothing to run is a failure in Kestra (FlowableUtils.resolveState),
		// softened by allowFailure/allowWarning like any other.
		if p.Error == "" {
			p.Error = fmt.Sprintf("No task found: no case matches %q and there are no defaults", v)
			s.Log(p, "WARN", fmt.Sprintf("No task found on flow '%s.%s', task '%s', execution '%s': no case matches %q and there are no defaults",
				s.Execution().Namespace, s.Execution().FlowID, p.TaskID, s.Execution().ID, v))
		}
		return engine.Outcome{Done: true, State: flow.StateFailed}, nil
	}
	c := f.t.Children
	return s.Sequential(p, tasks, c["errors"], c["finally"]), nil
}

type forEachProps struct {
	Values           any `json:"values"`
	Value            any `json:"value"` // EachSequential / EachParallel
	ConcurrencyLimit any `json:"concurrencyLimit"`
	Concurrent       any `json:"concurrent"`
}

// forEach runs its tasks once per value; children carry the value.
type forEach struct {
	t      *flow.Task
	values any
	limit  any
	def    int
}

// ConcurrentChildren implements engine.ConcurrentChildren: EachParallel
// (no default limit) runs its values at once.
func (f forEach) ConcurrentChildren() bool { return f.def == 0 }

func (f forEach) Resolve(s *engine.Scope, p *flow.TaskRun) (engine.Outcome, error) {
	if p.Items == nil {
		items, err := renderValues(s, p, f.values)
		if err != nil {
			return engine.Outcome{}, fmt.Errorf("values: %w", err)
		}
		if err := s.SetItems(p, items); err != nil {
			return engine.Outcome{}, fmt.Errorf("values: %w", err)
		}
	}
	limit, err := renderInt(s, p, f.limit, f.def)
	if err != nil {
		return engine.Outcome{}, fmt.Errorf("concurrency: %w", err)
	}
	tasks := f.t.Children["tasks"]
	first := firstEnabled(tasks)
	worst := flow.StateSuccess
	active, pending := 0, false
	for _, it := range p.Items {
		started := first != nil && s.Run(p, first.ID, it, nil) != nil
		if !started {
			if worst == flow.StateFailed || worst == flow.StateKilled {
				continue
			}
			if limit > 0 && active >= limit {
				pending = true
				break
			}
		}
		st, done := s.Block(p, it, nil, tasks, 1)
		if !done {
			active++
			continue
		}
		worst = engine.Worst(worst, st)
	}
	if active > 0 || pending {
		return engine.Outcome{}, nil
	}
	c := f.t.Children
	out := s.List(p, p.Value, nil, nil, c["errors"], c["finally"], 1)
	if !out.Done {
		return out, nil
	}
	// When the errors branch ran, the loop stays failed, as in Kestra.
	out.State = engine.Worst(worst, out.State)
	return out, nil
}

func firstEnabled(ts []*flow.Task) *flow.Task {
	for _, t := range ts {
		if !t.Disabled {
			return t
		}
	}
	return nil
}

// renderValues turns a loop's values (a list, or a string holding a JSON
// list, expressions allowed) into the strings its children carry: strings
// as they are, anything else as JSON.
func renderValues(s *engine.Scope, p *flow.TaskRun, v any) ([]string, error) {
	var list []any
	switch v := v.(type) {
	case nil:
		return nil, fmt.Errorf("no values given")
	case string:
		out, err := s.RenderTyped(p, v)
		if err != nil {
			return nil, err
		}
		switch o := out.(type) {
		case []any:
			list = o
		case string:
			if strings.TrimSpace(o) == "" {
				return []string{}, nil
			}
			if err := json.Unmarshal([]byte(o), &list); err != nil {
				return nil, fmt.Errorf("%q is not a JSON list", o)
			}
		case nil:
			return []string{}, nil
		default:
			return nil, fmt.Errorf("expected a list, got %T", o)
		}
	case []any:
		out, err := s.RenderValue(p, v)
		if err != nil {
			return nil, err
		}
		list, _ = out.([]any)
	default:
		return nil, fmt.Errorf("expected a list, got %T", v)
	}
	items := make([]string, 0, len(list))
	nulls := 0
	for _, x := range list {
		if x == nil {
			nulls++
			continue
		}
		items = append(items, str(x))
	}
	if nulls > 0 {
		// Kestra's words, with the values as Java prints them.
		return nil, fmt.Errorf("Found '%d' null values on Each, with values=%s", nulls, javaString(list))
	}
	return items, nil
}

// javaString prints v as Java's toString does for lists and maps.
func javaString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = javaString(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := sortedKeys(x)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + javaString(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *ordered.Map:
		parts := make([]string, 0, x.Len())
		for k, e := range x.All() {
			parts = append(parts, k+"="+javaString(e))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return str(v)
}

func renderInt(s *engine.Scope, p *flow.TaskRun, v any, def int) (int, error) {
	switch v := v.(type) {
	case nil:
		return def, nil
	case float64:
		return int(v), nil
	case string:
		out, err := s.Render(p, v)
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(strings.TrimSpace(out))
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", out)
		}
		return n, nil
	}
	return def, nil
}

// allowFailure runs its tasks and turns a failure into a warning.
type allowFailure struct{ t *flow.Task }

func (f allowFailure) Resolve(s *engine.Scope, p *flow.TaskRun) (engine.Outcome, error) {
	c := f.t.Children
	out := s.Sequential(p, c["tasks"], c["errors"], c["finally"])
	if out.Done && out.State == flow.StateFailed {
		out.State = flow.StateWarning
	}
	return out, nil
}

type dagProps struct {
	Concurrent any `json:"concurrent"`
}

// dag runs each task once all the tasks it depends on succeeded.
type dag struct {
	t          *flow.Task
	concurrent any
}

// ConcurrentChildren implements engine.ConcurrentChildren.
func (dag) ConcurrentChildren() bool { return true }

func (f dag) Resolve(s *engine.Scope, p *flow.TaskRun) (engine.Outcome, error) {
	limit, err := renderInt(s, p, f.concurrent, 0)
	if err != nil {
		return engine.Outcome{}, fmt.Errorf("concurrent: %w", err)
	}
	state := map[string]flow.State{}
	running := 0
	worst := flow.StateSuccess
	for _, d := range f.t.DagTasks {
		if tr := s.Run(p, d.Task.ID, p.Value, nil); tr != nil {
			state[d.Task.ID] = tr.State.Current
			if tr.State.Current.IsTerminal() {
				worst = engine.Worst(worst, tr.State.Current)
			} else {
				running++
			}
		}
	}
	failed := worst == flow.StateFailed || worst == flow.StateKilled
	for _, d := range f.t.DagTasks {
		if _, ok := state[d.Task.ID]; ok || d.Task.Disabled || failed {
			continue
		}
		ready := true
		for _, dep := range d.DependsOn {
			st, ok := state[dep]
			if !ok || !st.IsTerminal() || st.IsFailed() {
				ready = false
				break
			}
		}
		if !ready || (limit > 0 && running >= limit) {
			continue
		}
		tr := s.Create(d.Task, p, p.Value, nil)
		state[d.Task.ID] = tr.State.Current
		if tr.State.Current.IsTerminal() {
			worst = engine.Worst(worst, tr.State.Current)
		} else {
			running++
		}
	}
	if running > 0 {
		return engine.Outcome{}, nil
	}
	c := f.t.Children
	if worst == flow.StateFailed && len(c["errors"]) > 0 {
		if _, done := s.Block(p, p.Value, nil, c["errors"], 1); !done {
			return engine.Outcome{}, nil
		}
	}
	if len(c["finally"]) > 0 {
		st, done := s.Block(p, p.Value, nil, c["finally"], 1)
		if !done {
			return engine.Outcome{}, nil
		}
		worst = engine.Worst(worst, st)
	}
	return engine.Outcome{Done: true, State: worst}, nil
}

var (
	_ engine.ConcurrentChildren = parallel{}
	_ engine.ConcurrentChildren = forEach{}
	_ engine.ConcurrentChildren = dag{}
	_ engine.OwnTimeout         = pause{}
)
