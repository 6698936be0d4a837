package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// view is what targets are resolved against.
type view struct {
	exec     *flow.Execution
	logs     []flow.LogEntry
	response map[string]any // webhook response execution
	status   int
	body     []byte
	values   map[string]string // value_of resolutions
}

// missing marks a target that resolves to nothing (for absent / is_null).
type missing struct{}

var (
	reTaskRun    = regexp.MustCompile(`^taskrun\[([^\];]+)(?:;\s*values=\[([^\]]*)\])?\]\]?(.*)$`)
	reTaskRuns   = regexp.MustCompile(`^taskruns\[(\d+|last)\](.*)$`)
	reLog        = regexp.MustCompile(`^log\(([^)]*)\)(.*)$`)
	reTemplate   = regexp.MustCompile(`^\{\{.*\}\}$`)
	reIndex      = regexp.MustCompile(`^\[(\d+)\](.*)$`)
	reAttemptIdx = regexp.MustCompile(`^attempts\[(\d+)\]\.state$`)
)

// resolve returns the value a target names, missing{} when it names
// nothing, or an error when the notation is not understood.
func (v *view) resolve(target string) (any, error) {
	t := strings.TrimSpace(target)
	if i := strings.Index(t, " ("); i > 0 {
		t = t[:i] // "execution.state (100 ms after resume)"
	}
	switch {
	case t == "HTTP status":
		return v.status, nil
	case t == "response body":
		if len(strings.TrimSpace(string(v.body))) == 0 {
			return nil, nil
		}
		return string(v.body), nil
	case strings.HasPrefix(t, "response execution"):
		if v.response == nil {
			return missing{}, nil
		}
		rest := strings.TrimPrefix(t, "response execution")
		return path(v.response, strings.TrimPrefix(rest, "."))
	case strings.HasPrefix(t, "count(task runs whose state is failed)"):
		n := 0
		for _, tr := range v.exec.TaskRunList {
			if tr.State.Current == flow.StateFailed {
				n++
			}
		}
		return n, nil
	case reTemplate.MatchString(t):
		out, err := expr.New(expr.Options{}).RenderTyped(context.Background(), t, &expr.Scope{Vars: map[string]any{"outputs": engine.Outputs(v.exec)}})
		if err != nil {
			return missing{}, nil //nolint:nilerr // a template that fails to render names no value
		}
		return out, nil
	case strings.HasPrefix(t, "execution.state.histories"):
		states := make([]any, len(v.exec.State.Histories))
		for i, h := range v.exec.State.Histories {
			states[i] = string(h.State)
		}
		return path(states, strings.TrimPrefix(t, "execution.state.histories"))
	case strings.HasPrefix(t, "execution"):
		return path(toJSON(v.exec), strings.TrimPrefix(strings.TrimPrefix(t, "execution"), "."))
	}
	if m := reTaskRuns.FindStringSubmatch(t); m != nil {
		runs := v.exec.TaskRunList
		i := len(runs) - 1
		if m[1] != "last" {
			i, _ = strconv.Atoi(m[1])
		}
		if i < 0 || i >= len(runs) {
			return missing{}, nil
		}
		return taskRunPath(runs[i], strings.TrimPrefix(m[2], "."))
	}
	if m := reTaskRun.FindStringSubmatch(t); m != nil {
		id := strings.TrimSpace(m[1])
		var tr *flow.TaskRun
		if m[2] != "" {
			tr = v.byValues(id, splitValues(m[2]))
		} else if id == "last" {
			if n := len(v.exec.TaskRunList); n > 0 {
				tr = v.exec.TaskRunList[n-1]
			}
		} else if runs := v.exec.TaskRunsByTaskID(id); len(runs) > 0 {
			tr = runs[0]
		}
		if tr == nil {
			return missing{}, nil
		}
		return taskRunPath(tr, strings.TrimPrefix(m[3], "."))
	}
	if m := reLog.FindStringSubmatch(t); m != nil {
		return v.logPath(m[1], strings.TrimPrefix(m[2], "."))
	}
	return nil, fmt.Errorf("target %q is not understood by the runner", target)
}

func splitValues(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		out = append(out, strings.Trim(strings.TrimSpace(p), `'"`))
	}
	return out
}

// byValues finds the task run of id whose chain of loop values (outermost
// first, repeats folded) equals values.
func (v *view) byValues(id string, values []string) *flow.TaskRun {
	for _, tr := range v.exec.TaskRunsByTaskID(id) {
		chain := []*flow.TaskRun{tr}
		chain = append(chain, v.exec.Parents(tr)...)
		var vals []string
		for i := len(chain) - 1; i >= 0; i-- {
			val := chain[i].Value
			if val == "" || (len(vals) > 0 && vals[len(vals)-1] == val) {
				continue
			}
			vals = append(vals, val)
		}
		if reflect.DeepEqual(vals, values) {
			return tr
		}
	}
	return nil
}

func taskRunPath(tr *flow.TaskRun, p string) (any, error) {
	switch {
	case p == "":
		return toJSON(tr), nil
	case p == "state":
		return string(tr.State.Current), nil
	case p == "state.histories":
		out := make([]any, 0, len(tr.State.Histories))
		for _, h := range tr.State.Histories {
			out = append(out, string(h.State))
		}
		return out, nil
	case p == "attempts.count":
		return len(tr.Attempts), nil
	case p == "taskId":
		return tr.TaskID, nil
	}
	if m := reAttemptIdx.FindStringSubmatch(p); m != nil {
		i, _ := strconv.Atoi(m[1])
		if i >= len(tr.Attempts) {
			return missing{}, nil
		}
		return string(tr.Attempts[i].State.Current), nil
	}
	return path(toJSON(tr), p)
}

func (v *view) logPath(sel, p string) (any, error) {
	var match func(flow.LogEntry) bool
	switch {
	case sel == "any":
		match = func(flow.LogEntry) bool { return true }
	case strings.HasPrefix(sel, "taskrun="):
		ref := strings.TrimPrefix(sel, "taskrun=")
		m := reTaskRuns.FindStringSubmatch(ref)
		if m == nil {
			return nil, fmt.Errorf("log selector %q is not understood", sel)
		}
		i, _ := strconv.Atoi(m[1])
		if m[1] == "last" {
			i = len(v.exec.TaskRunList) - 1
		}
		if i < 0 || i >= len(v.exec.TaskRunList) {
			return missing{}, nil
		}
		id := v.exec.TaskRunList[i].ID
		match = func(l flow.LogEntry) bool { return l.TaskRunID == id }
	case strings.HasPrefix(sel, "taskId="):
		id := strings.TrimPrefix(sel, "taskId=")
		match = func(l flow.LogEntry) bool { return l.TaskID == id }
	default:
		return nil, fmt.Errorf("log selector %q is not understood", sel)
	}
	var found []flow.LogEntry
	for _, l := range v.logs {
		if match(l) {
			found = append(found, l)
		}
	}
	if len(found) == 0 {
		return missing{}, nil
	}
	pick := func(l flow.LogEntry) any {
		switch p {
		case "message":
			return l.Message
		case "level":
			return l.Level
		}
		return toJSON(l)
	}
	if sel == "any" && p == "message" {
		// "a log whose message …": hand every message to the op.
		out := make([]any, len(found))
		for i, l := range found {
			out[i] = pick(l)
		}
		return anyOf(out), nil
	}
	return pick(found[0]), nil
}

// anyOf is a set of candidates: an op passes if it passes for one of them.
type anyOf []any

// path walks a JSON-like value along a dotted path with [n] and [key]
// subscripts.
func path(v any, p string) (any, error) {
	cur := v
	for p != "" {
		if m := reIndex.FindStringSubmatch(p); m != nil {
			i, _ := strconv.Atoi(m[1])
			list, ok := cur.([]any)
			if !ok || i >= len(list) {
				return missing{}, nil
			}
			cur, p = list[i], strings.TrimPrefix(m[2], ".")
			continue
		}
		if strings.HasPrefix(p, "[") {
			end := strings.Index(p, "]")
			if end < 0 {
				return nil, fmt.Errorf("bad path %q", p)
			}
			key := p[1:end]
			p = strings.TrimPrefix(p[end+1:], ".")
			// labels[key] on a list of {key,value}
			if list, ok := cur.([]any); ok {
				var found any = missing{}
				for _, it := range list {
					if m, ok := it.(map[string]any); ok && m["key"] == key {
						found = m["value"]
					}
				}
				cur = found
				continue
			}
			m, ok := cur.(map[string]any)
			if !ok {
				return missing{}, nil
			}
			x, ok := m[key]
			if !ok {
				return missing{}, nil
			}
			cur = x
			continue
		}
		seg := p
		rest := ""
		if i := strings.IndexAny(p, ".["); i >= 0 {
			seg, rest = p[:i], p[i:]
		}
		p = strings.TrimPrefix(rest, ".")
		m, ok := cur.(map[string]any)
		if !ok {
			return missing{}, nil
		}
		x, ok := m[seg]
		if !ok {
			return missing{}, nil
		}
		cur = x
	}
	return cur, nil
}

func toJSON(v any) any {
	raw, _ := json.Marshal(v)
	var out any
	_ = flow.DecodeJSON(raw, &out)
	return ordered.Plain(out) // expectations walk Go maps; order is not compared here
}

// check applies op to got and want; it returns "" when it holds, else why
// not.
func check(a Assert, got, want any) string {
	if c, ok := got.(anyOf); ok {
		var last string
		for _, g := range c {
			if last = check(a, g, want); last == "" {
				return ""
			}
		}
		return last
	}
	_, isMissing := got.(missing)
	fail := func() string { return fmt.Sprintf("%s %s %v: got %v", a.Target, a.Op, show(want), show(got)) }
	switch a.Op {
	case "absent":
		if isMissing {
			return ""
		}
		return fail()
	case "is_null":
		if isMissing || got == nil {
			return ""
		}
		return fail()
	case "not_null":
		if !isMissing && got != nil {
			return ""
		}
		return fail()
	}
	if isMissing {
		return fmt.Sprintf("%s: nothing there (wanted %s %v)", a.Target, a.Op, show(want))
	}
	switch a.Op {
	case "equals":
		if same(got, want) {
			return ""
		}
	case "not_equals":
		if !same(got, want) {
			return ""
		}
	case "contains":
		if strings.Contains(text(got), text(want)) {
			return ""
		}
	case "matches":
		re, err := regexp.Compile("^(?:" + text(want) + ")$")
		if err == nil && re.MatchString(text(got)) {
			return ""
		}
	case "size":
		if n, ok := sizeOf(got); ok && same(n, want) {
			return ""
		}
	case "count_of":
		list, _ := got.([]any)
		n := 0
		for _, x := range list {
			if text(x) == a.State {
				n++
			}
		}
		if same(n, want) {
			return ""
		}
		return fmt.Sprintf("%s count_of %s = %d, want %v (history %v)", a.Target, a.State, n, want, show(got))
	case "greater_or_equal":
		g, ok1 := num(got)
		w, ok2 := num(want)
		if ok1 && ok2 && g >= w {
			return ""
		}
	case "one_of":
		for _, w := range asList(want) {
			if same(got, w) {
				return ""
			}
		}
	case "has_items":
		gl := asList(got)
		for _, w := range asList(want) {
			found := false
			for _, g := range gl {
				if same(g, w) {
					found = true
				}
			}
			if !found {
				return fail()
			}
		}
		return ""
	case "equals_set":
		gl, wl := asList(got), asList(want)
		if len(gl) == len(wl) && subset(wl, gl) && subset(gl, wl) {
			return ""
		}
		if g, w := texts(gl), texts(wl); len(g) == len(w) {
			sort.Strings(g)
			sort.Strings(w)
			if reflect.DeepEqual(g, w) {
				return ""
			}
		}
	default:
		return fmt.Sprintf("op %q is not understood by the runner", a.Op)
	}
	return fail()
}

// subset reports whether every element of a has a same() match in b.
func subset(a, b []any) bool {
	for _, x := range a {
		found := false
		for _, y := range b {
			if same(x, y) || same(y, x) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func sizeOf(v any) (int, bool) {
	switch x := v.(type) {
	case []any:
		return len(x), true
	case map[string]any:
		return len(x), true
	case string:
		return len(x), true
	}
	return 0, false
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func texts(l []any) []string {
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = text(x)
	}
	return out
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// same compares a runtime value with an expected YAML value: numbers by
// value, maps and lists deeply, a {k: v} map against a {key, value} label,
// and scalars by their text.
func same(got, want any) bool {
	g, w := toJSON(got), toJSON(want)
	if gm, ok := g.(map[string]any); ok {
		if wm, ok := w.(map[string]any); ok && len(wm) == 1 && len(gm) == 2 && gm["key"] != nil {
			for k, val := range wm {
				return gm["key"] == k && text(gm["value"]) == text(val)
			}
		}
	}
	if gn, ok := num(g); ok {
		if wn, ok := num(w); ok {
			_, gs := g.(string)
			_, ws := w.(string)
			if gs == ws || !gs && !ws {
				return gn == wn
			}
		}
	}
	if reflect.DeepEqual(g, w) {
		return true
	}
	switch g.(type) {
	case map[string]any, []any:
		return false
	}
	return text(g) == text(w)
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func show(v any) string {
	if os.Getenv("CONF_FULL") != "" {
		return text(v)
	}
	if _, ok := v.(missing); ok {
		return "<nothing>"
	}
	s := text(v)
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
