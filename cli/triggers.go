package cli

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/input"
	"github.com/ospreyhq/osprey/internal/seal"
	"github.com/ospreyhq/osprey/schedule"
	"github.com/ospreyhq/osprey/scheduler"
	"github.com/ospreyhq/osprey/tasks"
	"github.com/ospreyhq/osprey/trigger"
)

// buildTriggered makes a CREATED execution for a trigger. Inputs are typed
// when they pass the flow's inputs; otherwise they are kept as given with
// defaults filled in, as Kestra does for executions its triggers create.
func (a *app) buildTriggered(f *flow.Flow, inputs map[string]any) (*flow.Execution, error) {
	ex, err := a.launcher.Build(f, inputs, nil)
	if err == nil {
		return ex, nil
	}
	if f.Disabled {
		return nil, err
	}
	bare := &flow.Flow{ID: f.ID, Namespace: f.Namespace, Revision: f.Revision, Labels: f.Labels, TenantID: f.TenantID}
	if ex, err = a.launcher.Build(bare, nil, nil); err != nil {
		return nil, err
	}
	ex.Inputs = input.Defaults(f, inputs)
	return ex, nil
}

// sealer returns box as a trigger.Sealer, nil without a key (a nil
// *seal.Box in the interface would not read as absent).
func sealer(box *seal.Box) trigger.Sealer {
	if box == nil {
		return nil
	}
	return box
}

// dispatcher returns the Flow and Webhook trigger dispatcher.
func (a *app) dispatcher() *trigger.Dispatcher {
	return &trigger.Dispatcher{
		Store:    a.store,
		Flows:    a.flows,
		Build:    a.buildTriggered,
		Renderer: a.renderer,
		Sealer:   sealer(a.inputs),
		Holidays: a.holidays,
		Vars: func(f *flow.Flow, ex *flow.Execution) map[string]any {
			return engine.Vars(f, ex, nil, a.cfg.Variables.Globals, a.engine.Envs)
		},
		Log: a.log.With("component", "trigger"),
	}
}

// onExecutionChange is called by the executor when an execution changed
// state: Flow triggers listening to it fire here, in the process that saw
// the change.
func (a *app) onExecutionChange(ctx context.Context, ex *flow.Execution) {
	d := a.dispatcher()
	if _, err := d.OnExecution(ctx, ex); err != nil {
		a.log.WarnContext(ctx, "flow triggers", "component", "trigger", "execution_id", ex.ID, "err", err)
	}
	if err := d.StopAfter(ctx, ex); err != nil {
		a.log.WarnContext(ctx, "trigger stopAfter", "component", "trigger", "execution_id", ex.ID, "err", err)
	}
}

// scheduled reports whether a trigger type keeps a next date: the
// scheduler's Schedule and ScheduleOnDates, and polling triggers.
func scheduled(typ string) bool {
	return schedule.Scheduled(typ) || (tasks.Pollers{}).Handles(typ)
}

// newScheduler returns the scheduler component: Schedule triggers fired
// from the store's trigger state, safe to run in several processes.
func (a *app) newScheduler(metrics prometheus.Registerer) *scheduler.Scheduler {
	d := a.dispatcher()
	return scheduler.New(scheduler.Options{
		Store: a.store, Flows: d.Flows, Build: d.Build, Renderer: d.Renderer, Vars: d.Vars, Sealer: d.Sealer, Holidays: d.Holidays, Logger: a.log, Metrics: metrics,
		Poller: tasks.Pollers{
			HTTP: tasks.HTTPPoller{Renderer: a.renderer, Log: a.log.With("component", "scheduler")},
			Blob: tasks.BlobPoller{Renderer: a.renderer, Storage: a.files, Azure: a.reg.Azure(), Log: a.log.With("component", "scheduler")},
		},
	})
}
