// Package mask hides secret values in text before it leaves memory: task
// logs, outputs, error messages. A Masker learns each secret as it is
// resolved and replaces it, and the forms it commonly takes on the way out
// (base64, URL-encoded, JSON-escaped, upper/lower case, trimmed), longest
// first, with ******.
package mask

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"github.com/ospreyhq/osprey/internal/textcase"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Redacted is what a secret is replaced with.
const Redacted = "******"

// minLen is the shortest value masked: masking "a" or "1" would garble every
// log line while protecting nothing.
const minLen = 3

// Masker replaces known secret values. The zero value is ready to use and
// it is safe for concurrent use.
type Masker struct {
	mu       sync.RWMutex
	values   map[string]struct{}
	replacer *strings.Replacer
}

// Add teaches m a secret value and its encoded forms.
func (m *Masker) Add(secret string) {
	if len(secret) < minLen {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.values == nil {
		m.values = map[string]struct{}{}
	}
	if _, ok := m.values[secret]; ok {
		return
	}
	for _, v := range Forms(secret) {
		if len(v) >= minLen {
			m.values[v] = struct{}{}
		}
	}
	m.values[secret] = struct{}{}
	m.rebuild()
}

// Forms returns the encodings of secret that a task may print: the
// results of the expression filters that keep the whole value recognisable
// (upper, lower, trim, title, capitalize, slugify, base64encode, urlencode,
// json) and the encodings scripts commonly apply (hex, JSON with or without
// HTML escaping). Filters that keep only part of it (replace, substring) or
// hash it cannot be caught.
func Forms(secret string) []string {
	forms := []string{
		secret,
		strings.TrimSpace(secret),
		strings.ToUpper(secret),
		strings.ToLower(secret),
		textcase.Title(secret),
		textcase.Capitalize(secret),
		textcase.Slugify(secret),
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.RawStdEncoding.EncodeToString([]byte(secret)),
		base64.URLEncoding.EncodeToString([]byte(secret)),
		base64.RawURLEncoding.EncodeToString([]byte(secret)),
		url.QueryEscape(secret),
		url.PathEscape(secret),
		hex.EncodeToString([]byte(secret)),
		jsonEscaped(secret, true),
		jsonEscaped(secret, false),
	}
	// A JSON secret's fields are secrets too (secret('X', subkey=…) and
	// jq on the value reach them).
	var obj map[string]any
	if json.Unmarshal([]byte(secret), &obj) == nil {
		for _, v := range obj {
			if s, ok := v.(string); ok && len(s) >= minLen {
				forms = append(forms, s)
			}
		}
	}
	return forms
}

func (m *Masker) rebuild() {
	vals := make([]string, 0, len(m.values))
	for v := range m.values {
		vals = append(vals, v)
	}
	sort.Slice(vals, func(i, j int) bool {
		if len(vals[i]) != len(vals[j]) {
			return len(vals[i]) > len(vals[j])
		}
		return vals[i] < vals[j]
	})
	pairs := make([]string, 0, 2*len(vals))
	for _, v := range vals {
		pairs = append(pairs, v, Redacted)
	}
	m.replacer = strings.NewReplacer(pairs...)
}

// Mask returns s with every known secret form replaced.
func (m *Masker) Mask(s string) string {
	if m == nil {
		return s
	}
	m.mu.RLock()
	r := m.replacer
	m.mu.RUnlock()
	if r == nil {
		return s
	}
	return r.Replace(s)
}

// Empty reports whether m knows no secret.
func (m *Masker) Empty() bool {
	if m == nil {
		return true
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.values) == 0
}

// Value masks every string inside v (maps and lists, keys included) and
// returns the masked copy.
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
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = m.Value(e)
		}
		return out
	}
	return v
}

// jsonEscaped is secret as it appears inside a JSON string, with Go's
// default HTML escaping (& as \u0026) or without it.
func jsonEscaped(secret string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(secret)
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}
