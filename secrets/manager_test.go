package secrets_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/secrets"
)

// memory is an in-memory backend that counts calls and can block Gets, to
// observe what the Manager asks of a backend.
type memory struct {
	mu      sync.Mutex
	vals    map[[2]string]string
	gets    atomic.Int64
	lists   atomic.Int64
	listErr error
	gate    chan struct{} // when set, Get waits on it
}

func newMemory(kv ...string) *memory {
	m := &memory{vals: map[[2]string]string{}}
	for i := 0; i+2 < len(kv)+1; i += 3 {
		m.vals[[2]string{kv[i], kv[i+1]}] = kv[i+2]
	}
	return m
}

func (m *memory) Get(ctx context.Context, ns, key string) (string, error) {
	m.gets.Add(1)
	if m.gate != nil {
		select {
		case <-m.gate:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vals[[2]string{ns, key}]
	if !ok {
		return "", fmt.Errorf("%s/%s: %w", ns, key, secrets.ErrNotFound)
	}
	return v, nil
}

func (m *memory) List(_ context.Context, ns string) ([]secrets.Meta, error) {
	m.lists.Add(1)
	if m.listErr != nil {
		return nil, m.listErr
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []secrets.Meta
	for k := range m.vals {
		if ns == secrets.AllNamespaces || ns == k[0] {
			out = append(out, secrets.Meta{Namespace: k[0], Key: k[1]})
		}
	}
	return out, nil
}

func (m *memory) Put(_ context.Context, p secrets.PutParams) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vals[[2]string{p.Namespace, p.Key}] = p.Value
	return nil
}

func (m *memory) Patch(context.Context, secrets.PatchParams) error { return nil }

func (m *memory) Delete(_ context.Context, ns, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.vals, [2]string{ns, key})
	return nil
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func TestChain(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"a.b.c", "a.b", "a", ""}, secrets.Chain("a.b.c"))
	require.Equal(t, []string{""}, secrets.Chain(""))
}

func TestInheritance(t *testing.T) {
	t.Parallel()
	b := newMemory(
		"acme", "DB", "parent-value",
		"acme.team", "DB", "child-value",
		"", "GLOBAL", "global-value",
		"other", "ONLY_OTHER", "other-value",
	)
	m := secrets.New(secrets.Options{Backend: b, CacheSize: 100})
	cases := []struct {
		name, ns, key, want string
		missing             bool
	}{
		{name: "nearest wins", ns: "acme.team.deep", key: "DB", want: "child-value"},
		{name: "parent", ns: "acme.x", key: "DB", want: "parent-value"},
		{name: "global", ns: "acme.team", key: "GLOBAL", want: "global-value"},
		{name: "explicit namespace", ns: "other", key: "ONLY_OTHER", want: "other-value"},
		{name: "siblings do not share", ns: "acme.team", key: "ONLY_OTHER", missing: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.Get(t.Context(), tc.ns, tc.key)
			if tc.missing {
				var nf *secrets.NotFoundError
				require.ErrorAs(t, err, &nf)
				require.Equal(t, "secret 'ONLY_OTHER' not found in namespace acme.team or its parents (acme, the global namespace)", err.Error())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// Once the index is listed, a deep namespace costs one Get, not one per
// parent, and warm resolutions cost nothing.
func TestIndexBoundsParentLookups(t *testing.T) {
	t.Parallel()
	b := newMemory("a", "K", "v")
	m := secrets.New(secrets.Options{Backend: b, CacheSize: 100})
	_, err := m.Get(t.Context(), "a.b.c.d.e", "K")
	require.NoError(t, err)
	require.EqualValues(t, 1, b.gets.Load())
	require.EqualValues(t, 1, b.lists.Load())
	for range 100 {
		_, err := m.Get(t.Context(), "a.b.c.d.e", "K")
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, b.gets.Load(), "warm resolutions read the cache")

	_, err = m.Get(t.Context(), "a.b.c.d.e", "MISSING")
	require.ErrorIs(t, err, secrets.ErrNotFound)
	require.EqualValues(t, 1, b.gets.Load(), "a key absent from a fresh index costs no Get")
}

func TestClimbWhenListingForbidden(t *testing.T) {
	t.Parallel()
	b := newMemory("a", "K", "v")
	b.listErr = fmt.Errorf("list: %w", secrets.ErrForbidden)
	m := secrets.New(secrets.Options{Backend: b, CacheSize: 100})
	got, err := m.Get(t.Context(), "a.b.c", "K")
	require.NoError(t, err)
	require.Equal(t, "v", got)
	require.EqualValues(t, 3, b.gets.Load(), "a.b.c, a.b, then a")
	_, err = m.Get(t.Context(), "x", "K")
	require.ErrorIs(t, err, secrets.ErrNotFound)
	_, err = m.Get(t.Context(), "x", "K")
	require.ErrorIs(t, err, secrets.ErrNotFound)
	require.EqualValues(t, 5, b.gets.Load(), "the second miss is answered by the negative cache")
	require.EqualValues(t, 1, b.lists.Load(), "a forbidden listing is not retried")
}

func TestCacheExpiryAndNegativeTTL(t *testing.T) {
	t.Parallel()
	c := newClock()
	b := newMemory("a", "K", "v1")
	m := secrets.New(secrets.Options{Backend: b, CacheSize: 100, CacheTTL: time.Minute, NegativeTTL: 10 * time.Second, Now: c.Now})
	ctx := t.Context()
	_, err := m.Get(ctx, "a", "K")
	require.NoError(t, err)
	require.NoError(t, b.Put(ctx, secrets.PutParams{Namespace: "a", Key: "K", Value: "v2"})) // changed elsewhere
	got, _ := m.Get(ctx, "a", "K")
	require.Equal(t, "v1", got, "within the TTL the cached value is served")
	c.Add(time.Minute)
	got, _ = m.Get(ctx, "a", "K")
	require.Equal(t, "v2", got, "after the TTL the backend is read again")

	_, err = m.Get(ctx, "a", "NEW")
	require.ErrorIs(t, err, secrets.ErrNotFound)
	require.NoError(t, b.Put(ctx, secrets.PutParams{Namespace: "a", Key: "NEW", Value: "n"})) // created elsewhere
	_, err = m.Get(ctx, "a", "NEW")
	require.ErrorIs(t, err, secrets.ErrNotFound, "the miss is remembered briefly")
	c.Add(10 * time.Second)
	got, err = m.Get(ctx, "a", "NEW")
	require.NoError(t, err, "a secret created elsewhere appears once the negative entry expires")
	require.Equal(t, "n", got)
}

func TestCacheSizeBound(t *testing.T) {
	t.Parallel()
	b := newMemory()
	for i := range 50 {
		b.vals[[2]string{"a", fmt.Sprint("K", i)}] = "v"
	}
	m := secrets.New(secrets.Options{Backend: b, CacheSize: 10})
	for i := range 50 {
		_, err := m.Get(t.Context(), "a", fmt.Sprint("K", i))
		require.NoError(t, err)
	}
	require.Equal(t, 10, m.Stats().Cached)
}

func TestCacheDisabled(t *testing.T) {
	t.Parallel()
	b := newMemory("a", "K", "v")
	m := secrets.New(secrets.Options{Backend: b})
	for range 3 {
		_, err := m.Get(t.Context(), "a", "K")
		require.NoError(t, err)
	}
	require.EqualValues(t, 3, b.gets.Load())
}

func TestConcurrentMissesCoalesce(t *testing.T) {
	t.Parallel()
	b := newMemory("a", "K", "v")
	b.gate = make(chan struct{})
	m := secrets.New(secrets.Options{Backend: b, CacheSize: 10})
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range 1000 {
		wg.Go(func() {
			if v, err := m.Get(t.Context(), "a.b", "K"); err != nil || v != "v" {
				bad.Add(1)
			}
		})
	}
	for b.gets.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(b.gate)
	wg.Wait()
	require.Zero(t, bad.Load())
	require.EqualValues(t, 1, b.gets.Load())
}

func TestWritesInvalidate(t *testing.T) {
	t.Parallel()
	b := newMemory("a", "K", "old")
	var learned []string
	m := secrets.New(secrets.Options{Backend: b, CacheSize: 10, Learn: func(v string) { learned = append(learned, v) }})
	ctx := t.Context()
	_, err := m.Get(ctx, "a.b", "K")
	require.NoError(t, err)
	require.NoError(t, m.Put(ctx, secrets.PutParams{Namespace: "a.b", Key: "K", Value: "child"}))
	got, err := m.Get(ctx, "a.b", "K")
	require.NoError(t, err)
	require.Equal(t, "child", got, "a write through this instance shows at once, shadowing the parent")
	require.NoError(t, m.Delete(ctx, "a.b", "K"))
	got, err = m.Get(ctx, "a.b", "K")
	require.NoError(t, err)
	require.Equal(t, "old", got)
	require.Equal(t, []string{"old", "child", "old"}, learned)

	ro := secrets.New(secrets.Options{Backend: b, ReadOnly: true})
	require.ErrorIs(t, ro.Put(ctx, secrets.PutParams{Namespace: "a", Key: "K", Value: "x"}), secrets.ErrReadOnly)
	require.ErrorIs(t, ro.Delete(ctx, "a", "K"), secrets.ErrReadOnly)
}

func TestRateLimiterBoundsBursts(t *testing.T) {
	t.Parallel()
	b := newMemory("a", "K", "v")
	b.listErr = fmt.Errorf("list: %w", secrets.ErrForbidden)
	m := secrets.New(secrets.Options{Backend: b, RatePerSecond: 1, Burst: 3})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	var errs int
	for range 5 {
		if _, err := m.Get(ctx, "a", "K"); err != nil {
			errs++
		}
	}
	// 1 listing + 2 Gets fit the burst of 3; the rest wait past the deadline.
	require.EqualValues(t, 2, b.gets.Load())
	require.Equal(t, 3, errs)
}

func TestInherited(t *testing.T) {
	t.Parallel()
	b := newMemory("a", "P", "1", "a.b", "C", "2", "", "G", "3", "x", "X", "4")
	m := secrets.New(secrets.Options{Backend: b})
	got, err := m.Inherited(t.Context(), "a.b")
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"a": {"P"}, "": {"G"}}, got)
}

func TestExplicitNamespaceSharesTheRead(t *testing.T) {
	t.Parallel()
	b := newMemory("a", "K", "v")
	m := secrets.New(secrets.Options{Backend: b, CacheSize: 10})
	for _, ns := range []string{"a.b.c", "a.b", "a"} {
		v, err := m.Get(t.Context(), ns, "K")
		require.NoError(t, err)
		require.Equal(t, "v", v)
	}
	require.EqualValues(t, 1, b.gets.Load())
}

// One caller giving up does not fail the others waiting on the same read.
func TestCancelledCallerDoesNotFailOthers(t *testing.T) {
	t.Parallel()
	b := newMemory("a", "K", "v")
	b.gate = make(chan struct{})
	m := secrets.New(secrets.Options{Backend: b, CacheSize: 10})
	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() {
		_, err := m.Get(ctx, "a", "K")
		first <- err
	}()
	for b.gets.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan string, 1)
	go func() {
		v, _ := m.Get(t.Context(), "a", "K")
		second <- v
	}()
	cancel()
	require.ErrorIs(t, <-first, context.Canceled)
	close(b.gate)
	require.Equal(t, "v", <-second)
	require.EqualValues(t, 1, b.gets.Load())
}
