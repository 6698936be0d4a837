package trigger

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// Listener is one Flow trigger of one flow.
type Listener struct {
	Flow    *flow.Flow
	Trigger *flow.Trigger
}

// Listens reports whether the trigger looks at executions in state s: its
// `states` list, or every terminal state, as Kestra's default.
func (l Listener) Listens(s flow.State) bool {
	if want := strs(l.Trigger.Props["states"]); len(want) > 0 {
		return slices.Contains(want, string(s))
	}
	return s.IsTerminal()
}

// Windows is a Flow trigger's persisted multiple-condition state, by
// condition id.
type Windows map[string]*Window

// Window holds when each named condition of a multiple condition last held
// within the window [Start, End); the trigger fires once all have.
type Window struct {
	Start   time.Time            `json:"start"`
	End     time.Time            `json:"end"`
	Results map[string]time.Time `json:"results"`
}

// Time window types of preconditions (Kestra's TimeWindow.Type).
const (
	windowDuration = "DURATION_WINDOW"     // fixed windows of `window`, from midnight plus windowAdvance
	windowSliding  = "SLIDING_WINDOW"      // each result counts for `window` after it happened
	windowDeadline = "DAILY_TIME_DEADLINE" // from midnight to `deadline`, each day
	windowDaily    = "DAILY_TIME_WINDOW"   // from `startTime` to `endTime`, each day
)

// multiple is a MultipleCondition, or the preconditions block read as one.
type multiple struct {
	id    string
	conds map[string]func(context.Context, Context) (bool, error)
	kind  string
	// window is the window's length, advance where windows start after
	// midnight (UTC); from and to bound the daily kinds, as times of day.
	window, advance, from, to time.Duration
}

// Evaluate checks a Flow trigger against an execution that changed state
// and updates its multiple-condition windows in w (which it may modify). It
// returns whether the trigger fires and whether w changed. On a fire the
// windows of the trigger start over, as Kestra's do.
func Evaluate(ctx context.Context, l Listener, cc Context, w Windows) (fire, changed bool, err error) {
	ex := cc.Execution
	if l.Flow.Namespace == ex.Namespace && l.Flow.ID == ex.FlowID {
		return false, false, nil // a flow never triggers itself
	}
	if !l.Listens(ex.State.Current) {
		return false, false, nil
	}
	ok, err := CheckAll(ctx, Conditions(l.Trigger.Props), cc)
	if err != nil || !ok {
		return false, false, err
	}
	ms, err := multiples(l.Trigger.Props)
	if err != nil {
		return false, false, err
	}
	if len(ms) == 0 {
		return true, false, nil
	}
	complete := true
	for _, m := range ms {
		start, end, open := m.bounds(cc.Now)
		win := w[m.id]
		if win != nil && (!win.Start.Equal(start) || !win.End.Equal(end)) {
			delete(w, m.id) // the window it belongs to is over
			win, changed = nil, true
		}
		if win != nil && m.kind == windowSliding {
			for key, at := range win.Results {
				if !cc.Now.Before(at.Add(m.window)) {
					delete(win.Results, key)
					changed = true
				}
			}
		}
		for _, key := range slices.Sorted(maps.Keys(m.conds)) {
			if !open {
				break
			}
			// As in Kestra, a condition that cannot be evaluated for this
			// execution (an expression on a label it lacks) does not hold.
			ok, err := m.conds[key](ctx, cc)
			if err != nil || !ok {
				continue
			}
			if _, seen := win.result(key); seen && m.kind != windowSliding {
				continue // the first time counts; a sliding window keeps the latest
			}
			if win == nil {
				win = &Window{Start: start, End: end, Results: map[string]time.Time{}}
				w[m.id] = win
			}
			win.Results[key] = cc.Now
			changed = true
		}
		if win == nil || len(win.Results) < len(m.conds) {
			complete = false
		}
	}
	if complete {
		for _, m := range ms {
			delete(w, m.id)
		}
		return true, true, nil
	}
	return false, changed, nil
}

func (w *Window) result(key string) (time.Time, bool) {
	if w == nil {
		return time.Time{}, false
	}
	t, ok := w.Results[key]
	return t, ok
}

// bounds returns the window now falls in and whether results are taken
// now (the daily kinds close outside their hours).
func (m multiple) bounds(now time.Time) (start, end time.Time, open bool) {
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	switch m.kind {
	case windowSliding:
		return time.Time{}, time.Time{}, true
	case windowDeadline:
		return day, day.Add(m.to), now.Before(day.Add(m.to))
	case windowDaily:
		return day.Add(m.from), day.Add(m.to), !now.Before(day.Add(m.from)) && now.Before(day.Add(m.to))
	}
	window := m.window
	if window <= 0 {
		window = 24 * time.Hour
	}
	start = day.Add(m.advance)
	for start.After(now) {
		start = start.Add(-window)
	}
	for !start.Add(window).After(now) {
		start = start.Add(window)
	}
	return start, start.Add(window), true
}

// multiples reads the trigger's MultipleConditions and its preconditions.
func multiples(props map[string]any) ([]multiple, error) {
	var out []multiple
	for i, c := range Conditions(props) {
		if !IsMultiple(c) {
			continue
		}
		m := multiple{id: str(c["id"]), kind: windowDuration, window: 24 * time.Hour, conds: map[string]func(context.Context, Context) (bool, error){}}
		if m.id == "" {
			m.id = fmt.Sprintf("conditions[%d]", i)
		}
		if err := durations(c, &m.window, &m.advance); err != nil {
			return nil, fmt.Errorf("condition %s: %w", m.id, err)
		}
		named, _ := c["conditions"].(map[string]any)
		for key, v := range named {
			sub, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("condition %s.%s: not a condition", m.id, key)
			}
			m.conds[key] = func(ctx context.Context, cc Context) (bool, error) { return Check(ctx, sub, cc) }
		}
		if len(m.conds) > 0 {
			out = append(out, m)
		}
	}
	if pre, ok := ordered.Plain(props["preconditions"]).(map[string]any); ok {
		m, err := preconditions(pre)
		if err != nil {
			return nil, fmt.Errorf("preconditions: %w", err)
		}
		if len(m.conds) > 0 {
			out = append(out, m)
		}
	}
	return out, nil
}

// timeOfDay reads an HH:mm[:ss] property as a duration since midnight.
func timeOfDay(c map[string]any, key string) (time.Duration, error) {
	t, err := parseBound(str(c[key]), "15:04:05")
	if err != nil {
		return 0, fmt.Errorf("%s %q: %w", key, str(c[key]), err)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second, nil
}

func durations(c map[string]any, window, advance *time.Duration) error {
	for key, dst := range map[string]*time.Duration{"window": window, "windowAdvance": advance} {
		if s := str(c[key]); s != "" {
			d, err := flow.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			*dst = d
		}
	}
	return nil
}

// preconditions reads Kestra's preconditions block (upstream flows and
// `where` filters) as one multiple condition, with its timeWindow (default:
// a one-day duration window from midnight).
func preconditions(pre map[string]any) (multiple, error) {
	m := multiple{id: str(pre["id"]), kind: windowDuration, window: 24 * time.Hour, conds: map[string]func(context.Context, Context) (bool, error){}}
	if m.id == "" {
		m.id = "preconditions"
	}
	if tw, ok := pre["timeWindow"].(map[string]any); ok {
		if err := durations(tw, &m.window, &m.advance); err != nil {
			return m, fmt.Errorf("timeWindow: %w", err)
		}
		if k := strings.ToUpper(str(tw["type"])); k != "" {
			m.kind = k
		}
		var err error
		switch m.kind {
		case windowDuration, windowSliding:
		case windowDeadline:
			m.to, err = timeOfDay(tw, "deadline")
		case windowDaily:
			if m.from, err = timeOfDay(tw, "startTime"); err == nil {
				m.to, err = timeOfDay(tw, "endTime")
			}
		default:
			err = fmt.Errorf("type %q: use DURATION_WINDOW, SLIDING_WINDOW, DAILY_TIME_DEADLINE or DAILY_TIME_WINDOW", m.kind)
		}
		if err != nil {
			return m, fmt.Errorf("timeWindow: %w", err)
		}
	}
	flows, _ := pre["flows"].([]any)
	for i, v := range flows {
		up, _ := v.(map[string]any)
		ns, id := str(up["namespace"]), str(up["flowId"])
		states := strs(up["states"])
		if len(states) == 0 {
			states = []string{string(flow.StateSuccess)}
		}
		labels := up["labels"]
		m.conds[fmt.Sprintf("flow-%d-%s.%s", i, ns, id)] = func(_ context.Context, cc Context) (bool, error) {
			ex := cc.Execution
			return ex.Namespace == ns && ex.FlowID == id && slices.Contains(states, string(ex.State.Current)) && hasLabels(ex.Labels, labels), nil
		}
	}
	wheres, _ := pre["where"].([]any)
	for i, v := range wheres {
		w, _ := v.(map[string]any)
		key := str(w["id"])
		if key == "" {
			key = fmt.Sprintf("where-%d", i)
		}
		or := strings.EqualFold(str(w["operand"]), "OR")
		filters, _ := w["filters"].([]any)
		m.conds["where-"+key] = func(ctx context.Context, cc Context) (bool, error) {
			for _, f := range filters {
				fm, _ := f.(map[string]any)
				ok, err := filter(ctx, fm, cc)
				if err != nil {
					return false, err
				}
				if ok && or {
					return true, nil
				}
				if !ok && !or {
					return false, nil
				}
			}
			return !or || len(filters) == 0, nil
		}
	}
	return m, nil
}

// filter applies one `where` filter of preconditions to the execution.
func filter(ctx context.Context, f map[string]any, cc Context) (bool, error) {
	ex := cc.Execution
	var field string
	switch strings.ToUpper(str(f["field"])) {
	case "FLOW_ID":
		field = ex.FlowID
	case "NAMESPACE":
		field = ex.Namespace
	case "STATE":
		field = string(ex.State.Current)
	case "EXPRESSION":
		tmpl := str(f["value"])
		if cc.Renderer == nil {
			return false, fmt.Errorf("expression filter %q: no renderer", tmpl)
		}
		s, err := cc.Renderer.Render(ctx, tmpl, cc.Vars)
		if err != nil {
			return false, fmt.Errorf("render filter %q: %w", tmpl, err)
		}
		field = strings.TrimSpace(s)
	default:
		return false, fmt.Errorf("filter field %q: use FLOW_ID, NAMESPACE, STATE or EXPRESSION", str(f["field"]))
	}
	value := fmt.Sprint(f["value"])
	values := strs(f["values"])
	switch typ := strings.ToUpper(str(f["type"])); typ {
	case "EQUAL_TO":
		return field == value, nil
	case "NOT_EQUAL_TO":
		return field != value, nil
	case "IS_NULL":
		return field == "", nil
	case "IS_NOT_NULL":
		return field != "", nil
	case "IS_TRUE":
		return strings.EqualFold(field, "true"), nil
	case "IS_FALSE":
		return strings.EqualFold(field, "false"), nil
	case "STARTS_WITH":
		return strings.HasPrefix(field, value), nil
	case "ENDS_WITH":
		return strings.HasSuffix(field, value), nil
	case "CONTAINS":
		return strings.Contains(field, value), nil
	case "REGEX":
		re, err := regexp.Compile("^(?:" + value + ")$")
		if err != nil {
			return false, fmt.Errorf("filter regex %q: %w", value, err)
		}
		return re.MatchString(field), nil
	case "IN":
		return slices.Contains(values, field), nil
	case "NOT_IN":
		return !slices.Contains(values, field), nil
	default:
		return false, fmt.Errorf("filter type %q is not supported", typ)
	}
}

// Variables are the trigger variables of an execution a Flow trigger
// starts ({{ trigger.executionId }} …), as Kestra's Flow.Output.
func Variables(src *flow.Execution) map[string]any {
	labels := map[string]any{}
	for _, l := range src.Labels {
		labels[l.Key] = l.Value
	}
	v := map[string]any{
		"executionId":     src.ID,
		"namespace":       src.Namespace,
		"flowId":          src.FlowID,
		"flowRevision":    src.FlowRevision,
		"state":           string(src.State.Current),
		"executionLabels": labels,
	}
	if len(src.Outputs) > 0 {
		v["outputs"] = src.Outputs
	}
	return v
}
