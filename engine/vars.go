package engine

import (
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
)

// Vars returns the expression variables of task run tr (nil: the flow
// level), as Kestra's RunVariables builds them: flow, execution, task,
// taskrun, parent, parents, inputs, outputs, vars, labels, trigger, envs,
// globals.
func (s *Scope) Vars(tr *flow.TaskRun) map[string]any {
	return vars(s.flow, s.exec, tr, s.sharedVars(), s.outputs(), s.parents)
}

// outputs returns the execution-wide outputs map, built once and kept
// until a task run's outputs change: a step that dispatches n task runs
// then builds it once instead of n times. The map is shared by the
// variables of every task run rendered meanwhile, so nothing may write
// into it; a change drops it (outputsChanged) and the next call builds a
// new one, leaving the maps already handed out as they were.
func (s *Scope) outputs() map[string]any {
	if s.outs == nil {
		s.outs = outputs(s.exec, s.parents)
	}
	return s.outs
}

// outputsChanged drops the cached outputs map; every write to a task
// run's Outputs during a step calls it.
func (s *Scope) outputsChanged() {
	s.outs = nil
	if s.shared != nil {
		s.shared.parents = nil
	}
}

// Vars builds the expression variables for tr in ex of f.
func Vars(f *flow.Flow, ex *flow.Execution, tr *flow.TaskRun, globals, envs map[string]any) map[string]any {
	return vars(f, ex, tr, newShared(f, ex, globals, envs), Outputs(ex), ex.Parents)
}

// shared are the variables of an execution that are the same for every task
// run: a step that dispatches thousands of task runs builds them once
// (Scope.shared), and the maps are handed out to every task run's
// variables. Nothing writes into them once built.
type shared struct {
	flow, execution, labels, envs, globals, inputs, trigger map[string]any
	// vars is the flow's variables (an *ordered.Map, as declared), or an
	// empty map
	vars any
	// tasks are the `task` variables by task id, and parents the `parents`
	// lists by direct parent: the children of one loop share them. The
	// lists hold their task runs' outputs, so a change of outputs drops
	// them (Scope.outputsChanged).
	tasks   map[string]map[string]any
	parents map[*flow.TaskRun][]any
	// what they were built from, to know when to build them again
	state  flow.State
	nLabel int
	label0 *flow.Label
}

func newShared(f *flow.Flow, ex *flow.Execution, globals, envs map[string]any) *shared {
	sh := &shared{
		flow: map[string]any{
			"id":        f.ID,
			"namespace": f.Namespace,
			"revision":  f.Revision,
			"tenantId":  f.TenantID,
		},
		execution: map[string]any{
			"id":         ex.ID,
			"startDate":  fmtTime(ex.State.Histories),
			"originalId": firstNonEmpty(ex.OriginalID, ex.ID),
			"state":      string(ex.State.Current),
		},
		labels:  labelMap(ex.Labels),
		envs:    orEmpty(envs),
		globals: orEmpty(globals),
		state:   ex.State.Current,
		nLabel:  len(ex.Labels),
	}
	if len(ex.Labels) > 0 {
		sh.label0 = &ex.Labels[0]
	}
	if f.Variables != nil {
		sh.vars = f.Variables
	} else {
		sh.vars = map[string]any{}
	}
	if len(ex.Inputs) > 0 || len(f.Inputs) > 0 {
		// A flow without inputs has no `inputs` variable in Kestra, so
		// {{inputs.x}} there reports `inputs` as the unknown name
		// (VariablesTest#invalidVars).
		sh.inputs = orEmpty(ex.Inputs)
	}
	if ex.Trigger != nil {
		sh.trigger = orEmpty(ex.Trigger.Variables)
	}
	if ex.ScheduleDate != nil {
		sh.execution["scheduleDate"] = FormatDate(*ex.ScheduleDate)
	}
	return sh
}

// task returns the `task` variable of task id (nil: not in the flow).
func (sh *shared) task(f *flow.Flow, id string) map[string]any {
	if tv, ok := sh.tasks[id]; ok {
		return tv
	}
	var tv map[string]any
	if t := f.FindTask(id); t != nil {
		tv = map[string]any{"id": t.ID, "type": t.Type}
	}
	if sh.tasks == nil {
		sh.tasks = map[string]map[string]any{}
	}
	sh.tasks[id] = tv
	return tv
}

// parentList returns the `parents` variable of tr, nearest first.
func (sh *shared) parentList(tr *flow.TaskRun, parentsOf func(*flow.TaskRun) []*flow.TaskRun) []any {
	if tr.ParentTaskRunID == "" {
		return nil
	}
	parents := parentsOf(tr)
	if len(parents) == 0 {
		return nil
	}
	if list, ok := sh.parents[parents[0]]; ok {
		return list
	}
	list := make([]any, 0, len(parents))
	for _, p := range parents {
		pm := map[string]any{"taskrun": map[string]any{"value": nilIfEmpty(p.Value), "id": p.ID}}
		if p.Outputs != nil {
			pm["outputs"] = p.Outputs
		}
		list = append(list, pm)
	}
	if sh.parents == nil {
		sh.parents = map[*flow.TaskRun][]any{}
	}
	sh.parents[parents[0]] = list
	return list
}

// current reports whether sh still describes ex: its state and labels are
// what a step changes (inputs, trigger and dates never do).
func (sh *shared) current(ex *flow.Execution) bool {
	if sh == nil || sh.state != ex.State.Current || sh.nLabel != len(ex.Labels) {
		return false
	}
	return len(ex.Labels) == 0 || sh.label0 == &ex.Labels[0]
}

// sharedVars returns the step's shared variables, built again when the
// execution's state or labels changed.
func (s *Scope) sharedVars() *shared {
	if !s.shared.current(s.exec) {
		s.shared = newShared(s.flow, s.exec, s.engine.Globals, s.engine.Envs)
	}
	return s.shared
}

// lazyVars is what a dispatched task run's variables are built from: the
// step's shared maps and outputs map, and the task and parents variables,
// all taken when it was dispatched and never written into afterwards.
type lazyVars struct {
	sh      *shared
	outputs map[string]any
	tr      *flow.TaskRun
	task    map[string]any
	parents []any
}

func (s *Scope) lazyVars(tr *flow.TaskRun) *lazyVars {
	sh := s.sharedVars()
	return &lazyVars{sh: sh, outputs: s.outputs(), tr: tr, task: sh.task(s.flow, tr.TaskID), parents: sh.parentList(tr, s.parents)}
}

func (l *lazyVars) build() map[string]any {
	v := topVars(l.sh, l.outputs)
	taskRunVars(v, l.tr, l.task, l.parents)
	return v
}

func vars(f *flow.Flow, ex *flow.Execution, tr *flow.TaskRun, sh *shared, outputs map[string]any, parentsOf func(*flow.TaskRun) []*flow.TaskRun) map[string]any {
	v := topVars(sh, outputs)
	if tr != nil {
		taskRunVars(v, tr, sh.task(f, tr.TaskID), sh.parentList(tr, parentsOf))
	}
	return v
}

// topVars are the variables of the flow level.
func topVars(sh *shared, outputs map[string]any) map[string]any {
	v := make(map[string]any, 16)
	v["flow"] = sh.flow
	v["execution"] = sh.execution
	v["outputs"] = outputs
	v["labels"] = sh.labels
	v["envs"] = sh.envs
	v["globals"] = sh.globals
	v["vars"] = sh.vars
	if sh.inputs != nil {
		v["inputs"] = sh.inputs
	}
	if sh.trigger != nil {
		v["trigger"] = sh.trigger
	}
	return v
}

// taskRunVars adds the variables of task run tr to v.
func taskRunVars(v map[string]any, tr *flow.TaskRun, task map[string]any, parents []any) {
	if task != nil {
		v["task"] = task
	}
	trv := map[string]any{
		"id":            tr.ID,
		"startDate":     fmtTime(tr.State.Histories),
		"attemptsCount": len(tr.Attempts),
		"parentId":      nilIfEmpty(tr.ParentTaskRunID),
		"value":         nilIfEmpty(tr.Value),
	}
	if tr.Iteration != nil {
		trv["iteration"] = *tr.Iteration
	}
	v["taskrun"] = trv
	if len(parents) > 0 {
		v["parent"] = parents[0]
		v["parents"] = parents
	}
}

// Outputs builds Kestra's execution-wide outputs map: task id → outputs,
// nested by loop values for task runs inside loops.
func Outputs(ex *flow.Execution) map[string]any {
	return outputs(ex, ex.Parents)
}

func outputs(ex *flow.Execution, parentsOf func(*flow.TaskRun) []*flow.TaskRun) map[string]any {
	out := map[string]any{}
	for _, tr := range ex.TaskRunList {
		if tr.Outputs == nil {
			continue
		}
		var keys []string
		parents := parentsOf(tr)
		for i := len(parents) - 1; i >= 0; i-- {
			if parents[i].Value != "" {
				keys = append(keys, parents[i].Value)
			}
		}
		if tr.Value != "" {
			keys = append(keys, tr.Value)
		}
		if len(keys) == 0 {
			out[tr.TaskID] = mergeMaps(asMap(out[tr.TaskID]), tr.Outputs)
			continue
		}
		cur := asMap(out[tr.TaskID])
		out[tr.TaskID] = cur
		for i, k := range keys {
			if i == len(keys)-1 {
				cur[k] = mergeMaps(asMap(cur[k]), tr.Outputs)
				break
			}
			next := asMap(cur[k])
			cur[k] = next
			cur = next
		}
	}
	return out
}

func asMap(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

// mergeMaps merges src into dst, which the outputs map owns, and returns
// it. A map inside src is copied, never stored as is: a later merge into
// it (two task runs of one task at the same place, or a loop value that
// is also an output's key) would otherwise write into a task run's own
// outputs, changing what it stores.
func mergeMaps(dst, src map[string]any) map[string]any {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = mergeMaps(dm, sm)
			} else {
				dst[k] = mergeMaps(make(map[string]any, len(sm)), sm)
			}
			continue
		}
		dst[k] = v
	}
	return dst
}

// labelMap exposes labels by key and, for dotted keys such as
// system.correlationId, also nested, so {{ labels.system.correlationId }}
// reads as in Kestra.
func labelMap(ls []flow.Label) map[string]any {
	m := make(map[string]any, len(ls))
	for _, l := range ls {
		m[l.Key] = l.Value
		parts := strings.Split(l.Key, ".")
		if len(parts) < 2 {
			continue
		}
		cur := m
		for _, p := range parts[:len(parts)-1] {
			next, ok := cur[p].(map[string]any)
			if !ok {
				if _, taken := cur[p]; taken {
					cur = nil
					break
				}
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
		if cur != nil {
			cur[parts[len(parts)-1]] = l.Value
		}
	}
	return m
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func fmtTime(h []flow.StateHistory) string {
	if len(h) == 0 {
		return ""
	}
	return FormatDate(h[0].Date)
}

// FormatDate prints a date as Kestra prints an Instant in expressions:
// UTC, milliseconds.
func FormatDate(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// Truthy reads a rendered condition as Kestra does: empty, "false", "0",
// "-0", "0.0" and "null" are false; everything else is true.
func Truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "false", "0", "-0", "0.0", "null":
		return false
	}
	return true
}
