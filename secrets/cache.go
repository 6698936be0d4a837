package secrets

import (
	"container/list"
	"sync"
	"time"
)

// cache is a size-bounded map of resolutions with a per-entry expiry. Least
// recently used entries are evicted first. Negative results (found=false)
// are kept too, with their own, shorter expiry.
type cache struct {
	mu    sync.Mutex
	max   int
	items map[string]*list.Element
	lru   *list.List
}

type cacheEntry struct {
	key     string
	value   string
	found   bool
	expires time.Time
}

func newCache(max int) *cache {
	return &cache{max: max, items: map[string]*list.Element{}, lru: list.New()}
}

// get returns the entry under k unless it expired at now.
func (c *cache) get(k string, now time.Time) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return cacheEntry{}, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.lru.Remove(el)
		delete(c.items, k)
		return cacheEntry{}, false
	}
	c.lru.MoveToFront(el)
	return *e, true
}

func (c *cache) put(e cacheEntry) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[e.key]; ok {
		*el.Value.(*cacheEntry) = e
		c.lru.MoveToFront(el)
		return
	}
	c.items[e.key] = c.lru.PushFront(&e)
	for c.lru.Len() > c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).key)
	}
}

// clear drops every entry, so the next resolutions read the backend again.
func (c *cache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items = map[string]*list.Element{}
	c.lru.Init()
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
