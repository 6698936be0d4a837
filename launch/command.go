package launch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// Accepted is a command the store holds for the executor.
type Accepted struct {
	// Execution is the execution as the command will leave it: the
	// engine applied it to a copy, so an API can answer at once, as
	// Kestra does. The stored execution changes when the executor
	// applies the command.
	Execution *flow.Execution
	Command   store.Command
}

// Kill asks the executor to kill a running execution; with cascade it
// sends the kill on to every subflow execution, recursively, as Kestra
// does by default.
func (l *Launcher) Kill(ctx context.Context, id string, cascade bool) (Accepted, error) {
	return l.command(ctx, id, func(_ *flow.Flow, ex *flow.Execution) (engine.Command, error) {
		if ex.State.Current.IsTerminal() {
			return engine.Command{}, fmt.Errorf("execution %s already ended %s: %w", id, ex.State.Current, engine.ErrInvalidTransition)
		}
		return engine.Command{Kind: engine.CommandKill, NoCascade: !cascade}, nil
	})
}

// Resume asks the executor to continue a paused execution. inputs are read
// here against each paused Pause task's onResume declarations (a bad one
// is refused at once) and become its outputs.onResume, as in Kestra.
func (l *Launcher) Resume(ctx context.Context, id string, inputs map[string]any) (Accepted, error) {
	return l.command(ctx, id, func(f *flow.Flow, ex *flow.Execution) (engine.Command, error) {
		c := engine.Command{Kind: engine.CommandResume, OnResume: map[string]map[string]any{}}
		if ex.State.Current != flow.StatePaused {
			return c, nil // Apply says why not
		}
		for _, tr := range ex.TaskRunList {
			if tr.State.Current != flow.StatePaused {
				continue
			}
			outs, err := resumeInputs(f, tr.TaskID, inputs)
			if err != nil {
				return c, err
			}
			c.OnResume[tr.TaskID] = outs
		}
		return c, nil
	})
}

// Restart asks the executor to run a FAILED or KILLED execution again from
// where it failed (see engine.CommandRestart).
func (l *Launcher) Restart(ctx context.Context, id string) (Accepted, error) {
	return l.fixed(ctx, id, engine.Command{Kind: engine.CommandRestart})
}

// ChangeStatus asks the executor to set the state of an ended execution,
// or, with taskRunID, of one of its task runs (Kestra's change-status and
// task run state actions).
func (l *Launcher) ChangeStatus(ctx context.Context, id, taskRunID string, st flow.State) (Accepted, error) {
	return l.fixed(ctx, id, engine.Command{Kind: engine.CommandChangeStatus, State: st, TaskRunID: taskRunID})
}

// Pause asks the executor to hold a running execution until a resume.
func (l *Launcher) Pause(ctx context.Context, id string) (Accepted, error) {
	return l.fixed(ctx, id, engine.Command{Kind: engine.CommandPause})
}

// ForceRun asks the executor to start a CREATED or QUEUED execution now,
// past its schedule date and its flow's concurrency limit.
func (l *Launcher) ForceRun(ctx context.Context, id string) (Accepted, error) {
	return l.fixed(ctx, id, engine.Command{Kind: engine.CommandForceRun})
}

// SetLabels asks the executor to add labels to an ended execution (see
// engine.CommandSetLabels).
func (l *Launcher) SetLabels(ctx context.Context, id string, labels []flow.Label) (Accepted, error) {
	return l.fixed(ctx, id, engine.Command{Kind: engine.CommandSetLabels, Labels: labels})
}

// Unqueue asks the executor to take a QUEUED execution out of its flow's
// concurrency queue, to st: RUNNING, CANCELLED or FAILED.
func (l *Launcher) Unqueue(ctx context.Context, id string, st flow.State) (Accepted, error) {
	return l.fixed(ctx, id, engine.Command{Kind: engine.CommandUnqueue, State: st})
}

func (l *Launcher) fixed(ctx context.Context, id string, c engine.Command) (Accepted, error) {
	return l.command(ctx, id, func(*flow.Flow, *flow.Execution) (engine.Command, error) { return c, nil })
}

// command builds a command for the stored execution id, checks it with the
// engine on a copy (so a command that cannot apply is refused now, with
// engine.ErrInvalidTransition) and stores it for the executor.
func (l *Launcher) command(ctx context.Context, id string, build func(*flow.Flow, *flow.Execution) (engine.Command, error)) (Accepted, error) {
	if l.Types == nil {
		return Accepted{}, errors.New("launcher has no task types: set Launcher.Types")
	}
	ex, _, err := l.Store.Executions().Get(ctx, id)
	if err != nil {
		return Accepted{}, fmt.Errorf("load execution %s: %w", id, err)
	}
	f, err := l.Flows.Get(ctx, ex.Namespace, ex.FlowID, ex.FlowRevision)
	if err != nil {
		return Accepted{}, err
	}
	c, err := build(f, ex)
	if err != nil {
		return Accepted{}, err
	}
	// ex is this call's own decoded copy: the engine's answer, not a write.
	if _, err := engine.Apply(l.Types, f, ex, c, l.now()); err != nil {
		return Accepted{}, err
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return Accepted{}, fmt.Errorf("encode %s command: %w", c.Kind, err)
	}
	sent, err := l.Store.Executions().Send(ctx, store.Command{ExecutionID: id, Payload: payload})
	if err != nil {
		return Accepted{}, fmt.Errorf("send %s to execution %s: %w", c.Kind, id, err)
	}
	return Accepted{Execution: ex, Command: sent}, nil
}

// Await waits until the executor applied the command a (its step saved)
// and returns the execution as stored then, or ctx's error.
func (l *Launcher) Await(ctx context.Context, a Accepted) (*flow.Execution, error) {
	poll := l.Poll
	if poll <= 0 {
		poll = 25 * time.Millisecond
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		pending, err := l.Store.Executions().Commands(ctx, a.Command.ExecutionID)
		if err != nil {
			return nil, fmt.Errorf("wait for command on execution %s: %w", a.Command.ExecutionID, err)
		}
		applied := true
		for _, c := range pending {
			if c.ID == a.Command.ID {
				applied = false
			}
		}
		if applied {
			ex, _, err := l.Store.Executions().Get(ctx, a.Command.ExecutionID)
			if err != nil {
				return nil, fmt.Errorf("load execution %s: %w", a.Command.ExecutionID, err)
			}
			return ex, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for command on execution %s: %w", a.Command.ExecutionID, ctx.Err())
		case <-t.C:
		}
	}
}
