package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/ospreyhq/osprey/flow"
)

// Replay builds a new execution that runs the ended execution src again
// from task run taskRunID against f, as Kestra's ExecutionService.replay
// does: the new execution's parentId is src, its originalId src's
// original; the task runs before the replayed one are copied as they
// ended (with new ids); the replayed one is RESTARTED (a flowable one goes
// back to RUNNING with its children dropped); what came after it in its
// sequence, and the errors and finally branches, are dropped so the
// executor decides again; its flowable ancestors run again. A
// WorkingDirectory, or one of its children, is replayed as the whole group.
// An empty
// taskRunID replays the whole execution: a new CREATED execution with the
// same inputs. Replay is pure: it does not change src.
func Replay(types Types, f *flow.Flow, src *flow.Execution, taskRunID string, newID func() string, now time.Time) (*flow.Execution, error) {
	if newID == nil {
		newID = flow.NewID
	}
	now = now.UTC()
	original := src.OriginalID
	if original == "" {
		original = src.ID
	}
	ex := &flow.Execution{
		ID:           newID(),
		TenantID:     src.TenantID,
		Namespace:    src.Namespace,
		FlowID:       src.FlowID,
		FlowRevision: f.Revision,
		Inputs:       src.Inputs,
		Labels:       slices.Clone(src.Labels),
		Variables:    src.Variables,
		Trigger:      src.Trigger,
		ScheduleDate: src.ScheduleDate,
		ParentID:     src.ID,
		OriginalID:   original,
		Metadata:     &flow.ExecutionMetadata{AttemptNumber: 1},
	}
	if src.Metadata != nil {
		ex.Metadata.AttemptNumber = src.Metadata.AttemptNumber + 1
		ex.Metadata.OriginalCreatedDate = src.Metadata.OriginalCreatedDate
	}
	if ex.Metadata.OriginalCreatedDate == nil {
		created := now
		if len(src.State.Histories) > 0 {
			created = src.State.Histories[0].Date
		}
		ex.Metadata.OriginalCreatedDate = &created
	}
	if taskRunID == "" {
		ex.State = flow.NewStateInfo(flow.StateCreated, now)
		return ex, nil
	}
	target := src.TaskRunByID(taskRunID)
	if target == nil {
		return nil, fmt.Errorf("task run %s is not in execution %s: %w", taskRunID, src.ID, ErrInvalidTransition)
	}
	// A WorkingDirectory's child runs only in its group's directory: the
	// group is replayed as a whole, as one new job.
	if p := src.TaskRunByID(target.ParentTaskRunID); p != nil {
		if pt := f.FindTask(p.TaskID); pt != nil && isGroup(types, pt) {
			target = p
		}
	}
	targetGroup := false
	if t := f.FindTask(target.TaskID); t != nil && isGroup(types, t) {
		targetGroup = true
	}
	ancestors := src.Parents(target)
	drop := map[string]bool{}
	for _, tr := range append([]*flow.TaskRun{target}, ancestors...) {
		for _, s := range laterSiblings(types, f, src, tr) {
			drop[s.ID] = true
		}
	}
	handlers := handlerTasks(f)
	for _, tr := range src.TaskRunList {
		if handlers[tr.TaskID] && !slices.Contains(ancestors, tr) && tr != target {
			drop[tr.ID] = true
		}
	}
	// The replayed task run's children run again, and so do the
	// descendants of everything dropped.
	restart := func(tr *flow.TaskRun) bool { return tr == target || slices.Contains(ancestors, tr) }
	for changed := true; changed; {
		changed = false
		for _, tr := range src.TaskRunList {
			if drop[tr.ID] || tr.ParentTaskRunID == "" {
				continue
			}
			if drop[tr.ParentTaskRunID] || tr.ParentTaskRunID == target.ID {
				drop[tr.ID], changed = true, true
			}
		}
	}

	ex.State = cloneState(src.State)
	ex.State.Set(flow.StateRestarted, now)
	ids := map[string]string{}
	for _, tr := range src.TaskRunList {
		if !drop[tr.ID] {
			ids[tr.ID] = newID()
		}
	}
	for _, tr := range src.TaskRunList {
		if drop[tr.ID] {
			continue
		}
		c := *tr
		c.ID = ids[tr.ID]
		c.ExecutionID = ex.ID
		c.ParentTaskRunID = ids[tr.ParentTaskRunID]
		c.Attempts = slices.Clone(tr.Attempts)
		c.Items = slices.Clone(tr.Items)
		c.State = cloneState(tr.State)
		c.RetryAt = nil
		if restart(tr) {
			c.Error = ""
			if t := f.FindTask(tr.TaskID); t != nil && (runnable(types, t) || (tr == target && targetGroup)) {
				c.State.Set(flow.StateRestarted, now)
			} else {
				if tr == target {
					c.Outputs = nil // a replayed Subflow starts a new execution
				}
				c.State.Set(flow.StateRunning, now)
			}
		}
		ex.TaskRunList = append(ex.TaskRunList, &c)
	}
	return ex, nil
}

// laterSiblings lists the task runs that come after tr in its parent's
// sequence: same parent, same loop value, a later task in the list. Under
// a parent whose children run concurrently nothing comes after anything.
func laterSiblings(types Types, f *flow.Flow, ex *flow.Execution, tr *flow.TaskRun) []*flow.TaskRun {
	var order []*flow.Task
	if tr.ParentTaskRunID == "" {
		order = f.Tasks
	} else {
		ptr := ex.TaskRunByID(tr.ParentTaskRunID)
		if ptr == nil {
			return nil
		}
		pt := f.FindTask(ptr.TaskID)
		if pt == nil || concurrentChildren(types, pt) {
			return nil
		}
		order = pt.ChildTasks()
	}
	pos := slices.IndexFunc(order, func(t *flow.Task) bool { return t.ID == tr.TaskID })
	if pos < 0 {
		return nil
	}
	var out []*flow.TaskRun
	for _, s := range ex.Children(tr.ParentTaskRunID) {
		if s.Value != tr.Value {
			continue
		}
		if i := slices.IndexFunc(order, func(t *flow.Task) bool { return t.ID == s.TaskID }); i > pos {
			out = append(out, s)
		}
	}
	return out
}

// concurrentChildren asks t's flowable whether its children run at once.
func concurrentChildren(types Types, t *flow.Task) bool {
	fl, err := types.Flowable(t)
	if err != nil || fl == nil {
		return false
	}
	c, ok := fl.(ConcurrentChildren)
	return ok && c.ConcurrentChildren()
}

func cloneState(si flow.StateInfo) flow.StateInfo {
	si.Histories = slices.Clone(si.Histories)
	return si
}
