package launch

import (
	"context"
	"errors"
	"fmt"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// Replay creates a new execution that runs the ended execution id again
// from task run taskRunID (the whole flow when empty), on flow revision
// revision (0: the original's). The engine builds it (engine.Replay, as
// Kestra's replay: the replayed task run RESTARTED, parentId set to id);
// the original is not changed.
func (l *Launcher) Replay(ctx context.Context, id, taskRunID string, revision int) (*flow.Execution, error) {
	if l.Types == nil {
		return nil, errors.New("launcher has no task types: set Launcher.Types")
	}
	src, _, err := l.Store.Executions().Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load execution %s: %w", id, err)
	}
	if !src.State.Current.IsTerminal() {
		return nil, fmt.Errorf("execution %s is %s; only an ended execution replays: %w", id, src.State.Current, engine.ErrInvalidTransition)
	}
	if taskRunID != "" && src.TaskRunByID(taskRunID) == nil {
		return nil, fmt.Errorf("task run %s is not in execution %s: %w", taskRunID, id, store.ErrNotFound)
	}
	rev := src.FlowRevision
	if revision > 0 {
		rev = revision
	}
	f, err := l.Flows.Get(ctx, src.Namespace, src.FlowID, rev)
	if err != nil {
		return nil, err
	}
	ex, err := engine.Replay(l.Types, f, src, taskRunID, flow.NewID, l.now())
	if err != nil {
		return nil, err
	}
	if err := l.Store.Executions().Create(ctx, ex); err != nil {
		return nil, fmt.Errorf("create replay of %s: %w", id, err)
	}
	return ex, nil
}
