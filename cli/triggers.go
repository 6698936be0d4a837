package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/input"
	"github.com/ospreyhq/osprey/scheduler"
	"github.com/ospreyhq/osprey/server"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/trigger"
)

// flowSource serves parsed flows to the trigger packages: one revision
// through the launcher's cache, or the latest revision of every flow.
type flowSource struct{ a *app }

func (s flowSource) Get(ctx context.Context, ns, id string, rev int) (*flow.Flow, error) {
	return s.a.flows.Get(ctx, ns, id, rev)
}

func (s flowSource) All(ctx context.Context) ([]*flow.Flow, error) {
	recs, _, err := s.a.store.Flows().Search(ctx, store.FlowQuery{})
	if err != nil {
		return nil, err
	}
	out := make([]*flow.Flow, 0, len(recs))
	for _, r := range recs {
		f, err := s.a.flows.Get(ctx, r.Namespace, r.ID, r.Revision)
		if err != nil {
			continue // an unparsable revision has no triggers to run
		}
		out = append(out, f)
	}
	return out, nil
}

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

// dispatcher returns the Flow and Webhook trigger dispatcher.
func (a *app) dispatcher() *trigger.Dispatcher {
	return &trigger.Dispatcher{
		Store:    a.store,
		Flows:    flowSource{a},
		Build:    a.buildTriggered,
		Renderer: a.renderer,
		Vars: func(f *flow.Flow, ex *flow.Execution) map[string]any {
			return engine.Vars(f, ex, nil, a.cfg.Variables.Globals, a.engine.Envs)
		},
		Log: a.log.With("component", "trigger"),
	}
}

// onExecutionEnd is called by the executor when an execution ends: Flow
// triggers listening to it fire here, in the process that saw the end.
func (a *app) onExecutionEnd(ctx context.Context, ex *flow.Execution) {
	if _, err := a.dispatcher().OnExecution(ctx, ex); err != nil {
		a.log.WarnContext(ctx, "flow triggers", "component", "trigger", "execution_id", ex.ID, "err", err)
	}
}

// mountTriggerRoutes adds Kestra's webhook endpoint. It is public: the
// key in the path is the webhook's credential.
func (a *app) mountTriggerRoutes(srv *server.Server) {
	d := a.dispatcher()
	h := func(w http.ResponseWriter, r *http.Request) error {
		return a.webhook(d, w, r)
	}
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut} {
		srv.HandlePublic(m+" /executions/webhook/{namespace}/{id}/{key}", h)
	}
}

// maxWebhookBody bounds what a webhook call may send.
const maxWebhookBody = 10 << 20

func (a *app) webhook(d *trigger.Dispatcher, w http.ResponseWriter, r *http.Request) error {
	ns, id, key := r.PathValue("namespace"), r.PathValue("id"), r.PathValue("key")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil {
		return fmt.Errorf("read webhook body: %w", err)
	}
	if len(body) > maxWebhookBody {
		return server.Errorf(http.StatusRequestEntityTooLarge, "webhook body over 10 MiB")
	}
	ex, err := d.Webhook(r.Context(), ns, id, key, trigger.Request{Body: body, Headers: r.Header, Parameters: r.URL.Query()})
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Never echo the key: it is the webhook's secret.
		return server.Errorf(http.StatusNotFound, fmt.Sprintf("no webhook trigger of flow %s.%s has this key", ns, id))
	case errors.Is(err, trigger.ErrDisabled):
		return server.Errorf(http.StatusConflict, err.Error())
	case err != nil:
		var fe flow.Errors
		if errors.As(err, &fe) {
			return server.Errorf(http.StatusUnprocessableEntity, fmt.Sprintf("cannot start %s.%s: %v", ns, id, err))
		}
		return err
	case ex == nil:
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(ex)
}

// newScheduler returns the scheduler component: Schedule triggers fired
// from the store's trigger state, safe to run in several processes.
func (a *app) newScheduler() component {
	d := a.dispatcher()
	return scheduler.New(scheduler.Options{
		Store: a.store, Flows: d.Flows, Build: d.Build, Renderer: d.Renderer, Vars: d.Vars, Logger: a.log,
	})
}
