package mask

import (
	"strings"
	"testing"
	"time"
)

// FuzzMask checks that masking never panics, never grows a known secret
// back, leaves text without secrets alone when nothing matches, and masks
// the same with a worker's Cache as without.
func FuzzMask(f *testing.F) {
	f.Add("Pa55w0rd-Zeta&9", "x Pa55w0rd-Zeta&9 y")
	f.Add("line one\nline two", "00000000  6c 69 6e 65 20 6f 6e 65  |line one|\n")
	f.Add(`{"a":{"b":"c0nfid3ntial"},"n":12345}`, "YzBuZmlkM250aWFs\n12345")
	f.Add(" \xffab\xe2", "x \xffab\xe2 y") // invalid UTF-8 once cut Capitalize short
	cache := NewCache(64, time.Hour)
	f.Fuzz(func(t *testing.T, secret, text string) {
		if len(secret) > 256 || len(text) > 4096 {
			return
		}
		var m Masker
		m.Add(secret)
		out := m.Mask(text)
		if len(secret) >= MinLen && strings.TrimSpace(secret) == secret && strings.Contains(out, secret) {
			t.Fatalf("secret %q survives in %q", secret, out)
		}
		_ = m.Value(map[string]any{text: []any{text, 1.5}})
		for range 2 { // learnt, then from the cache
			cached := Masker{Cache: cache}
			cached.Add(secret)
			if got := cached.Mask(text); got != out {
				t.Fatalf("with a cache, %q masks %q as %q, not %q", secret, text, got, out)
			}
		}
	})
}
