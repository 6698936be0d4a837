package mask

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Cache keeps what Maskers learn, so that the task runs of a worker that
// resolve the same secrets do not learn them again: each secret's forms,
// and the matcher built for a set of secrets. A PEM key's forms and their
// matcher cost a tenth of a second, paid by every task run that reads it
// without a Cache.
//
// What it keeps reveals the secrets, so it keeps it no longer than the
// secret manager keeps the values themselves: entries expire after a TTL
// (and are dropped as others are stored), their number is bounded, and
// they are found by SHA-256 digest, never by the value. A Cache is safe
// for concurrent use.
type Cache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu       sync.Mutex
	learnt   map[[sha256.Size]byte]cached[*learnt]
	matchers map[[sha256.Size]byte]cached[*matcher]
}

// learnt is what Add learns of one secret.
type learnt struct {
	forms []string // Forms(secret)
	bases []string // whole-value forms of its parts, for decoded rows
}

type cached[T any] struct {
	v       T
	expires time.Time
}

// NewCache returns a Cache of up to size secrets (and as many sets of
// secrets), each kept for ttl after it was learnt. A size or ttl of zero
// or less returns nil, which caches nothing.
func NewCache(size int, ttl time.Duration) *Cache {
	if size <= 0 || ttl <= 0 {
		return nil
	}
	return &Cache{ttl: ttl, max: size, now: time.Now,
		learnt: map[[sha256.Size]byte]cached[*learnt]{}, matchers: map[[sha256.Size]byte]cached[*matcher]{}}
}

// learn returns what secret teaches, from c when it knows it.
func (c *Cache) learn(secret string) *learnt {
	if c == nil {
		return learnSecret(secret)
	}
	k := sha256.Sum256([]byte(secret))
	if l, ok := get(c, c.learnt, k); ok {
		return l
	}
	l := learnSecret(secret)
	put(c, c.learnt, k, l)
	return l
}

// matcher returns the matcher for the secrets whose digests made key,
// building it with build when c does not hold it.
func (c *Cache) matcher(key [sha256.Size]byte, build func() *matcher) *matcher {
	if c == nil {
		return build()
	}
	if mt, ok := get(c, c.matchers, key); ok {
		return mt
	}
	mt := build()
	put(c, c.matchers, key, mt)
	return mt
}

func get[T any](c *Cache, m map[[sha256.Size]byte]cached[T], k [sha256.Size]byte) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := m[k]
	if !ok || !c.now().Before(e.expires) {
		var zero T
		return zero, false
	}
	return e.v, true
}

// put stores v, first dropping the expired entries and, when m is full,
// the one closest to expiring.
func put[T any](c *Cache, m map[[sha256.Size]byte]cached[T], k [sha256.Size]byte, v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	var oldest [sha256.Size]byte
	var oldestAt time.Time
	for key, e := range m {
		if !now.Before(e.expires) {
			delete(m, key)
			continue
		}
		if oldestAt.IsZero() || e.expires.Before(oldestAt) {
			oldest, oldestAt = key, e.expires
		}
	}
	if _, ok := m[k]; !ok && len(m) >= c.max {
		delete(m, oldest)
	}
	m[k] = cached[T]{v: v, expires: now.Add(c.ttl)}
}

// learnSecret computes what Add learns of secret.
func learnSecret(secret string) *learnt {
	l := &learnt{forms: Forms(secret)}
	seen := map[string]bool{}
	for _, p := range Parts(secret) {
		for _, f := range firstForms(p) {
			if len(f) >= MinLen && !seen[f] {
				seen[f] = true
				l.bases = append(l.bases, f)
			}
		}
	}
	return l
}
