package mask

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/internal/textcase"
)

// MinLen is the shortest value masked. Masking "a" or "ab1" would garble
// every log line while protecting almost nothing: shorter secrets are a
// documented exception (docs/security.md).
const MinLen = 4

// maxParts bounds the parts learnt from one secret (lines and JSON
// leaves); the first maxDeepParts of them, up to maxDeepLen bytes long,
// have their forms composed two deep, the others one deep. A 4 KB
// certificate is learnt line by line, not as 300 encodings of 4 KB each,
// and a JSON document of a thousand leaves costs a bounded time to learn.
const (
	maxParts     = 256
	maxDeepParts = 64
	maxDeepLen   = 512
)

// Parts returns the pieces of secret that are secrets of their own: the
// value, each line of a multi-line value (a PEM key printed line by line,
// indented or split) and each leaf of a JSON value, strings and numbers,
// nested (jq and subkey reach them). Pieces shorter than MinLen are left
// out.
func Parts(secret string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if len(s) >= MinLen && !seen[s] && len(out) < maxParts {
			seen[s] = true
			out = append(out, s)
		}
	}
	add(secret)
	add(strings.TrimSpace(secret))
	if strings.ContainsAny(secret, "\r\n") {
		for _, l := range strings.FieldsFunc(secret, func(r rune) bool { return r == '\n' || r == '\r' }) {
			add(l)
			add(strings.TrimSpace(l))
		}
	}
	dec := json.NewDecoder(strings.NewReader(secret))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) == nil {
		leaves(v, add)
	}
	return out
}

// leaves calls add with every string and number inside v.
func leaves(v any, add func(string)) {
	switch x := v.(type) {
	case string:
		add(x)
		if strings.ContainsAny(x, "\r\n") {
			for _, l := range strings.Split(x, "\n") {
				add(strings.TrimSpace(l))
			}
		}
	case json.Number:
		add(x.String())
	case map[string]any:
		for _, e := range x {
			leaves(e, add)
		}
	case *ordered.Map:
		for _, e := range x.All() {
			leaves(e, add)
		}
	case []any:
		for _, e := range x {
			leaves(e, add)
		}
	}
}

// Forms returns the texts that reveal secret, as the Masker matches them
// (ignoring ASCII case): every part (see Parts) and, for each, the
// results of the transforms the expression engine and a shell offer
// (upper, lower, trim, title, capitalize, slugify, reverse, escapeChar,
// YAML quoting, base64 standard and
// URL-safe at each of the three byte alignments, hex, URL and JSON
// escaping), composed two deep: upper | base64encode, base64 of base64,
// URL-encoded base64, hex of upper, … A base64 form at an alignment is the
// inner run of characters that depends on the secret alone, so the value
// is recognised wherever it sits in the encoded text. Transforms that
// keep only part of the value (replace, substring, one character at a
// time) or destroy it (hashes) cannot be recognised.
func Forms(secret string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if len(s) < MinLen {
			return
		}
		k := strings.ToLower(s)
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	for i, p := range Parts(secret) {
		first := firstForms(p)
		for _, f := range first {
			add(f)
		}
		if len(p) > maxDeepLen || i >= maxDeepParts {
			continue
		}
		for _, f := range first {
			for _, g := range localForms(f) {
				add(g)
			}
		}
	}
	return out
}

// firstForms is what one transform makes of s, s included.
func firstForms(s string) []string {
	out := []string{
		s,
		strings.TrimSpace(s),
		strings.ToUpper(s),
		strings.ToLower(s),
		textcase.Title(s),
		textcase.Capitalize(s),
		textcase.Slugify(s),
		reverse(s),
		// escapeChar (single, double, shell) and YAML's single quotes
		strings.ReplaceAll(s, `'`, `\'`),
		strings.ReplaceAll(s, `"`, `\"`),
		strings.ReplaceAll(s, `'`, `'\''`),
		strings.ReplaceAll(s, `'`, `''`),
	}
	return append(out, localForms(s)...)
}

func reverse(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}

// localForms are the transforms that encode each byte where it stands, so
// that they apply to a piece of a larger text as well as to a whole value:
// case, base64 at the three alignments, hex, URL and JSON escaping.
func localForms(s string) []string {
	out := []string{strings.ToUpper(s), strings.ToLower(s)}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		out = append(out, enc.EncodeToString([]byte(s)))
		for off := range 3 {
			out = append(out, base64At(enc, s, off))
		}
	}
	out = append(out,
		hex.EncodeToString([]byte(s)),
		url.QueryEscape(s),
		url.PathEscape(s),
		jsonEscaped(s, true),
		jsonEscaped(s, false),
	)
	return out
}

// base64At returns the base64 characters that depend on s alone when s
// starts off bytes into the encoded text (0, 1 or 2): character i covers
// bits [6i, 6i+6) of the input, and s covers bits [8·off, 8·(off+len)).
func base64At(enc *base64.Encoding, s string, off int) string {
	buf := make([]byte, off+len(s))
	copy(buf[off:], s)
	all := enc.WithPadding(base64.NoPadding).EncodeToString(buf)
	first := (8*off + 5) / 6
	last := 8 * (off + len(s)) / 6
	if first >= last {
		return ""
	}
	return all[first:last]
}

// jsonEscaped is s as it appears inside a JSON string, with Go's default
// HTML escaping (& as \u0026) or without it.
func jsonEscaped(s string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(s)
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}
