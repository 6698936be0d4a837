// Package launch creates executions and acts on them from outside the
// executor: start (inputs checked and typed), subflow starts for the
// engine, kill, resume. It also keeps parsed flow revisions cached, since
// a revision never changes once stored.
package launch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/input"
	"github.com/ospreyhq/osprey/store"
)

// Parser parses and validates flow YAML.
type Parser func(src []byte) (*flow.Flow, error)

// Flows loads parsed flow revisions, caching them.
type Flows struct {
	store store.FlowStore
	parse Parser

	mu    sync.RWMutex
	cache map[string]*flow.Flow
}

// maxCachedFlows bounds the revision cache; past it the cache starts over,
// which costs one parse per flow.
const maxCachedFlows = 4096

// NewFlows returns a loader over fs.
func NewFlows(fs store.FlowStore, parse Parser) *Flows {
	return &Flows{store: fs, parse: parse, cache: map[string]*flow.Flow{}}
}

// Get returns revision rev of a flow (0: the latest live one).
func (f *Flows) Get(ctx context.Context, namespace, id string, rev int) (*flow.Flow, error) {
	if rev > 0 {
		if fl := f.cached(namespace, id, rev); fl != nil {
			return fl, nil
		}
	}
	rec, err := f.store.Get(ctx, namespace, id, rev)
	if err != nil {
		return nil, fmt.Errorf("load flow %s.%s: %w", namespace, id, err)
	}
	if fl := f.cached(namespace, id, rec.Revision); fl != nil {
		return fl, nil
	}
	fl, err := f.parse([]byte(rec.Source))
	if err != nil {
		return nil, fmt.Errorf("parse flow %s.%s revision %d: %w", namespace, id, rec.Revision, err)
	}
	fl.Revision = rec.Revision
	fl.Source = rec.Source
	f.mu.Lock()
	if len(f.cache) >= maxCachedFlows {
		f.cache = map[string]*flow.Flow{}
	}
	f.cache[cacheKey(namespace, id, rec.Revision)] = fl
	f.mu.Unlock()
	return fl, nil
}

func (f *Flows) cached(namespace, id string, rev int) *flow.Flow {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.cache[cacheKey(namespace, id, rev)]
}

func cacheKey(ns, id string, rev int) string { return fmt.Sprintf("%s|%s|%d", ns, id, rev) }

// Launcher creates and steers executions.
type Launcher struct {
	Store store.Store
	Flows *Flows
	Now   func() time.Time
}

var _ engine.Starter = (*Launcher)(nil)

func (l *Launcher) now() time.Time {
	if l.Now != nil {
		return l.Now().UTC()
	}
	return time.Now().UTC()
}

// Build makes a new CREATED execution of f with typed inputs; it does not
// store it.
func (l *Launcher) Build(f *flow.Flow, raw map[string]any, labels []flow.Label) (*flow.Execution, error) {
	if f.Disabled {
		return nil, flow.Errors{{Path: "disabled", Message: fmt.Sprintf("flow %s.%s is disabled", f.Namespace, f.ID)}}
	}
	inputs, err := input.Read(f, raw)
	if err != nil {
		return nil, err
	}
	now := l.now()
	ex := &flow.Execution{
		ID:           flow.NewID(),
		TenantID:     f.TenantID,
		Namespace:    f.Namespace,
		FlowID:       f.ID,
		FlowRevision: f.Revision,
		Inputs:       inputs,
		Labels:       mergeLabels(f.Labels, labels),
		State:        flow.NewStateInfo(flow.StateCreated, now),
		Metadata:     &flow.ExecutionMetadata{AttemptNumber: 1, OriginalCreatedDate: &now},
	}
	return ex, nil
}

// Start creates an execution of f and hands it to the executor.
func (l *Launcher) Start(ctx context.Context, f *flow.Flow, raw map[string]any, labels []flow.Label) (*flow.Execution, error) {
	ex, err := l.Build(f, raw, labels)
	if err != nil {
		return nil, err
	}
	if err := l.Store.Executions().Create(ctx, ex); err != nil {
		return nil, fmt.Errorf("create execution: %w", err)
	}
	_ = l.Store.Queue().Notify(ctx, store.TopicExecutions)
	return ex, nil
}

// NewExecution implements engine.Starter for subflows.
func (l *Launcher) NewExecution(ctx context.Context, r engine.StartRequest) (*flow.Execution, error) {
	f, err := l.Flows.Get(ctx, r.Namespace, r.FlowID, r.Revision)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("subflow %s.%s not found", r.Namespace, r.FlowID)
		}
		return nil, err
	}
	ex, err := l.Build(f, r.Inputs, r.Labels)
	if err != nil {
		return nil, fmt.Errorf("subflow %s.%s: %w", r.Namespace, r.FlowID, err)
	}
	ex.ParentID = r.ParentID
	ex.Trigger = r.Trigger
	return ex, nil
}

// Kill asks the executor to kill an execution.
func (l *Launcher) Kill(ctx context.Context, id string) error {
	return l.update(ctx, id, func(ex *flow.Execution) error {
		if ex.State.Current.IsTerminal() {
			return fmt.Errorf("execution %s already ended %s: %w", id, ex.State.Current, engine.ErrInvalidTransition)
		}
		ex.State.Set(flow.StateKilling, l.now())
		return nil
	})
}

// Resume continues a paused execution; inputs become the Pause task's
// outputs.
func (l *Launcher) Resume(ctx context.Context, id string, inputs map[string]any) error {
	return l.update(ctx, id, func(ex *flow.Execution) error {
		if ex.State.Current != flow.StatePaused {
			return fmt.Errorf("execution %s is %s, not PAUSED: %w", id, ex.State.Current, engine.ErrInvalidTransition)
		}
		found := false
		for _, tr := range ex.TaskRunList {
			if tr.State.Current == flow.StatePaused {
				tr.State.Set(flow.StateRunning, l.now())
				if len(inputs) > 0 {
					tr.Outputs = inputs
				}
				found = true
			}
		}
		if !found {
			return fmt.Errorf("execution %s has no paused task: %w", id, engine.ErrInvalidTransition)
		}
		ex.State.Set(flow.StateRunning, l.now())
		return nil
	})
}

// update applies fn to the stored execution, retrying on a version race
// with the executor, then wakes the executor.
func (l *Launcher) update(ctx context.Context, id string, fn func(*flow.Execution) error) error {
	for attempt := 0; attempt < 20; attempt++ {
		ex, ver, err := l.Store.Executions().Get(ctx, id)
		if err != nil {
			return fmt.Errorf("load execution %s: %w", id, err)
		}
		if err := fn(ex); err != nil {
			return err
		}
		_, err = l.Store.Executions().Save(ctx, store.SaveParams{Execution: ex, Version: ver})
		if errors.Is(err, store.ErrConflict) {
			time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
			continue
		}
		if err != nil {
			return fmt.Errorf("save execution %s: %w", id, err)
		}
		if err := l.Store.Executions().MarkDirty(ctx, id); err != nil {
			return fmt.Errorf("wake executor for %s: %w", id, err)
		}
		return l.Store.Queue().Notify(ctx, store.TopicExecutions)
	}
	return fmt.Errorf("execution %s keeps changing; try again: %w", id, store.ErrConflict)
}

func mergeLabels(base, add []flow.Label) []flow.Label {
	out := append([]flow.Label(nil), base...)
	for _, l := range add {
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Key, l.Key) {
				out[i].Value = l.Value
				replaced = true
			}
		}
		if !replaced {
			out = append(out, l)
		}
	}
	return out
}
