package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/scheduler"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/trigger"
)

// Triggers lets the server answer Kestra's webhook endpoint and trigger
// API (trigger states, enable and disable, backfills). Without it
// (Options.Triggers nil) those routes are not mounted.
type Triggers struct {
	// Webhooks starts executions from webhook calls (a *trigger.Dispatcher).
	Webhooks Webhooks
	// Flows reads flows and lists the latest revision of every flow (a
	// *flowcache.Cache).
	Flows FlowSource
	// Scheduled reports whether a trigger type keeps a next date
	// (Schedule, ScheduleOnDates, polling triggers): only those show a
	// nextExecutionDate.
	Scheduled func(typ string) bool
	// Now is the clock backfills and updates are dated with; time.Now when
	// nil.
	Now func() time.Time
}

// Webhooks starts an execution for a webhook call; nil with no error when
// the trigger's conditions said no.
type Webhooks interface {
	Webhook(ctx context.Context, namespace, flowID, key string, req trigger.Request) (*flow.Execution, error)
}

// FlowSource reads parsed flows.
type FlowSource interface {
	Get(ctx context.Context, namespace, id string, rev int) (*flow.Flow, error)
	All(ctx context.Context) ([]*flow.Flow, error)
}

// triggerRoutes mounts the webhook endpoint, which is public (the key in
// the path is the webhook's credential), and the trigger API.
func (s *Server) triggerRoutes() {
	// POST is mounted by evalAndWebhookRoutes, which shares its pattern.
	for _, m := range []string{http.MethodGet, http.MethodPut} {
		s.HandlePublic(m+" /executions/webhook/{namespace}/{id}/{key}", s.webhook)
	}
	s.Handle("GET /triggers/search", s.searchTriggers)
	s.Handle("GET /triggers/{namespace}/{flowId}", s.searchTriggers)
	s.Handle("PUT /triggers", s.updateTrigger)
	s.Handle("POST /triggers/set-disabled/by-triggers", s.setTriggersDisabled)
	s.Handle("PUT /triggers/backfill/pause", s.pauseBackfill(true))
	s.Handle("PUT /triggers/backfill/unpause", s.pauseBackfill(false))
	s.Handle("POST /triggers/backfill/delete", s.deleteBackfill)
}

func (s *Server) triggersNow() time.Time {
	if s.opts.Triggers.Now != nil {
		return s.opts.Triggers.Now()
	}
	return time.Now()
}

func (s *Server) webhook(w http.ResponseWriter, r *http.Request) error {
	ns, id, key := r.PathValue("namespace"), r.PathValue("id"), r.PathValue("key")
	body, err := io.ReadAll(r.Body) // bounded by Options.MaxBodyBytes, like every route
	if err != nil {
		return fmt.Errorf("read webhook body: %w", err)
	}
	ex, err := s.opts.Triggers.Webhooks.Webhook(r.Context(), ns, id, key, trigger.Request{Body: body, Headers: r.Header, Parameters: r.URL.Query()})
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Never echo the key: it is the webhook's secret.
		return Errorf(http.StatusNotFound, fmt.Sprintf("no webhook trigger of flow %s.%s has this key", ns, id))
	case errors.Is(err, trigger.ErrDisabled):
		return Errorf(http.StatusConflict, err.Error())
	case err != nil:
		var fe flow.Errors
		if errors.As(err, &fe) {
			return Errorf(http.StatusUnprocessableEntity, fmt.Sprintf("cannot start %s.%s: %v", ns, id, err))
		}
		return err
	case ex == nil:
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if s.webhookFlag(r.Context(), ex, "wait") {
		if done, err := s.waitTerminal(w, r, ex); err == nil && done != nil {
			ex = done
		}
		if s.webhookFlag(r.Context(), ex, "returnOutputs") {
			writeJSON(w, http.StatusOK, ex.Outputs)
			return nil
		}
	}
	writeJSON(w, http.StatusOK, ex)
	return nil
}

// webhookFlag reads a boolean property (wait, returnOutputs) of the
// webhook trigger that started ex.
func (s *Server) webhookFlag(ctx context.Context, ex *flow.Execution, name string) bool {
	f, err := s.opts.Triggers.Flows.Get(ctx, ex.Namespace, ex.FlowID, ex.FlowRevision)
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
	// Trigger and State are the same in Kestra 2.0's shape
	// (ApiTriggerAndState), which its generated clients read.
	Trigger map[string]any  `json:"trigger"`
	State   apiTriggerState `json:"state"`
}

// apiTriggerState is Kestra 2.0's ApiTriggerState.
type apiTriggerState struct {
	Namespace          string     `json:"namespace"`
	FlowID             string     `json:"flowId"`
	TriggerID          string     `json:"triggerId"`
	UpdatedAt          time.Time  `json:"updatedAt"`
	NextEvaluationDate *time.Time `json:"nextEvaluationDate,omitempty"`
	LastTriggeredDate  *time.Time `json:"lastTriggeredDate,omitempty"`
	Disabled           bool       `json:"disabled"`
}

// search lists the triggers of every flow (or of one), with their state;
// ?namespace= keeps a namespace and its children, ?q= a substring of the
// flow or trigger id.
func (s *Server) searchTriggers(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	flows, err := s.opts.Triggers.Flows.All(ctx)
	if err != nil {
		return err
	}
	states, err := s.opts.Store.Triggers().List(ctx)
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
			if s.opts.Triggers.Scheduled != nil && s.opts.Triggers.Scheduled(t.Type) && st.Next != nil && !st.Next.IsZero() {
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
			state := apiTriggerState{Namespace: f.Namespace, FlowID: f.ID, TriggerID: t.ID, UpdatedAt: st.Updated,
				NextEvaluationDate: tc.NextExecutionDate, LastTriggeredDate: st.Last, Disabled: tc.Disabled}
			if state.UpdatedAt.IsZero() {
				state.UpdatedAt = time.Now().UTC() // never fired nor changed: as of now
			}
			trig := maps.Clone(at)
			if _, ok := trig["when"]; !ok {
				// Kestra 2.0's gate expression, required by its model: a
				// trigger without one always fires.
				trig["when"] = "true"
			}
			items = append(items, triggerItem{AbstractTrigger: at, TriggerContext: tc, Trigger: trig, State: state})
		}
	}
	if flowID != "" {
		// One flow's triggers: Kestra's spec answers its trigger states
		// (ApiTriggerState) flat; the search's fields stay beside them.
		flat := make([]flowTriggerItem, len(items))
		for i, it := range items {
			flat[i] = flowTriggerItem{apiTriggerState: it.State, triggerItem: it}
		}
		writeJSON(w, http.StatusOK, map[string]any{"results": flat, "total": len(flat)})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": items, "total": len(items)})
	return nil
}

// flowTriggerItem is a trigger of one flow: its state's fields, and the
// search's.
type flowTriggerItem struct {
	apiTriggerState
	triggerItem
}

// update enables or disables a trigger and starts a backfill, as Kestra's
// PUT /triggers.
func (s *Server) updateTrigger(w http.ResponseWriter, r *http.Request) error {
	var ref triggerRef
	if err := json.NewDecoder(r.Body).Decode(&ref); err != nil {
		return Errorf(http.StatusBadRequest, "read trigger: "+err.Error())
	}
	f, err := s.trigger(r.Context(), ref)
	if err != nil {
		return err
	}
	if ref.Disabled != nil {
		if err := s.setTriggerDisabled(r.Context(), ref, *ref.Disabled); err != nil {
			return err
		}
	}
	if ref.Backfill != nil {
		if err := scheduler.StartBackfill(r.Context(), s.opts.Store.Triggers(), f, ref.TriggerID, *ref.Backfill, s.triggersNow()); err != nil {
			if errors.Is(err, scheduler.ErrNotSchedule) || errors.Is(err, scheduler.ErrInvalidBackfill) {
				return Errorf(http.StatusUnprocessableEntity, err.Error())
			}
			return err
		}
	}
	return s.writeTrigger(w, r, ref)
}

// setDisabled enables or disables the listed triggers (?disabled=true).
func (s *Server) setTriggersDisabled(w http.ResponseWriter, r *http.Request) error {
	// Kestra 2.0's body is {"triggers": [...], "disabled": bool}; the
	// older one, which Osprey's UI sends, a bare list with ?disabled=.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("read triggers: %w", err)
	}
	var refs []triggerRef
	disabled := r.URL.Query().Get("disabled") != "false"
	if trimmed := strings.TrimSpace(string(body)); strings.HasPrefix(trimmed, "{") {
		var req struct {
			Triggers []triggerRef `json:"triggers"`
			Disabled *bool        `json:"disabled"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return Errorf(http.StatusBadRequest, "read triggers: "+err.Error())
		}
		if req.Disabled == nil {
			return Errorf(http.StatusBadRequest, "read triggers: the body must say disabled: true or false")
		}
		refs, disabled = req.Triggers, *req.Disabled
	} else if err := json.Unmarshal(body, &refs); err != nil {
		return Errorf(http.StatusBadRequest, "read triggers: "+err.Error())
	}
	for _, ref := range refs {
		if _, err := s.trigger(r.Context(), ref); err != nil {
			return err
		}
		if err := s.setTriggerDisabled(r.Context(), ref, disabled); err != nil {
			return err
		}
	}
	// totalItems is Kestra's ApiAsyncOperationResponse; count is Osprey's
	// older answer. Osprey applies the change before answering.
	writeJSON(w, http.StatusOK, map[string]any{"count": len(refs), "totalItems": len(refs)})
	return nil
}

// setOne writes the disabled flag. Enabling a schedule forgets its next
// date, so the ticks that passed while it was disabled are not recovered:
// it fires again from the next tick.
func (s *Server) setTriggerDisabled(ctx context.Context, ref triggerRef, disabled bool) error {
	ts := s.opts.Store.Triggers()
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
	st.Updated = s.triggersNow().UTC()
	return ts.Put(ctx, st)
}

func (s *Server) pauseBackfill(paused bool) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var ref triggerRef
		if err := json.NewDecoder(r.Body).Decode(&ref); err != nil {
			return Errorf(http.StatusBadRequest, "read trigger: "+err.Error())
		}
		ts := s.opts.Store.Triggers()
		st, err := ts.Get(r.Context(), ref.Namespace, ref.FlowID, ref.TriggerID+scheduler.BackfillSuffix)
		if err != nil {
			return fmt.Errorf("backfill of %s.%s/%s: %w", ref.Namespace, ref.FlowID, ref.TriggerID, err)
		}
		st.Disabled = paused
		if err := ts.Put(r.Context(), st); err != nil {
			return err
		}
		return s.writeTrigger(w, r, ref)
	}
}

func (s *Server) deleteBackfill(w http.ResponseWriter, r *http.Request) error {
	var ref triggerRef
	if err := json.NewDecoder(r.Body).Decode(&ref); err != nil {
		return Errorf(http.StatusBadRequest, "read trigger: "+err.Error())
	}
	if err := s.opts.Store.Triggers().Delete(r.Context(), ref.Namespace, ref.FlowID, ref.TriggerID+scheduler.BackfillSuffix); err != nil {
		return fmt.Errorf("backfill of %s.%s/%s: %w", ref.Namespace, ref.FlowID, ref.TriggerID, err)
	}
	return s.writeTrigger(w, r, ref)
}

// trigger checks that the referenced flow and trigger exist.
func (s *Server) trigger(ctx context.Context, ref triggerRef) (*flow.Flow, error) {
	f, err := s.opts.Triggers.Flows.Get(ctx, ref.Namespace, ref.FlowID, 0)
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
func (s *Server) writeTrigger(w http.ResponseWriter, r *http.Request, ref triggerRef) error {
	ts := s.opts.Store.Triggers()
	tc := triggerContext{Namespace: ref.Namespace, FlowID: ref.FlowID, TriggerID: ref.TriggerID}
	updated := s.triggersNow().UTC() // never changed: as of now
	if st, err := ts.Get(r.Context(), ref.Namespace, ref.FlowID, ref.TriggerID); err == nil {
		tc.Date, tc.NextExecutionDate, tc.Disabled, tc.UpdatedDate = st.Last, st.Next, st.Disabled, &st.Updated
		if !st.Updated.IsZero() {
			updated = st.Updated
		}
	}
	if bst, err := ts.Get(r.Context(), ref.Namespace, ref.FlowID, ref.TriggerID+scheduler.BackfillSuffix); err == nil {
		if b, err := scheduler.ReadBackfill(bst); err == nil {
			tc.Backfill = &b
		}
	}
	// The trigger context, with updatedAt: Kestra's spec answers an
	// ApiTriggerState, which has the same names otherwise.
	writeJSON(w, http.StatusOK, struct {
		triggerContext
		UpdatedAt time.Time `json:"updatedAt"`
	}{tc, updated})
	return nil
}
