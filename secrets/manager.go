package secrets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"
)

// Options configures a Manager. Only Backend is required.
type Options struct {
	Backend Backend
	// ReadOnly refuses writes even when the backend could do them
	// (kestra.secret.read-only).
	ReadOnly bool
	// CacheSize bounds the number of cached resolutions; 0 disables the
	// cache (kestra.secret.cache.enabled: false).
	CacheSize int
	// CacheTTL is how long a resolved value is reused
	// (kestra.secret.cache.expire-after-write); default one minute.
	CacheTTL time.Duration
	// NegativeTTL is how long "not found" is remembered; default 10s,
	// capped at CacheTTL.
	NegativeTTL time.Duration
	// IndexTTL is how long the listing of existing (namespace, key) pairs
	// is trusted; default CacheTTL. A miss re-lists at most once per
	// IndexMinRefresh (default 5s) so secrets created elsewhere appear.
	IndexTTL        time.Duration
	IndexMinRefresh time.Duration
	// RatePerSecond and Burst bound backend calls made by this process.
	// Defaults 200/s with bursts of 200, half of Key Vault's 4,000
	// operations per 10 seconds, leaving room for other replicas.
	RatePerSecond float64
	Burst         int
	// FlightTimeout bounds one shared backend resolution; default 2m.
	FlightTimeout time.Duration
	// Learn receives every value resolved (for the process-wide masker).
	Learn  func(value string)
	Now    func() time.Time
	Logger *slog.Logger
}

// Manager resolves secrets with inheritance, caching and coalescing, and
// forwards writes to a backend that supports them. It is safe for
// concurrent use.
type Manager struct {
	o       Options
	b       Backend
	w       Writer
	canon   KeyCanonicalizer
	log     *slog.Logger
	cache   *cache
	group   singleflight.Group
	limiter *rate.Limiter

	mu        sync.Mutex
	index     map[ref]struct{}
	indexAt   time.Time // when index was listed; zero when never or invalidated
	noIndex   bool      // listing is not possible (permission, backend)
	listCalls int
	getCalls  int
}

type ref struct{ ns, key string }

// New returns a Manager over o.Backend.
func New(o Options) *Manager {
	if o.CacheTTL <= 0 {
		o.CacheTTL = time.Minute
	}
	if o.NegativeTTL <= 0 {
		o.NegativeTTL = 10 * time.Second
	}
	o.NegativeTTL = min(o.NegativeTTL, o.CacheTTL)
	if o.IndexTTL <= 0 {
		o.IndexTTL = o.CacheTTL
	}
	if o.IndexMinRefresh <= 0 {
		o.IndexMinRefresh = 5 * time.Second
	}
	if o.RatePerSecond <= 0 {
		o.RatePerSecond = 200
	}
	if o.Burst <= 0 {
		o.Burst = 200
	}
	if o.FlightTimeout <= 0 {
		o.FlightTimeout = 2 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{
		o:       o,
		b:       o.Backend,
		log:     o.Logger.With("component", "secrets"),
		cache:   newCache(o.CacheSize),
		limiter: rate.NewLimiter(rate.Limit(o.RatePerSecond), o.Burst),
	}
	m.w, _ = o.Backend.(Writer)
	m.canon, _ = o.Backend.(KeyCanonicalizer)
	return m
}

// Backend returns the wrapped backend.
func (m *Manager) Backend() Backend { return m.b }

// ReadOnly reports whether writes are refused.
func (m *Manager) ReadOnly() bool { return m.o.ReadOnly || m.w == nil }

// Stats counts the backend calls made, for tests and metrics.
type Stats struct {
	Gets, Lists, Cached int
}

// Stats returns the backend calls made so far.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Stats{Gets: m.getCalls, Lists: m.listCalls, Cached: m.cache.len()}
}

// Get resolves key for a flow of namespace: the nearest of namespace, its
// parents and the global namespace that holds it. It implements
// render.Secrets. A missing key is a *NotFoundError naming every namespace
// searched.
func (m *Manager) Get(ctx context.Context, namespace, key string) (string, error) {
	if key == "" {
		return "", errors.New("secret key is empty")
	}
	if m.canon != nil {
		key = m.canon.CanonicalKey(key)
	}
	ck := namespace + "\x00" + key
	if e, ok := m.cache.get(ck, m.o.Now()); ok {
		if !e.found {
			return "", &NotFoundError{Key: key, Searched: Chain(namespace)}
		}
		m.learn(e.value)
		return e.value, nil
	}
	// The shared read runs detached from the first caller's cancellation
	// (bounded by FlightTimeout), so one task timing out does not fail every
	// task waiting on the same key.
	ch := m.group.DoChan(ck, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.o.FlightTimeout)
		defer cancel()
		// A flight that finished between our cache check and Do has
		// filled the cache: use it rather than read again.
		if e, ok := m.cache.get(ck, m.o.Now()); ok {
			if !e.found {
				return nil, &NotFoundError{Key: key, Searched: Chain(namespace)}
			}
			return e.value, nil
		}
		val, found, err := m.resolve(ctx, namespace, key)
		if err != nil {
			return nil, err
		}
		now := m.o.Now()
		if !found {
			m.cache.put(cacheEntry{key: ck, expires: now.Add(m.o.NegativeTTL)})
			return nil, &NotFoundError{Key: key, Searched: Chain(namespace)}
		}
		m.cache.put(cacheEntry{key: ck, value: val, found: true, expires: now.Add(m.o.CacheTTL)})
		return val, nil
	})
	var res singleflight.Result
	select {
	case res = <-ch:
	case <-ctx.Done():
		return "", fmt.Errorf("resolve secret '%s': %w", key, context.Cause(ctx))
	}
	if res.Err != nil {
		return "", res.Err
	}
	s := res.Val.(string)
	m.learn(s)
	return s, nil
}

func (m *Manager) learn(v string) {
	if m.o.Learn != nil {
		m.o.Learn(v)
	}
}

// resolve finds key along the namespace chain, reading the backend as
// little as the index allows.
func (m *Manager) resolve(ctx context.Context, namespace, key string) (string, bool, error) {
	chain := Chain(namespace)
	for attempt := 0; attempt < 2; attempt++ {
		idx, fresh, err := m.currentIndex(ctx, attempt > 0)
		if err != nil {
			return "", false, err
		}
		if idx == nil {
			return m.climb(ctx, chain, key)
		}
		for _, ns := range chain {
			if _, ok := idx[ref{ns, key}]; !ok {
				continue
			}
			v, err := m.fetchCached(ctx, ns, key)
			if errors.Is(err, ErrNotFound) {
				m.invalidateIndex() // deleted elsewhere since the listing
				continue
			}
			if err != nil {
				return "", false, err
			}
			return v, true, nil
		}
		if fresh {
			break
		}
	}
	return "", false, nil
}

// climb reads each namespace in turn, for backends that cannot be listed.
func (m *Manager) climb(ctx context.Context, chain []string, key string) (string, bool, error) {
	for _, ns := range chain {
		v, err := m.fetchCached(ctx, ns, key)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return "", false, err
		}
		return v, true, nil
	}
	return "", false, nil
}

// fetchCached reads (ns, key) exactly, reusing a resolution made from ns
// itself: secret('K') from a.b and secret('K', namespace='a') share one
// read when K lives in a.
func (m *Manager) fetchCached(ctx context.Context, ns, key string) (string, error) {
	ck := ns + "\x00" + key
	if e, ok := m.cache.get(ck, m.o.Now()); ok && e.found {
		return e.value, nil
	}
	v, err := m.fetch(ctx, ns, key)
	if err == nil {
		m.cache.put(cacheEntry{key: ck, value: v, found: true, expires: m.o.Now().Add(m.o.CacheTTL)})
	}
	return v, err
}

func (m *Manager) fetch(ctx context.Context, ns, key string) (string, error) {
	if err := m.limiter.Wait(ctx); err != nil {
		return "", fmt.Errorf("wait for the secret rate limit: %w", err)
	}
	m.mu.Lock()
	m.getCalls++
	m.mu.Unlock()
	return m.b.Get(ctx, ns, key)
}

// currentIndex returns the index of existing secrets, listing the backend
// when it is older than IndexTTL or, with retry, older than
// IndexMinRefresh. fresh reports that it was just listed, so a miss is
// final. A nil index means the backend cannot be listed.
func (m *Manager) currentIndex(ctx context.Context, retry bool) (idx map[ref]struct{}, fresh bool, err error) {
	now := m.o.Now()
	m.mu.Lock()
	if m.noIndex {
		m.mu.Unlock()
		return nil, false, nil
	}
	age := now.Sub(m.indexAt)
	idx = m.index
	stale := m.indexAt.IsZero() || age >= m.o.IndexTTL || (retry && age >= m.o.IndexMinRefresh)
	m.mu.Unlock()
	if !stale {
		return idx, retry, nil
	}
	v, err, _ := m.group.Do("\x01index", func() (any, error) { return m.relist(ctx) })
	if err != nil {
		return nil, false, err
	}
	idx, _ = v.(map[ref]struct{})
	return idx, idx != nil, nil
}

func (m *Manager) relist(ctx context.Context) (map[ref]struct{}, error) {
	if err := m.limiter.Wait(ctx); err != nil {
		return nil, fmt.Errorf("wait for the secret rate limit: %w", err)
	}
	m.mu.Lock()
	m.listCalls++
	m.mu.Unlock()
	metas, err := m.b.List(ctx, AllNamespaces)
	if errors.Is(err, ErrForbidden) {
		m.log.WarnContext(ctx, "cannot list secrets, so parent namespaces are read one by one; grant list permission to save reads", "err", err)
		m.mu.Lock()
		m.noIndex = true
		m.mu.Unlock()
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	idx := make(map[ref]struct{}, len(metas))
	for _, s := range metas {
		idx[ref{s.Namespace, s.Key}] = struct{}{}
	}
	m.mu.Lock()
	m.index, m.indexAt = idx, m.o.Now()
	m.mu.Unlock()
	return idx, nil
}

func (m *Manager) invalidateIndex() {
	m.mu.Lock()
	m.indexAt = time.Time{}
	m.mu.Unlock()
}

// invalidate forgets everything cached after a write through this Manager.
func (m *Manager) invalidate() {
	m.cache.clear()
	m.invalidateIndex()
}

// List returns the secrets of namespace ("*" for all), sorted by namespace
// and key, without values.
func (m *Manager) List(ctx context.Context, namespace string) ([]Meta, error) {
	if err := m.limiter.Wait(ctx); err != nil {
		return nil, fmt.Errorf("wait for the secret rate limit: %w", err)
	}
	out, err := m.b.List(ctx, namespace)
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// Inherited returns the keys namespace inherits, per parent namespace
// (the global namespace is ""), nearest first.
func (m *Manager) Inherited(ctx context.Context, namespace string) (map[string][]string, error) {
	all, err := m.List(ctx, AllNamespaces)
	if err != nil {
		return nil, err
	}
	parents := Chain(namespace)[1:]
	out := map[string][]string{}
	for _, s := range all {
		if slices.Contains(parents, s.Namespace) {
			out[s.Namespace] = append(out[s.Namespace], s.Key)
		}
	}
	return out, nil
}

func (m *Manager) writer() (Writer, error) {
	if m.o.ReadOnly {
		return nil, fmt.Errorf("%w: kestra.secret.read-only is true; change secrets in the backend itself or set read-only: false", ErrReadOnly)
	}
	if m.w == nil {
		return nil, fmt.Errorf("%w: this secret backend cannot be written through Osprey", ErrReadOnly)
	}
	return m.w, nil
}

// Put creates or updates a secret and forgets cached resolutions.
func (m *Manager) Put(ctx context.Context, p PutParams) error {
	w, err := m.writer()
	if err != nil {
		return err
	}
	if p.Key == "" {
		return errors.New("secret key is empty")
	}
	if err := checkWrite(&p.Value, p.Tags); err != nil {
		return err
	}
	if m.canon != nil {
		p.Key = m.canon.CanonicalKey(p.Key)
	}
	defer m.invalidate()
	return w.Put(ctx, p)
}

// Patch updates a secret's description or tags.
func (m *Manager) Patch(ctx context.Context, p PatchParams) error {
	w, err := m.writer()
	if err != nil {
		return err
	}
	if err := checkWrite(nil, p.Tags); err != nil {
		return err
	}
	return w.Patch(ctx, p)
}

// Delete removes a secret and forgets cached resolutions.
func (m *Manager) Delete(ctx context.Context, namespace, key string) error {
	w, err := m.writer()
	if err != nil {
		return err
	}
	defer m.invalidate()
	return w.Delete(ctx, namespace, key)
}
