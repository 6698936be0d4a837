// Package mask hides secret values in text before it leaves memory: task
// logs, outputs, labels, error messages, the values a task would store. A
// Masker learns each secret as it is resolved — its lines, its JSON
// leaves, and the forms the expression engine and a shell can turn them
// into, two transforms deep (see Forms) — and replaces every occurrence
// with ******. One multi-pattern matcher (Aho-Corasick) finds all of them
// in a single pass, so the cost of masking grows with the text, not with
// the number of forms. Encoded dumps that cut a value into rows (hexdump
// -C, xxd, wrapped base64) are decoded row by row and checked for pieces
// of a secret (see rows.go).
package mask

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/ospreyhq/osprey/internal/ordered"
	ahocorasick "github.com/petar-dambovaliev/aho-corasick"
)

// Redacted is what a secret is replaced with.
const Redacted = "******"

// Masker replaces known secret values. The zero value is ready to use and
// it is safe for concurrent use. Learning is cheap; the matcher is built
// on the first Mask after a new secret.
type Masker struct {
	// Cache, when set, gives the Masker what an earlier one learnt of the
	// same secrets (set it before the first Add).
	Cache *Cache

	mu        sync.RWMutex
	secrets   map[string]struct{}
	forms     []string // every form of every secret, as matched
	bases     []string // whole-value forms, checked against decoded rows
	seen      map[string]struct{}
	seenBases map[string]struct{}
	digests   []byte // the SHA-256 of each secret, in the order learnt: the matcher's key in Cache
	m         *matcher
	dirty     bool
}

// Add teaches m a secret value: its parts and their forms.
func (m *Masker) Add(secret string) {
	if len(secret) < MinLen {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.secrets[secret]; ok {
		return
	}
	if m.secrets == nil {
		m.secrets = map[string]struct{}{}
		m.seen = map[string]struct{}{}
		m.seenBases = map[string]struct{}{}
	}
	m.secrets[secret] = struct{}{}
	l := m.Cache.learn(secret)
	for _, f := range l.forms {
		k := strings.ToLower(f)
		if _, ok := m.seen[k]; !ok {
			m.seen[k] = struct{}{}
			m.forms = append(m.forms, f)
		}
	}
	for _, f := range l.bases {
		if _, ok := m.seenBases[f]; !ok {
			m.seenBases[f] = struct{}{}
			m.bases = append(m.bases, f)
		}
	}
	d := sha256.Sum256([]byte(secret))
	m.digests = append(m.digests, d[:]...)
	m.dirty = true
}

// matcher returns the matcher for what m knows, building it if a secret
// was added since; nil when m knows nothing.
func (m *Masker) matcher() *matcher {
	if m == nil {
		return nil
	}
	m.mu.RLock()
	mt, dirty := m.m, m.dirty
	m.mu.RUnlock()
	if !dirty {
		return mt
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirty {
		m.m = m.Cache.matcher(sha256.Sum256(m.digests), func() *matcher {
			return newMatcher(m.forms, slices.Clone(m.bases))
		})
		m.dirty = false
	}
	return m.m
}

// Mask returns s with every known secret form replaced.
func (m *Masker) Mask(s string) string {
	mt := m.matcher()
	if mt == nil || len(s) < MinLen {
		return s
	}
	spans := mt.find(s)
	spans = append(spans, mt.rows(s)...)
	if len(spans) == 0 {
		return s
	}
	return redact(s, spans)
}

// Holds reports whether s contains a secret m knows, in any form it
// recognises.
func (m *Masker) Holds(s string) bool {
	mt := m.matcher()
	if mt == nil || len(s) < MinLen {
		return false
	}
	return len(mt.find(s)) > 0 || len(mt.rows(s)) > 0
}

// Empty reports whether m knows no secret.
func (m *Masker) Empty() bool {
	if m == nil {
		return true
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.secrets) == 0
}

// Value masks every string inside v (maps and lists, keys included) and
// returns the masked copy. A number that is a secret (a JSON secret's pin
// read with jq) becomes the text ******.
func (m *Masker) Value(v any) any {
	if m.Empty() {
		return v
	}
	switch x := v.(type) {
	case string:
		return m.Mask(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[m.Mask(k)] = m.Value(e)
		}
		return out
	case *ordered.Map:
		out := ordered.New(x.Len())
		for k, e := range x.All() {
			out.Set(m.Mask(k), m.Value(e))
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = m.Value(e)
		}
		return out
	case float64, float32, int, int64, int32, uint, uint64, json.Number:
		if s := fmt.Sprint(x); m.Holds(s) {
			return Redacted
		}
	}
	return v
}

// matcher finds the known forms in a text.
type matcher struct {
	ac    ahocorasick.AhoCorasick
	bases []string
	// starts has a bit for the (hashed, case-folded) first four bytes of
	// every form: a text where no four bytes hit the set holds no form,
	// and most text is passed over at a few nanoseconds a byte before
	// the automaton is run.
	starts *[1 << 16 / 64]uint64
	maxLen int // of a form
}

func newMatcher(forms, bases []string) *matcher {
	b := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{
		AsciiCaseInsensitive: true,
		MatchKind:            ahocorasick.StandardMatch,
		DFA:                  false,
	})
	starts := new([1 << 16 / 64]uint64)
	maxLen := 0
	for _, f := range forms {
		h := gramHash(f, 0)
		starts[h/64] |= 1 << (h % 64)
		maxLen = max(maxLen, len(f))
	}
	return &matcher{ac: b.Build(forms), bases: bases, starts: starts, maxLen: maxLen}
}

// gramHash hashes the four bytes of s at i, ASCII case folded, to 16 bits.
func gramHash(s string, i int) uint32 {
	g := uint32(fold(s[i])) | uint32(fold(s[i+1]))<<8 | uint32(fold(s[i+2]))<<16 | uint32(fold(s[i+3]))<<24
	return (g * 2654435761) >> 16
}

func fold(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// span is a byte range [start, end) to redact.
type span struct{ start, end int }

// find returns every occurrence of a form in s, overlapping ones
// included, so that two forms that overlap are both hidden.
// A form can only start where its first four bytes hit the set, so the
// automaton runs only over windows that begin at a hit and reach as far
// as the longest form (windows that touch are merged). The four bytes are
// kept as a rolling word, one byte in and one out per step.
func (mt *matcher) find(s string) []span {
	if len(s) < 4 {
		return nil
	}
	var out []span
	start, end := -1, -1
	flush := func() {
		it := mt.ac.IterOverlapping(s[start:end])
		for x := it.Next(); x != nil; x = it.Next() {
			out = append(out, span{start + x.Start(), start + x.End()})
		}
	}
	g := uint32(fold(s[0])) | uint32(fold(s[1]))<<8 | uint32(fold(s[2]))<<16
	for i := 0; i+4 <= len(s); i++ {
		g = g&0xffffff | uint32(fold(s[i+3]))<<24
		h := (g * 2654435761) >> 16
		if mt.starts[h/64]&(1<<(h%64)) != 0 {
			if i >= end {
				if start >= 0 {
					flush()
				}
				start = i
			}
			end = min(len(s), i+mt.maxLen)
		}
		g >>= 8
	}
	if start >= 0 {
		flush()
	}
	return out
}

// redact replaces the union of spans in s with Redacted, once per run of
// overlapping or touching spans.
func redact(s string, spans []span) string {
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(s))
	pos := 0
	for i := 0; i < len(spans); {
		start, end := spans[i].start, spans[i].end
		for i++; i < len(spans) && spans[i].start <= end; i++ {
			end = max(end, spans[i].end)
		}
		b.WriteString(s[pos:start])
		b.WriteString(Redacted)
		pos = end
	}
	b.WriteString(s[pos:])
	return b.String()
}
