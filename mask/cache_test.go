package mask

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A Masker given a Cache hides exactly what one learning alone hides, and
// a second Masker of the same secrets reuses the first one's matcher.
func TestCacheMasksAsLearningAlone(t *testing.T) {
	t.Parallel()
	c := NewCache(16, time.Hour)
	secrets := []string{"hunter2-pass", `{"user":"app","pw":"j50n-pw-9"}`, "-----BEGIN KEY-----\nQUJDREVGR0hJSktM\nTU5PUFFSU1RVVldY\n-----END KEY-----\n"}
	texts := []string{
		"login with hunter2-pass", "HUNTER2-PASS upper", "aHVudGVyMi1wYXNz base64", "pw j50n-pw-9 leaf",
		"line TU5PUFFSU1RVVldY of a key", "nothing secret here", "68756e746572322d70617373 hex",
	}
	var alone Masker
	first, second := Masker{Cache: c}, Masker{Cache: c}
	for _, s := range secrets {
		alone.Add(s)
		first.Add(s)
		second.Add(s)
	}
	for _, text := range texts {
		want := alone.Mask(text)
		require.Equal(t, want, first.Mask(text), text)
		require.Equal(t, want, second.Mask(text), text)
	}
	require.Same(t, first.matcher(), second.matcher(), "the second masker reuses the matcher")

	// Another set of secrets (here, one fewer) is another matcher.
	var other Masker
	other.Cache = c
	other.Add(secrets[0])
	require.NotSame(t, first.matcher(), other.matcher())
	require.Equal(t, "pw j50n-pw-9 leaf", other.Mask("pw j50n-pw-9 leaf"))
}

// Entries expire after the TTL and their number stays within the size.
func TestCacheExpiresAndIsBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	c := NewCache(3, time.Minute)
	c.now = func() time.Time { return now }
	l := c.learn("first-secret")
	require.Same(t, l, c.learn("first-secret"), "learnt once")
	now = now.Add(time.Minute)
	require.NotSame(t, l, c.learn("first-secret"), "learnt again once expired")
	for i := range 10 {
		now = now.Add(time.Second)
		c.learn(fmt.Sprintf("secret-number-%d", i))
	}
	c.mu.Lock()
	require.Len(t, c.learnt, 3)
	c.mu.Unlock()
	now = now.Add(time.Hour)
	c.learn("last-secret")
	c.mu.Lock()
	require.Len(t, c.learnt, 1, "expired entries are dropped, not kept until the cache fills")
	c.mu.Unlock()
}

func TestNewCacheOff(t *testing.T) {
	t.Parallel()
	require.Nil(t, NewCache(0, time.Minute))
	require.Nil(t, NewCache(10, 0))
	m := Masker{Cache: NewCache(0, 0)}
	m.Add("a-secret-value")
	require.Equal(t, "x ****** y", m.Mask("x a-secret-value y"))
}
