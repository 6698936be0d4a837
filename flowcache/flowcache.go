// Package flowcache serves parsed flows to the components that read them
// (launcher, executor, worker, triggers and webserver): one revision, parsed
// once since a stored revision never changes, and the latest revision of
// every flow, which Flow triggers look at on every state change.
package flowcache

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// Parser parses and validates flow YAML.
type Parser func(src []byte) (*flow.Flow, error)

// maxRevisions bounds the revision cache; past it the cache starts over,
// which costs one parse per flow.
const maxRevisions = 4096

// ListTTL bounds how stale the list of latest revisions may be when another
// process wrote a flow; this process's own writes (through Watch) drop the
// list at once.
const ListTTL = time.Second

// Cache loads parsed flow revisions from a flow store.
type Cache struct {
	store store.FlowStore
	parse Parser
	now   func() time.Time

	mu   sync.RWMutex
	revs map[string]*flow.Flow

	listMu sync.Mutex
	listAt time.Time
	list   []*flow.Flow
}

// New returns a cache over fs.
func New(fs store.FlowStore, parse Parser) *Cache {
	return &Cache{store: fs, parse: parse, now: time.Now, revs: map[string]*flow.Flow{}}
}

// Get returns revision rev of a flow (0: the latest live one).
func (c *Cache) Get(ctx context.Context, namespace, id string, rev int) (*flow.Flow, error) {
	if rev > 0 {
		if fl := c.cached(namespace, id, rev); fl != nil {
			return fl, nil
		}
	}
	rec, err := c.store.Get(ctx, namespace, id, rev)
	if err != nil {
		return nil, fmt.Errorf("load flow %s.%s: %w", namespace, id, err)
	}
	if fl := c.cached(namespace, id, rec.Revision); fl != nil {
		return fl, nil
	}
	fl, err := c.parse([]byte(rec.Source))
	if err != nil {
		return nil, fmt.Errorf("parse flow %s.%s revision %d: %w", namespace, id, rec.Revision, err)
	}
	fl.Revision = rec.Revision
	fl.Source = rec.Source
	c.mu.Lock()
	if len(c.revs) >= maxRevisions {
		c.revs = map[string]*flow.Flow{}
	}
	c.revs[revKey(namespace, id, rec.Revision)] = fl
	c.mu.Unlock()
	return fl, nil
}

func (c *Cache) cached(namespace, id string, rev int) *flow.Flow {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.revs[revKey(namespace, id, rev)]
}

func revKey(ns, id string, rev int) string { return fmt.Sprintf("%s|%s|%d", ns, id, rev) }

// All lists the latest revision of every flow, parsed. The list is kept for
// ListTTL; a revision that does not parse is left out (it has no triggers
// to run).
func (c *Cache) All(ctx context.Context) ([]*flow.Flow, error) {
	c.listMu.Lock()
	defer c.listMu.Unlock()
	if c.list != nil && c.now().Sub(c.listAt) < ListTTL {
		return c.list, nil
	}
	recs, _, err := c.store.Search(ctx, store.FlowQuery{})
	if err != nil {
		return nil, fmt.Errorf("list flows: %w", err)
	}
	out := make([]*flow.Flow, 0, len(recs))
	for _, r := range recs {
		f, err := c.Get(ctx, r.Namespace, r.ID, r.Revision)
		if err != nil {
			continue
		}
		out = append(out, f)
	}
	c.list, c.listAt = out, c.now()
	return out, nil
}

// Invalidate drops the list of latest revisions: a flow was written.
func (c *Cache) Invalidate() {
	c.listMu.Lock()
	c.list = nil
	c.listMu.Unlock()
}

// Watch returns st with its flow writes dropping the cache's list, so that
// this process sees its own writes at once.
func (c *Cache) Watch(st store.Store) store.Store { return watched{st, c} }

type watched struct {
	store.Store
	c *Cache
}

func (w watched) Flows() store.FlowStore { return watchedFlows{w.Store.Flows(), w.c} }

type watchedFlows struct {
	store.FlowStore
	c *Cache
}

func (f watchedFlows) Create(ctx context.Context, p store.PutFlowParams) (store.FlowRecord, error) {
	defer f.c.Invalidate()
	return f.FlowStore.Create(ctx, p)
}

func (f watchedFlows) Update(ctx context.Context, p store.PutFlowParams) (store.FlowRecord, error) {
	defer f.c.Invalidate()
	return f.FlowStore.Update(ctx, p)
}

func (f watchedFlows) Delete(ctx context.Context, namespace, id string) error {
	defer f.c.Invalidate()
	return f.FlowStore.Delete(ctx, namespace, id)
}
