// Package trigger decides when Kestra's event triggers fire: Flow triggers
// (another execution changed state) and Webhook triggers (an HTTP call),
// with the conditions both share with schedules. It reads the trigger's
// properties as Kestra writes them and builds the executions a fire
// creates; it keeps no state of its own between calls — a Flow trigger's
// multiple-condition windows live in the store's trigger state, so every
// executor process sees the same windows.
package trigger

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/calendar"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// Renderer renders expressions; render.Renderer implements it.
type Renderer interface {
	Render(ctx context.Context, tmpl string, vars map[string]any) (string, error)
	RenderValue(ctx context.Context, v any, vars map[string]any) (any, error)
}

// Context is what a condition is checked against. Execution is the
// execution the condition looks at (the source execution of a Flow
// trigger, the execution a webhook is about to create); Vars are that
// execution's expression variables; Now is the time date conditions use.
type Context struct {
	Execution *flow.Execution
	Vars      map[string]any
	Now       time.Time
	Renderer  Renderer
	// Holidays are the calendars PublicHoliday reads; nil: the built-in
	// ones.
	Holidays Holidays
}

// Holidays answers the PublicHoliday condition: *calendar.Calendars, the
// built-in calendars and those the operator supplied.
type Holidays interface {
	IsPublicHoliday(date time.Time, country, subdivision string) (bool, error)
}

// Kind reduces a condition or trigger type to its short name, so the
// current (io.kestra.plugin.core.condition.ExecutionStatus) and legacy
// (io.kestra.core.models.conditions.types.ExecutionStatusCondition) names
// read alike.
func Kind(typ string) string {
	name := typ[strings.LastIndexByte(typ, '.')+1:]
	if name != "MultipleCondition" {
		name = strings.TrimSuffix(name, "Condition")
	}
	if name == "Variable" { // Kestra's name for ExpressionCondition before 0.17
		name = "Expression"
	}
	return name
}

// IsMultiple reports whether a condition keeps state across executions
// (MultipleCondition): it is checked by Evaluate, not by Check.
func IsMultiple(c map[string]any) bool {
	t, _ := c["type"].(string)
	return Kind(t) == "MultipleCondition"
}

// Conditions reads a trigger's conditions list.
func Conditions(props map[string]any) []map[string]any {
	raw, _ := props["conditions"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, c := range raw {
		// Conditions are looked up by key, never iterated for order.
		if m, ok := ordered.Plain(c).(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// CheckAll reports whether every condition holds, MultipleConditions left
// out.
func CheckAll(ctx context.Context, conds []map[string]any, cc Context) (bool, error) {
	for _, c := range conds {
		if IsMultiple(c) {
			continue
		}
		ok, err := Check(ctx, c, cc)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// Check reports whether one condition holds. An unknown condition type is
// an error, so a flow never fires on a condition Osprey cannot read.
func Check(ctx context.Context, c map[string]any, cc Context) (bool, error) {
	typ, _ := c["type"].(string)
	ex := cc.Execution
	switch Kind(typ) {
	case "ExecutionStatus":
		if ex == nil {
			return false, nil
		}
		st := string(ex.State.Current)
		in, notIn := strs(c["in"]), strs(c["notIn"])
		if len(in) > 0 && !slices.Contains(in, st) {
			return false, nil
		}
		return !slices.Contains(notIn, st), nil
	case "ExecutionFlow":
		if ex == nil {
			return false, nil
		}
		return ex.Namespace == str(c["namespace"]) && ex.FlowID == str(c["flowId"]), nil
	case "ExecutionNamespace":
		if ex == nil {
			return false, nil
		}
		return compareNamespace(ex.Namespace, str(c["namespace"]), str(c["comparison"]), c["prefix"] == true), nil
	case "ExecutionLabels":
		if ex == nil {
			return false, nil
		}
		return hasLabels(ex.Labels, c["labels"]), nil
	case "ExecutionOutputs", "Expression":
		return truthy(ctx, cc, str(c["expression"]))
	case "Flow":
		return ex != nil && ex.Namespace == str(c["namespace"]) && ex.FlowID == str(c["flowId"]), nil
	case "FlowNamespace":
		if ex == nil {
			return false, nil
		}
		return compareNamespace(ex.Namespace, str(c["namespace"]), "", c["prefix"] == true), nil
	case "DayWeek":
		d, err := dateOf(ctx, cc, c)
		if err != nil {
			return false, err
		}
		return strings.EqualFold(d.Weekday().String(), str(c["dayOfWeek"])), nil
	case "Weekend":
		d, err := dateOf(ctx, cc, c)
		if err != nil {
			return false, err
		}
		return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday, nil
	case "TimeBetween":
		d, err := dateOf(ctx, cc, c)
		if err != nil {
			return false, err
		}
		return between(d, c, "15:04:05", func(t time.Time) time.Time {
			return time.Date(0, 1, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		})
	case "DayWeekInMonth":
		d, err := dateOf(ctx, cc, c)
		if err != nil {
			return false, err
		}
		return calendar.IsDayWeekInMonth(d, str(c["dayOfWeek"]), str(c["dayInMonth"])), nil
	case "Or", "Not":
		subs, _ := c["conditions"].([]any)
		held := false
		for _, v := range subs {
			sub, _ := v.(map[string]any)
			ok, err := Check(ctx, sub, cc)
			if err != nil {
				return false, err
			}
			if ok {
				held = true
				break
			}
		}
		if Kind(typ) == "Not" {
			return !held, nil
		}
		return held, nil
	case "PublicHoliday":
		d, err := dateOf(ctx, cc, c)
		if err != nil {
			return false, err
		}
		country, err := renderProp(ctx, cc, c, "country")
		if err != nil {
			return false, err
		}
		sub, err := renderProp(ctx, cc, c, "subDivision")
		if err != nil {
			return false, err
		}
		if cc.Holidays == nil {
			return calendar.IsPublicHoliday(d, country, sub)
		}
		return cc.Holidays.IsPublicHoliday(d, country, sub)
	case "HasRetryAttempt":
		if ex == nil {
			return false, errors.New("HasRetryAttempt needs an execution: use it on a Flow trigger")
		}
		return hasRetryAttempt(ex, strs(c["in"]), strs(c["notIn"])), nil
	case "DateTimeBetween":
		d, err := dateOf(ctx, cc, c)
		if err != nil {
			return false, err
		}
		return between(d, c, time.RFC3339, func(t time.Time) time.Time { return t })
	}
	return false, fmt.Errorf("condition type %q is not supported", typ)
}

// hasRetryAttempt reports whether a task run of ex was retried (it has
// more than one attempt) with an attempt whose state is in `in` (when
// given) and not in notIn, as Kestra's HasRetryAttempt reads it.
func hasRetryAttempt(ex *flow.Execution, in, notIn []string) bool {
	for _, tr := range ex.TaskRunList {
		if len(tr.Attempts) < 2 {
			continue
		}
		for _, a := range tr.Attempts {
			st := string(a.State.Current)
			if (len(in) == 0 || slices.Contains(in, st)) && !slices.Contains(notIn, st) {
				return true
			}
		}
	}
	return false
}

// compareNamespace applies ExecutionNamespace's comparison: EQUALS (the
// default), PREFIX or SUFFIX; the legacy prefix: true means PREFIX.
func compareNamespace(ns, want, comparison string, prefix bool) bool {
	if prefix && comparison == "" {
		comparison = "PREFIX"
	}
	switch strings.ToUpper(comparison) {
	case "PREFIX":
		return strings.HasPrefix(ns, want)
	case "SUFFIX":
		return strings.HasSuffix(ns, want)
	}
	return ns == want
}

// hasLabels reports whether every wanted label is on the execution; labels
// are a map or a list of {key, value}.
func hasLabels(have []flow.Label, want any) bool {
	match := func(k, v string) bool {
		return slices.ContainsFunc(have, func(l flow.Label) bool { return l.Key == k && l.Value == v })
	}
	switch w := want.(type) {
	case map[string]any:
		for k, v := range w {
			if !match(k, fmt.Sprint(v)) {
				return false
			}
		}
	case []any:
		for _, item := range w {
			m, _ := item.(map[string]any)
			if !match(str(m["key"]), fmt.Sprint(m["value"])) {
				return false
			}
		}
	}
	return true
}

// truthy renders an expression and reads it as Kestra reads conditions.
func truthy(ctx context.Context, cc Context, expr string) (bool, error) {
	if expr == "" {
		return false, fmt.Errorf("expression condition without an expression")
	}
	if cc.Renderer == nil {
		return false, fmt.Errorf("expression condition %q: no renderer", expr)
	}
	s, err := cc.Renderer.Render(ctx, expr, cc.Vars)
	if err != nil {
		return false, fmt.Errorf("render condition %q: %w", expr, err)
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "false", "0", "-0", "0.0", "null":
		return false, nil
	}
	return true, nil
}

// dateOf returns the date a date condition looks at: its rendered `date`
// property (Kestra's default is the trigger date) or Now.
// renderProp renders a condition's text property (empty when unset).
func renderProp(ctx context.Context, cc Context, c map[string]any, name string) (string, error) {
	v := str(c[name])
	if v == "" || cc.Renderer == nil {
		return v, nil
	}
	out, err := cc.Renderer.Render(ctx, v, cc.Vars)
	if err != nil {
		return "", fmt.Errorf("render %s %q: %w", name, v, err)
	}
	return out, nil
}

func dateOf(ctx context.Context, cc Context, c map[string]any) (time.Time, error) {
	d := str(c["date"])
	if d == "" {
		if sd, ok := cc.Vars["trigger"].(map[string]any); ok {
			if s, ok := sd["date"].(string); ok {
				d = s
			}
		}
	}
	if d == "" {
		return cc.Now, nil
	}
	if cc.Renderer != nil {
		s, err := cc.Renderer.Render(ctx, d, cc.Vars)
		if err != nil {
			return time.Time{}, fmt.Errorf("render date %q: %w", d, err)
		}
		d = s
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(d))
	if err != nil {
		return time.Time{}, fmt.Errorf("condition date %q is not an ISO-8601 date-time: %w", d, err)
	}
	return t, nil
}

// between checks after <= d <= before, either bound optional.
func between(d time.Time, c map[string]any, layout string, norm func(time.Time) time.Time) (bool, error) {
	for _, b := range []struct {
		key   string
		after bool
	}{{"after", true}, {"before", false}} {
		s := str(c[b.key])
		if s == "" {
			continue
		}
		bound, err := parseBound(s, layout)
		if err != nil {
			return false, fmt.Errorf("condition %s %q: %w", b.key, s, err)
		}
		if b.after && norm(d).Before(norm(bound)) {
			return false, nil
		}
		if !b.after && norm(d).After(norm(bound)) {
			return false, nil
		}
	}
	return true, nil
}

var offsetSuffix = regexp.MustCompile(`([+-]\d\d:\d\d|Z)$`)

func parseBound(s, layout string) (time.Time, error) {
	if layout == "15:04:05" {
		s = offsetSuffix.ReplaceAllString(s, "")
		for _, l := range []string{"15:04:05.999999999", "15:04"} {
			if t, err := time.Parse(l, s); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("not a time (HH:mm:ss)")
	}
	return time.Parse(time.RFC3339Nano, s)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// strs reads a string or a list of strings.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}
