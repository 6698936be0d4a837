package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/mask"
)

// Collector is implemented by a group's Runnable (WorkingDirectory) that
// has work to do once its children ran: Run prepares the shared directory
// (inputFiles, namespace files) before the first child, Collect stores
// what it keeps of it (outputFiles) after the last, and its outputs are
// the group's.
type Collector interface {
	Collect(ctx context.Context, rc *RunContext) (map[string]any, error)
}

// runGroup runs a group job (engine.Group): the group's own Runnable
// prepares rc.TmpDir, then each child runs in turn in that directory with
// its own task run, variables (the outputs of the children before it
// included), timeout, log lines and result; the first child that fails
// without allowFailure stops the rest, as in Kestra's worker. Collect runs
// in every case. The result is the group's, its children's inside.
func (w *Worker) runGroup(ctx context.Context, f *flow.Flow, p engine.Payload, group Runnable, rc *RunContext, m *mask.Masker, res engine.Result) engine.Result {
	// A run lost on this host may have left the directory: a group starts
	// from an empty one.
	_ = os.RemoveAll(rc.TmpDir)
	if err := os.MkdirAll(rc.TmpDir, 0o700); err != nil {
		return w.groupFailed(ctx, rc, m, res, fmt.Errorf("create the working directory: %w", err))
	}
	if _, err := w.runSafe(ctx, group, rc); err != nil {
		return w.groupFailed(ctx, rc, m, res, err)
	}
	res.State = flow.StateSuccess
	for _, c := range p.Children {
		t := f.FindTask(c.TaskID)
		if t == nil {
			return w.groupFailed(ctx, rc, m, res, fmt.Errorf("task %q not found in %s.%s revision %d", c.TaskID, p.Namespace, p.FlowID, p.Revision))
		}
		cr := w.runChildRetried(ctx, p, t, c, rc, m)
		res.Children = append(res.Children, cr)
		res.Labels = append(res.Labels, cr.Labels...)
		cr.Labels = nil
		engine.AddChildOutputs(rc.Vars, c, cr.Outputs)
		if ctx.Err() != nil {
			res.State = flow.StateKilled
			break
		}
		if (cr.State == flow.StateFailed || cr.State == flow.StateKilled) && !t.AllowFailure {
			res.State = flow.StateFailed
			break
		}
	}
	if col, ok := group.(Collector); ok && ctx.Err() == nil {
		outs, err := col.Collect(ctx, rc)
		if err != nil {
			msg := err.Error()
			rc.Log("ERROR", msg)
			res.State = flow.StateFailed
			res.Error = m.Mask(msg)
		} else if outs != nil {
			res.Outputs, _ = m.Value(outs).(map[string]any)
		}
	}
	res.Ended = time.Now().UTC()
	return res
}

func (w *Worker) groupFailed(ctx context.Context, rc *RunContext, m *mask.Masker, res engine.Result, err error) engine.Result {
	if ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	msg := err.Error()
	rc.Log("ERROR", msg)
	res.State = flow.StateFailed
	if errors.Is(err, context.Canceled) {
		res.State = flow.StateKilled
	}
	res.Error = m.Mask(msg)
	res.Ended = time.Now().UTC()
	return res
}

// runChildRetried runs a child, and again as its retry policy says while
// it fails: in the group's directory, on this worker, waiting out each
// interval here (the group holds its directory meanwhile).
func (w *Worker) runChildRetried(ctx context.Context, p engine.Payload, t *flow.Task, c engine.GroupChild, group *RunContext, m *mask.Masker) engine.Result {
	var retried []engine.Result
	first := time.Now().UTC()
	for attempt := 1; ; attempt++ {
		res := w.runChild(ctx, p, t, c, group, m, attempt)
		if res.State != flow.StateFailed || ctx.Err() != nil {
			res.Retried = retried
			return res
		}
		next, ok := engine.RetryAt(c.Retry, attempt, first, time.Now().UTC())
		if !ok {
			res.Retried = retried
			return res
		}
		retried = append(retried, engine.Result{State: res.State, Error: res.Error, Started: res.Started, Ended: res.Ended, WorkerID: res.WorkerID, Metrics: res.Metrics})
		select {
		case <-ctx.Done():
			res.Retried = retried[:len(retried)-1]
			return res
		case <-time.After(time.Until(next)):
		}
	}
}

// runChild runs one attempt of a child of a group in the group's
// directory.
func (w *Worker) runChild(ctx context.Context, p engine.Payload, t *flow.Task, c engine.GroupChild, group *RunContext, m *mask.Masker, attempt int) engine.Result {
	started := time.Now().UTC()
	res := engine.Result{TaskRunID: c.TaskRun.ID, TaskID: t.ID, Attempt: 1, Started: started, WorkerID: w.opts.ID}
	tr := *c.TaskRun
	vars := engine.ChildVars(group.Vars, p.TaskRun, c, t, started)
	if trv, ok := vars["taskrun"].(map[string]any); ok {
		trv["attemptsCount"] = attempt - 1
	}
	rc := &RunContext{
		Task: t, TaskRun: &tr, Attempt: attempt, Vars: vars,
		TmpDir: group.TmpDir, WorkerID: w.opts.ID, KV: group.KV, Files: group.Files, Storage: group.Storage,
		Logs: group.Logs, Flows: group.Flows, Triggers: group.Triggers, Executions: group.Executions, Commands: group.Commands,
		renderer: group.renderer, logs: group.logs, mask: m.Mask, processes: group.processes, env: group.env,
	}
	fail := func(err error) engine.Result {
		msg := err.Error()
		rc.Log("ERROR", msg)
		res.State = flow.StateFailed
		if errors.Is(err, context.Canceled) {
			res.State = flow.StateKilled
		}
		res.Error = m.Mask(msg)
		res.Ended = time.Now().UTC()
		return res
	}
	if t.RunIf != "" {
		out, err := rc.Render(ctx, t.RunIf)
		if err != nil {
			return fail(fmt.Errorf("runIf: %w", err))
		}
		if !engine.Truthy(out) {
			res.State = flow.StateSkipped
			res.Ended = started
			return res
		}
	}
	r, err := w.opts.Tasks.Runnable(t)
	if err != nil {
		return fail(err)
	}
	if t.Timeout != "" {
		d, err := flow.ParseDuration(t.Timeout)
		if err != nil {
			return fail(fmt.Errorf("timeout: %w", err))
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, fmt.Errorf("task %s timed out after %s", t.ID, t.Timeout))
		defer cancel()
	}
	outputs, err := w.runSafe(ctx, r, rc)
	if ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	for _, l := range rc.labels {
		res.Labels = append(res.Labels, flow.Label{Key: m.Mask(l.Key), Value: m.Mask(l.Value)})
	}
	res.Metrics = rc.maskedMetrics(m.Mask)
	w.metrics.observeTask(rc.TaskRun, res.Metrics)
	if err != nil {
		return fail(err)
	}
	res.State = flow.StateSuccess
	res.Ended = time.Now().UTC()
	if outputs != nil {
		res.Outputs, _ = m.Value(map[string]any(outputs)).(map[string]any)
	}
	return res
}
