package engine

import "github.com/ospreyhq/osprey/flow"

// Index is the engine's lookup of an execution's task runs, by place and
// by id. A caller that keeps an execution between steps (the executor's
// warm copy) keeps its Index with it and hands it to Advance
// (Step.Index): a step of a ForEach over 100,000 values then indexes the
// task runs created since the last step instead of rebuilding two maps of
// 100,000 entries, which was the larger part of such a step's cost.
//
// It relies on how the list changes between steps: the engine only
// appends to it, a restart replaces it with a shorter one, and a task
// run's place (parent, task, value, iteration) is set when it is created.
// A caller that changes a place afterwards (masks a loop value) must drop
// the index.
type Index struct {
	byKey map[runKey]*flow.TaskRun
	byID  map[string]*flow.TaskRun
	list  []*flow.TaskRun // the list as last indexed
}

// NewIndex returns an empty index.
func NewIndex() *Index { return &Index{} }

// sync makes the index hold list: the task runs appended since it last
// held a list are added, and the whole list is indexed again when it
// changed otherwise (a restart dropped task runs, another copy of the
// execution was read).
func (x *Index) sync(list []*flow.TaskRun) {
	n := len(x.list)
	kept := x.byKey != nil && n <= len(list)
	for _, i := range []int{0, n / 2, n - 1} {
		if kept && n > 0 && list[i] != x.list[i] {
			kept = false
		}
	}
	from := n
	if !kept {
		x.byKey = make(map[runKey]*flow.TaskRun, len(list))
		x.byID = make(map[string]*flow.TaskRun, len(list))
		from = 0
	}
	for _, tr := range list[from:] {
		x.byKey[key(tr.ParentTaskRunID, tr.TaskID, tr.Value, tr.Iteration)] = tr
		x.byID[tr.ID] = tr
	}
	x.list = list
}
