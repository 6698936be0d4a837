package redteam

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

// The scan is written apart from package mask on purpose: it computes the
// forms docs/security.md promises to hide by itself, and decodes what it
// finds, so that a form the recogniser forgot is found here.

// needle is one form of a secret that must never be found.
type needle struct {
	form string // how the value was transformed, for the report
	text string
	fold bool // compared ignoring ASCII case
}

// parts are the pieces of a secret that are secrets themselves: the
// value, its lines, its JSON leaves.
func parts(secret string) []string {
	out := []string{secret}
	add := func(s string) {
		s = strings.TrimSpace(s)
		if len(s) >= 6 && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, l := range strings.Split(secret, "\n") {
		add(l)
	}
	var v any
	if json.Unmarshal([]byte(secret), &v) == nil {
		var walk func(any)
		walk = func(v any) {
			switch x := v.(type) {
			case string:
				add(x)
			case float64:
				add(strings.TrimSuffix(strings.TrimRight(strings.TrimRight(jsonNumber(x), "0"), "."), "."))
			case map[string]any:
				for _, e := range x {
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(v)
	}
	return out
}

func jsonNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// b64inner is the base64 of s, starting off bytes into the encoded text,
// keeping only the characters that depend on s alone.
func b64inner(enc *base64.Encoding, s string, off int) string {
	buf := make([]byte, off+len(s))
	copy(buf[off:], s)
	all := enc.WithPadding(base64.NoPadding).EncodeToString(buf)
	first, last := (8*off+5)/6, 8*(off+len(s))/6
	if first >= last {
		return ""
	}
	return all[first:last]
}

func reverse(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}

// needles lists the forms of secret to look for.
func needles(secret string) []needle {
	var out []needle
	add := func(form, text string, fold bool) {
		if len(text) >= 6 {
			out = append(out, needle{form, text, fold})
		}
	}
	for _, p := range parts(secret) {
		add("value", p, true)
		add("reverse", reverse(p), true)
		for _, x := range []string{p, strings.ToUpper(p)} {
			add("hex", hex.EncodeToString([]byte(x)), true)
			for off := range 3 {
				add("base64", b64inner(base64.StdEncoding, x, off), false)
				add("base64url", b64inner(base64.URLEncoding, x, off), false)
			}
		}
		b := base64.StdEncoding.EncodeToString([]byte(p))
		for off := range 3 {
			add("base64 of base64", b64inner(base64.StdEncoding, b, off), false)
		}
	}
	return out
}

var (
	b64Run = regexp.MustCompile(`[A-Za-z0-9+/_-]{12,}`)
	hexRun = regexp.MustCompile(`(?i)(?:[0-9a-f]{2}[ \t]?){8,}`)
)

// find returns the first form of secret found in text, and a short
// excerpt around it; "" when there is none. Besides the needles, base64
// and hex runs are decoded (at every alignment) and searched for the
// value and its pieces, and every window of 10 characters of a piece is
// looked for (a dump's text column, a value cut across rows).
func find(text, secret string) (form, excerpt string) {
	lower := strings.ToLower(text)
	for _, n := range needles(secret) {
		hay, t := text, n.text
		if n.fold {
			hay, t = lower, strings.ToLower(t)
		}
		if i := strings.Index(hay, t); i >= 0 {
			return n.form, around(text, i)
		}
	}
	ps := parts(secret)
	for _, p := range ps {
		if strings.HasPrefix(p, "{") {
			continue // a JSON value is looked for whole and by leaf, not by its punctuation
		}
		for i := 0; i+10 <= len(p); i++ {
			if j := strings.Index(lower, strings.ToLower(p[i:i+10])); j >= 0 {
				return "piece", around(text, j)
			}
		}
	}
	for _, loc := range b64Run.FindAllStringIndex(text, -1) {
		run := strings.NewReplacer("-", "+", "_", "/").Replace(text[loc[0]:loc[1]])
		for off := range 4 {
			u := run[off:]
			u = u[:len(u)/4*4]
			d, err := base64.StdEncoding.DecodeString(u)
			if err == nil && holdsPiece(string(d), ps) {
				return "decoded base64", around(text, loc[0])
			}
		}
	}
	for _, loc := range hexRun.FindAllStringIndex(text, -1) {
		digits := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, text[loc[0]:loc[1]])
		d, err := hex.DecodeString(digits[:len(digits)/2*2])
		if err == nil && holdsPiece(string(d), ps) {
			return "decoded hex", around(text, loc[0])
		}
	}
	return "", ""
}

func holdsPiece(s string, ps []string) bool {
	s = strings.ToLower(s)
	for _, p := range ps {
		if strings.HasPrefix(p, "{") {
			continue
		}
		for i := 0; i+8 <= len(p); i++ {
			if strings.Contains(s, strings.ToLower(p[i:i+8])) {
				return true
			}
		}
	}
	return false
}

func around(s string, i int) string {
	from, to := max(0, i-40), min(len(s), i+80)
	return strings.ToValidUTF8(s[from:to], "?")
}
