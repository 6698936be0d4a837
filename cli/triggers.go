package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/input"
	"github.com/ospreyhq/osprey/schedule"
	"github.com/ospreyhq/osprey/scheduler"
	"github.com/ospreyhq/osprey/seal"
	"github.com/ospreyhq/osprey/server"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/tasks"
	"github.com/ospreyhq/osprey/trigger"
)

// flowSource serves parsed flows to the trigger packages: one revision
// through the launcher's cache, or the latest revision of every flow.
type flowSource struct{ a *app }

func (s flowSource) Get(ctx context.Context, ns, id string, rev int) (*flow.Flow, error) {
	return s.a.flows.Get(ctx, ns, id, rev)
}

// All lists the latest revision of every flow. Flow triggers ask on every
// state change of every execution, so the list is kept for a second; this
// process's own flow writes drop it at once (flowWatch), another
// process's are seen within the second.
func (s flowSource) All(ctx context.Context) ([]*flow.Flow, error) {
	c := &s.a.flowList
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.flows != nil && time.Since(c.at) < flowListTTL {
		return c.flows, nil
	}
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
	c.flows, c.at = out, time.Now()
	return out, nil
}

// flowListTTL bounds how stale the listener list may be.
const flowListTTL = time.Second

// flowListCache holds the latest flow revisions for Flow triggers.
type flowListCache struct {
	mu    sync.Mutex
	at    time.Time
	flows []*flow.Flow
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
		Flows:    flowSource{a},
		Build:    a.buildTriggered,
		Renderer: a.renderer,
		Sealer:   sealer(a.inputs),
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
	api := triggerAPI{a}
	srv.Handle("GET /triggers/search", api.search)
	srv.Handle("GET /triggers/{namespace}/{flowId}", api.search)
	srv.Handle("PUT /triggers", api.update)
	srv.Handle("POST /triggers/set-disabled/by-triggers", api.setDisabled)
	srv.Handle("PUT /triggers/backfill/pause", api.pauseBackfill(true))
	srv.Handle("PUT /triggers/backfill/unpause", api.pauseBackfill(false))
	srv.Handle("POST /triggers/backfill/delete", api.deleteBackfill)
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
	if a.webhookFlag(r.Context(), ex, "wait") {
		ex = a.awaitTerminal(r.Context(), ex)
		if a.webhookFlag(r.Context(), ex, "returnOutputs") {
			return writeJSONBody(w, ex.Outputs)
		}
	}
	return writeJSONBody(w, ex)
}

// webhookFlag reads a boolean property (wait, returnOutputs) of the
// webhook trigger that started ex.
func (a *app) webhookFlag(ctx context.Context, ex *flow.Execution, name string) bool {
	f, err := a.flows.Get(ctx, ex.Namespace, ex.FlowID, ex.FlowRevision)
	if err != nil || ex.Trigger == nil {
		return false
	}
	for _, t := range f.Triggers {
		if t.ID == ex.Trigger.ID {
			v, _ := t.Props[name].(bool)
			return v
		}
	}
	return false
}

// maxWebhookWait bounds how long a webhook with wait: true holds the call.
const maxWebhookWait = 10 * time.Minute

// awaitTerminal polls the execution until it is terminal, the caller goes
// away or maxWebhookWait passes; it returns the execution as it last read
// it.
func (a *app) awaitTerminal(ctx context.Context, ex *flow.Execution) *flow.Execution {
	ctx, cancel := context.WithTimeout(ctx, maxWebhookWait)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !ex.State.Current.IsTerminal() {
		select {
		case <-ctx.Done():
			return ex
		case <-tick.C:
		}
		got, _, err := a.store.Executions().Get(ctx, ex.ID)
		if err != nil {
			return ex
		}
		ex = got
	}
	return ex
}

// newScheduler returns the scheduler component: Schedule triggers fired
// from the store's trigger state, safe to run in several processes.
func (a *app) newScheduler(metrics prometheus.Registerer) *scheduler.Scheduler {
	d := a.dispatcher()
	return scheduler.New(scheduler.Options{
		Store: a.store, Flows: d.Flows, Build: d.Build, Renderer: d.Renderer, Vars: d.Vars, Sealer: d.Sealer, Logger: a.log, Metrics: metrics,
		Poller: tasks.HTTPPoller{Renderer: a.renderer, Log: a.log.With("component", "scheduler")},
	})
}

// triggerAPI serves Kestra's trigger endpoints: list trigger states,
// enable or disable a trigger, start, pause and delete a backfill.
type triggerAPI struct{ a *app }

// triggerRef names a trigger in request bodies, as Kestra's Trigger does.
type triggerRef struct {
	Namespace string              `json:"namespace"`
	FlowID    string              `json:"flowId"`
	TriggerID string              `json:"triggerId"`
	Disabled  *bool               `json:"disabled,omitempty"`
	Backfill  *scheduler.Backfill `json:"backfill,omitempty"`
}

// triggerContext is Kestra's Trigger (context) JSON.
type triggerContext struct {
	Namespace         string              `json:"namespace"`
	FlowID            string              `json:"flowId"`
	TriggerID         string              `json:"triggerId"`
	Date              *time.Time          `json:"date,omitempty"`
	NextExecutionDate *time.Time          `json:"nextExecutionDate,omitempty"`
	Disabled          bool                `json:"disabled"`
	Backfill          *scheduler.Backfill `json:"backfill,omitempty"`
	UpdatedDate       *time.Time          `json:"updatedDate,omitempty"`
}

type triggerItem struct {
	AbstractTrigger map[string]any `json:"abstractTrigger"`
	TriggerContext  triggerContext `json:"triggerContext"`
}

// search lists the triggers of every flow (or of one), with their state;
// ?namespace= keeps a namespace and its children, ?q= a substring of the
// flow or trigger id.
func (api triggerAPI) search(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	flows, err := flowSource{api.a}.All(ctx)
	if err != nil {
		return err
	}
	states, err := api.a.store.Triggers().List(ctx)
	if err != nil {
		return err
	}
	byKey := map[string]store.TriggerState{}
	for _, st := range states {
		byKey[st.Namespace+"/"+st.FlowID+"/"+st.TriggerID] = st
	}
	q := r.URL.Query()
	ns, flowID, text := q.Get("namespace"), r.PathValue("flowId"), strings.ToLower(q.Get("q"))
	if p := r.PathValue("namespace"); p != "" {
		ns = p
	}
	items := []triggerItem{}
	for _, f := range flows {
		if ns != "" && f.Namespace != ns && !strings.HasPrefix(f.Namespace, ns+".") {
			continue
		}
		if flowID != "" && f.ID != flowID {
			continue
		}
		for _, t := range f.Triggers {
			if text != "" && !strings.Contains(strings.ToLower(f.ID), text) && !strings.Contains(strings.ToLower(t.ID), text) {
				continue
			}
			key := f.Namespace + "/" + f.ID + "/" + t.ID
			st := byKey[key]
			tc := triggerContext{Namespace: f.Namespace, FlowID: f.ID, TriggerID: t.ID, Date: st.Last, Disabled: st.Disabled || t.Disabled}
			if !st.Updated.IsZero() {
				tc.UpdatedDate = &st.Updated
			}
			if (schedule.Scheduled(t.Type) || (tasks.HTTPPoller{}).Handles(t.Type)) && st.Next != nil && !st.Next.IsZero() {
				tc.NextExecutionDate = st.Next
			}
			if bst, ok := byKey[key+scheduler.BackfillSuffix]; ok {
				if b, err := scheduler.ReadBackfill(bst); err == nil {
					tc.Backfill = &b
				}
			}
			at := map[string]any{"id": t.ID, "type": t.Type, "disabled": t.Disabled}
			for k, v := range t.Props {
				if k != "key" { // a webhook's key is its credential
					at[k] = v
				}
			}
			items = append(items, triggerItem{AbstractTrigger: at, TriggerContext: tc})
		}
	}
	return writeJSONBody(w, map[string]any{"results": items, "total": len(items)})
}

// update enables or disables a trigger and starts a backfill, as Kestra's
// PUT /triggers.
func (api triggerAPI) update(w http.ResponseWriter, r *http.Request) error {
	var ref triggerRef
	if err := json.NewDecoder(r.Body).Decode(&ref); err != nil {
		return server.Errorf(http.StatusBadRequest, "read trigger: "+err.Error())
	}
	f, err := api.trigger(r.Context(), ref)
	if err != nil {
		return err
	}
	if ref.Disabled != nil {
		if err := api.setOne(r.Context(), ref, *ref.Disabled); err != nil {
			return err
		}
	}
	if ref.Backfill != nil {
		if err := scheduler.StartBackfill(r.Context(), api.a.store.Triggers(), f, ref.TriggerID, *ref.Backfill, time.Now()); err != nil {
			if errors.Is(err, scheduler.ErrNotSchedule) || errors.Is(err, scheduler.ErrInvalidBackfill) {
				return server.Errorf(http.StatusUnprocessableEntity, err.Error())
			}
			return err
		}
	}
	return api.writeOne(w, r, ref)
}

// setDisabled enables or disables the listed triggers (?disabled=true).
func (api triggerAPI) setDisabled(w http.ResponseWriter, r *http.Request) error {
	var refs []triggerRef
	if err := json.NewDecoder(r.Body).Decode(&refs); err != nil {
		return server.Errorf(http.StatusBadRequest, "read triggers: "+err.Error())
	}
	disabled := r.URL.Query().Get("disabled") != "false"
	for _, ref := range refs {
		if _, err := api.trigger(r.Context(), ref); err != nil {
			return err
		}
		if err := api.setOne(r.Context(), ref, disabled); err != nil {
			return err
		}
	}
	return writeJSONBody(w, map[string]any{"count": len(refs)})
}

// setOne writes the disabled flag. Enabling a schedule forgets its next
// date, so the ticks that passed while it was disabled are not recovered:
// it fires again from the next tick.
func (api triggerAPI) setOne(ctx context.Context, ref triggerRef, disabled bool) error {
	ts := api.a.store.Triggers()
	st, err := ts.Get(ctx, ref.Namespace, ref.FlowID, ref.TriggerID)
	if errors.Is(err, store.ErrNotFound) {
		st = store.TriggerState{Namespace: ref.Namespace, FlowID: ref.FlowID, TriggerID: ref.TriggerID}
	} else if err != nil {
		return err
	}
	if st.Disabled && !disabled {
		st.Next = nil
	}
	st.Disabled = disabled
	st.Updated = time.Now().UTC()
	return ts.Put(ctx, st)
}

func (api triggerAPI) pauseBackfill(paused bool) server.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var ref triggerRef
		if err := json.NewDecoder(r.Body).Decode(&ref); err != nil {
			return server.Errorf(http.StatusBadRequest, "read trigger: "+err.Error())
		}
		ts := api.a.store.Triggers()
		st, err := ts.Get(r.Context(), ref.Namespace, ref.FlowID, ref.TriggerID+scheduler.BackfillSuffix)
		if err != nil {
			return fmt.Errorf("backfill of %s.%s/%s: %w", ref.Namespace, ref.FlowID, ref.TriggerID, err)
		}
		st.Disabled = paused
		if err := ts.Put(r.Context(), st); err != nil {
			return err
		}
		return api.writeOne(w, r, ref)
	}
}

func (api triggerAPI) deleteBackfill(w http.ResponseWriter, r *http.Request) error {
	var ref triggerRef
	if err := json.NewDecoder(r.Body).Decode(&ref); err != nil {
		return server.Errorf(http.StatusBadRequest, "read trigger: "+err.Error())
	}
	if err := api.a.store.Triggers().Delete(r.Context(), ref.Namespace, ref.FlowID, ref.TriggerID+scheduler.BackfillSuffix); err != nil {
		return fmt.Errorf("backfill of %s.%s/%s: %w", ref.Namespace, ref.FlowID, ref.TriggerID, err)
	}
	return api.writeOne(w, r, ref)
}

// trigger checks that the referenced flow and trigger exist.
func (api triggerAPI) trigger(ctx context.Context, ref triggerRef) (*flow.Flow, error) {
	f, err := api.a.flows.Get(ctx, ref.Namespace, ref.FlowID, 0)
	if err != nil {
		return nil, err
	}
	for _, t := range f.Triggers {
		if t.ID == ref.TriggerID {
			return f, nil
		}
	}
	return nil, fmt.Errorf("trigger %s of %s.%s: %w", ref.TriggerID, ref.Namespace, ref.FlowID, store.ErrNotFound)
}

// writeOne answers with the trigger's context after a change.
func (api triggerAPI) writeOne(w http.ResponseWriter, r *http.Request, ref triggerRef) error {
	ts := api.a.store.Triggers()
	tc := triggerContext{Namespace: ref.Namespace, FlowID: ref.FlowID, TriggerID: ref.TriggerID}
	if st, err := ts.Get(r.Context(), ref.Namespace, ref.FlowID, ref.TriggerID); err == nil {
		tc.Date, tc.NextExecutionDate, tc.Disabled, tc.UpdatedDate = st.Last, st.Next, st.Disabled, &st.Updated
	}
	if bst, err := ts.Get(r.Context(), ref.Namespace, ref.FlowID, ref.TriggerID+scheduler.BackfillSuffix); err == nil {
		if b, err := scheduler.ReadBackfill(bst); err == nil {
			tc.Backfill = &b
		}
	}
	return writeJSONBody(w, tc)
}

func writeJSONBody(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(v)
}

// invalidate drops the cached list: a flow was written by this process.
func (c *flowListCache) invalidate() {
	c.mu.Lock()
	c.flows = nil
	c.mu.Unlock()
}

// flowWatch is a store whose flow writes call changed, so that this
// process's caches of the flow list see its own writes at once.
type flowWatch struct {
	store.Store
	changed func()
}

func (w flowWatch) Flows() store.FlowStore { return watchedFlows{w.Store.Flows(), w.changed} }

type watchedFlows struct {
	store.FlowStore
	changed func()
}

func (f watchedFlows) Create(ctx context.Context, p store.PutFlowParams) (store.FlowRecord, error) {
	defer f.changed()
	return f.FlowStore.Create(ctx, p)
}

func (f watchedFlows) Update(ctx context.Context, p store.PutFlowParams) (store.FlowRecord, error) {
	defer f.changed()
	return f.FlowStore.Update(ctx, p)
}

func (f watchedFlows) Delete(ctx context.Context, namespace, id string) error {
	defer f.changed()
	return f.FlowStore.Delete(ctx, namespace, id)
}
