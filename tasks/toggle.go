package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/worker"
)

// pToggle is io.kestra.plugin.core.trigger.Toggle (legacy
// io.kestra.core.tasks.trigger.Toggle): enable or disable a trigger of a
// flow, as PUT /triggers does.
const pToggle = "io.kestra.plugin.core.trigger.Toggle"

// Toggle enables or disables a flow's trigger. namespace and flowId
// default to the running flow's; enabled defaults to false, as Kestra's.
type Toggle struct {
	Namespace string `json:"namespace"`
	FlowID    string `json:"flowId"`
	Trigger   string `json:"trigger"`
	Enabled   *bool  `json:"enabled"`
}

var toggleProps = []string{"namespace", "flowId", "trigger", "enabled"}

func checkToggle(t *flow.Task, x *Toggle) []*flow.Error {
	return required(t, "trigger", x.Trigger != "")
}

// toggleStores is what Toggle needs of the store.
type toggleStores struct {
	flows    store.FlowStore
	triggers store.TriggerStore
	now      func() time.Time
}

// Run implements worker.Runnable.
func (x *Toggle) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	if rc.Flows == nil || rc.Triggers == nil {
		return nil, errors.New("Toggle: this worker has no access to flows and triggers")
	}
	return x.run(ctx, rc, toggleStores{flows: rc.Flows, triggers: rc.Triggers, now: time.Now})
}

func (x *Toggle) run(ctx context.Context, rc *worker.RunContext, st toggleStores) (map[string]any, error) {
	f, _ := rc.Vars["flow"].(map[string]any)
	ns, _ := f["namespace"].(string)
	id, _ := f["id"].(string)
	var err error
	if x.Namespace != "" {
		if ns, err = rc.Render(ctx, x.Namespace); err != nil {
			return nil, fmt.Errorf("namespace: %w", err)
		}
	}
	if x.FlowID != "" {
		if id, err = rc.Render(ctx, x.FlowID); err != nil {
			return nil, fmt.Errorf("flowId: %w", err)
		}
	}
	trigger, err := rc.Render(ctx, x.Trigger)
	if err != nil {
		return nil, fmt.Errorf("trigger: %w", err)
	}
	rec, err := st.flows.Get(ctx, ns, id, 0)
	if err != nil {
		return nil, fmt.Errorf("Unable to find flow %s.%s: %w", ns, id, err)
	}
	parsed, err := flow.Parse([]byte(rec.Source), flow.ParseOptions{})
	if err != nil {
		return nil, fmt.Errorf("flow %s.%s: %w", ns, id, err)
	}
	known := false
	for _, t := range parsed.Triggers {
		known = known || t.ID == trigger
	}
	if !known {
		return nil, fmt.Errorf("Unable to find trigger %s for the flow %s.%s", trigger, ns, id)
	}
	disabled := x.Enabled == nil || !*x.Enabled
	state, err := st.triggers.Get(ctx, ns, id, trigger)
	if errors.Is(err, store.ErrNotFound) {
		state = store.TriggerState{Namespace: ns, FlowID: id, TriggerID: trigger}
	} else if err != nil {
		return nil, fmt.Errorf("trigger %s of %s.%s: %w", trigger, ns, id, err)
	}
	if state.Disabled && !disabled {
		// as the API does: the ticks missed while disabled are not
		// recovered, the trigger fires from its next tick
		state.Next = nil
	}
	state.Disabled = disabled
	state.Updated = st.now().UTC()
	if err := st.triggers.Put(ctx, state); err != nil {
		return nil, fmt.Errorf("trigger %s of %s.%s: %w", trigger, ns, id, err)
	}
	word := "disabled"
	if !disabled {
		word = "enabled"
	}
	rc.Log("INFO", fmt.Sprintf("trigger %s of flow %s.%s %s", trigger, ns, id, word))
	return nil, nil
}

var _ worker.Runnable = (*Toggle)(nil)
