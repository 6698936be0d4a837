package launch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// Replay creates a new execution from the ended execution id that starts
// again at task run taskRunID, as Kestra's replay does: the task runs that
// came before it are copied as they ended (with new ids), the replayed one
// and everything after it are dropped so that the engine runs them again,
// and its flowable ancestors go back to RUNNING. An empty taskRunID
// replays the whole execution. revision picks the flow revision the new
// execution runs (0: the original's). The new execution has OriginalID set
// to id and is RESTARTED, so the executor picks it up at once.
func (l *Launcher) Replay(ctx context.Context, id, taskRunID string, revision int) (*flow.Execution, error) {
	src, _, err := l.Store.Executions().Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load execution %s: %w", id, err)
	}
	if !src.State.Current.IsTerminal() {
		return nil, fmt.Errorf("execution %s is %s; only an ended execution replays: %w", id, src.State.Current, engine.ErrInvalidTransition)
	}
	rev := src.FlowRevision
	if revision > 0 {
		rev = revision
	}
	f, err := l.Flows.Get(ctx, src.Namespace, src.FlowID, rev)
	if err != nil {
		return nil, err
	}
	ex, err := replayOf(f, src, taskRunID, l.now())
	if err != nil {
		return nil, err
	}
	if err := l.Store.Executions().Create(ctx, ex); err != nil {
		return nil, fmt.Errorf("create replay of %s: %w", id, err)
	}
	_ = l.Store.Queue().Notify(ctx, store.TopicExecutions)
	return ex, nil
}

// replayOf builds the replay of src from task run taskRunID against f.
// It is pure: Replay loads and stores.
func replayOf(f *flow.Flow, src *flow.Execution, taskRunID string, now time.Time) (*flow.Execution, error) {
	drop := map[string]bool{}
	var ancestors []*flow.TaskRun
	if taskRunID == "" {
		for _, tr := range src.TaskRunList {
			drop[tr.ID] = true
		}
	} else {
		target := src.TaskRunByID(taskRunID)
		if target == nil {
			return nil, fmt.Errorf("task run %s is not in execution %s: %w", taskRunID, src.ID, store.ErrNotFound)
		}
		ancestors = src.Parents(target)
		for _, tr := range append([]*flow.TaskRun{target}, ancestors...) {
			drop[tr.ID] = tr == target
			for _, s := range laterSiblings(f, src, tr) {
				drop[s.ID] = true
			}
		}
		// The errors and finally branches ran because of how the first
		// run went; the replay decides again whether they run.
		handlers := map[string]bool{}
		for _, t := range slices.Concat(f.Errors, f.Finally) {
			handlers[t.ID] = true
		}
		for _, t := range f.AllTasks() {
			for _, c := range slices.Concat(t.Children["errors"], t.Children["finally"]) {
				handlers[c.ID] = true
			}
		}
		for _, tr := range src.TaskRunList {
			if handlers[tr.TaskID] && !slices.Contains(ancestors, tr) {
				drop[tr.ID] = true
			}
		}
	}
	// Drop descendants of dropped task runs (parents come first in the list,
	// but loop until stable in case they do not).
	for changed := true; changed; {
		changed = false
		for _, tr := range src.TaskRunList {
			if !drop[tr.ID] && tr.ParentTaskRunID != "" && drop[tr.ParentTaskRunID] {
				drop[tr.ID], changed = true, true
			}
		}
	}

	ex := &flow.Execution{
		ID:           flow.NewID(),
		TenantID:     src.TenantID,
		Namespace:    src.Namespace,
		FlowID:       src.FlowID,
		FlowRevision: f.Revision,
		Inputs:       src.Inputs,
		Labels:       slices.Clone(src.Labels),
		Variables:    src.Variables,
		Trigger:      src.Trigger,
		ScheduleDate: src.ScheduleDate,
		OriginalID:   src.ID,
		State:        cloneState(src.State),
		Metadata:     &flow.ExecutionMetadata{AttemptNumber: 1},
	}
	if src.Metadata != nil {
		ex.Metadata.AttemptNumber = src.Metadata.AttemptNumber + 1
		ex.Metadata.OriginalCreatedDate = src.Metadata.OriginalCreatedDate
	}
	ex.State.Set(flow.StateRestarted, now)

	ids := map[string]string{}
	for _, tr := range src.TaskRunList {
		if !drop[tr.ID] {
			ids[tr.ID] = flow.NewID()
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
		if slices.Contains(ancestors, tr) {
			c.State.Set(flow.StateRunning, now)
			c.Error = ""
		}
		ex.TaskRunList = append(ex.TaskRunList, &c)
	}
	return ex, nil
}

// laterSiblings lists the task runs that come after tr in its parent's
// sequence: same parent, same loop value, a later task in the list. Under
// a parallel parent nothing comes after anything, so none are listed.
func laterSiblings(f *flow.Flow, ex *flow.Execution, tr *flow.TaskRun) []*flow.TaskRun {
	var order []*flow.Task
	if tr.ParentTaskRunID == "" {
		order = f.Tasks
	} else {
		ptr := ex.TaskRunByID(tr.ParentTaskRunID)
		if ptr == nil {
			return nil
		}
		pt := f.FindTask(ptr.TaskID)
		if pt == nil || isParallel(pt) {
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

// isParallel reports flowables whose children do not run one after the
// other.
func isParallel(t *flow.Task) bool {
	for _, s := range []string{".Parallel", ".EachParallel", ".Dag"} {
		if strings.HasSuffix(t.Type, s) {
			return true
		}
	}
	return false
}

func cloneState(si flow.StateInfo) flow.StateInfo {
	si.Histories = slices.Clone(si.Histories)
	return si
}
