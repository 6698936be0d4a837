package expr

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/ospreyhq/osprey/internal/ordered"
)

func stringFilter(f func(string) string) builtinFilter {
	return func(_ *state, in any, _ Args) (any, error) {
		if in == nil {
			return nil, nil
		}
		return f(toString(in)), nil
	}
}

// fReplace is Kestra's replace: a map of pairs ({'a': 'b'}), optionally
// regexp=true, applied to a string or to every string in a map or list.
// Two strings (replace('a', 'b')) are accepted as a single pair.
func fReplace(_ *state, in any, a Args) (any, error) {
	if in == nil {
		return nil, nil
	}
	useRegexp := false
	if r, ok := a.Named["regexp"]; ok {
		useRegexp = truthy(r)
	}
	var pairs [][2]string
	first, _ := a.Get(0, "replace_pairs")
	switch p := first.(type) {
	case map[string]any, *ordered.Map:
		keys, m, _ := mapEntries(p)
		for _, k := range keys {
			pairs = append(pairs, [2]string{k, toString(m[k])})
		}
		if len(a.Positional) > 1 {
			useRegexp = truthy(a.Positional[1])
		}
	case string:
		to, _ := a.Get(1, "replacement")
		pairs = append(pairs, [2]string{p, toString(to)})
	default:
		return nil, errors.New("the argument 'replace_pairs' is required, e.g. replace({'a': 'b'})")
	}
	if tooLarge(in) {
		return nil, fmt.Errorf("%w: value is too large", ErrLimit)
	}
	var res []*regexp.Regexp
	if useRegexp {
		for _, p := range pairs {
			re, err := regexp.Compile(p[0])
			if err != nil {
				return nil, fmt.Errorf("invalid regexp %q: %w", p[0], err)
			}
			res = append(res, re)
		}
	}
	return mapStrings(in, 0, func(s string) string {
		for i, p := range pairs {
			if useRegexp {
				s = res[i].ReplaceAllString(s, javaReplacement(p[1]))
				continue
			}
			s = strings.ReplaceAll(s, p[0], p[1])
		}
		return s
	}), nil
}

// mapStrings applies f to a string, or to every leaf of a map or list
// (non-string leaves as their string form), as Kestra's replace and
// escapeChar do.
func mapStrings(v any, depth int, f func(string) string) any {
	if depth > maxJSONDepth {
		return nil
	}
	switch x := norm(v).(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = mapStrings(e, depth+1, f)
		}
		return out
	case *ordered.Map:
		out := ordered.New(x.Len())
		for k, e := range x.All() {
			out.Set(k, mapStrings(e, depth+1, f))
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = mapStrings(e, depth+1, f)
		}
		return out
	case nil:
		return f("null")
	default:
		return f(toString(x))
	}
}

// javaReplacement turns Java's $1 group references into Go's ${1}.
var javaGroupRef = regexp.MustCompile(`\$(\d+)`)

func javaReplacement(s string) string { return javaGroupRef.ReplaceAllString(s, "$${$1}") }

// fSplit is Pebble's split: Java's String.split, so the delimiter is a
// regular expression, trailing empty strings are dropped unless a limit is
// given, and a string without a match gives itself.
func fSplit(_ *state, in any, a Args) (any, error) {
	if in == nil {
		return nil, nil
	}
	d, ok := a.Get(0, "delimiter")
	if !ok || d == nil {
		return nil, errors.New("missing delimiter parameter in split filter")
	}
	delim, s := toString(d), toString(in)
	limit := int64(0)
	if l, ok := a.Get(1, "limit"); ok {
		limit, _ = toInt(l)
	}
	n := -1
	if limit > 0 {
		n = int(min(limit, math.MaxInt32))
	}
	var parts []string
	if regexp.QuoteMeta(delim) == delim && delim != "" {
		if !strings.Contains(s, delim) {
			return []any{s}, nil
		}
		parts = strings.SplitN(s, delim, n)
	} else {
		re, err := regexp.Compile(delim)
		if err != nil {
			return nil, fmt.Errorf("invalid split delimiter %q: %w", delim, err)
		}
		if !re.MatchString(s) {
			return []any{s}, nil
		}
		parts = re.Split(s, n)
		// Java drops the empty leading string a zero-width match would make.
		if len(parts) > 1 && parts[0] == "" && re.FindStringIndex(s)[1] == 0 {
			parts = parts[1:]
		}
	}
	if limit == 0 {
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
	}
	return norm(parts), nil
}

// fIndent is Kestra's indent (pad after every line break, so every line
// but the first) and nindent (a line break first, then the same).
func fIndent(leadingNewline bool) builtinFilter {
	return func(_ *state, in any, a Args) (any, error) {
		if in == nil {
			return nil, nil
		}
		s := toString(in)
		if s == "" {
			return s, nil
		}
		n, _ := a.Get(0, "amount")
		amount, ok := toInt(n)
		if !ok || amount < 0 || amount > 1000 {
			return nil, errors.New("indent expects an amount between 0 and 1000")
		}
		prefix := " "
		if p, ok := a.Get(1, "prefix"); ok {
			prefix = toString(p)
		}
		nl := "\n"
		for _, sep := range []string{"\r\n", "\n\r", "\n", "\r"} {
			if strings.Contains(s, sep) {
				nl = sep
				break
			}
		}
		if leadingNewline {
			s = nl + s
		}
		return strings.ReplaceAll(s, nl, nl+strings.Repeat(prefix, int(amount))), nil
	}
}
func fAffix(f func(string, string) bool, name string) builtinFilter {
	return func(_ *state, in any, a Args) (any, error) {
		if in == nil {
			return false, nil
		}
		v, _ := a.Get(0, name)
		return f(toString(in), toString(v)), nil
	}
}

// fEscapeChar escapes quotes for embedding in a quoted string: type
// 'single', 'double' or 'shell' (required, any case), on a string or every
// string of a map or list.
func fEscapeChar(st *state, in any, a Args) (any, error) {
	if in == nil {
		return nil, nil
	}
	t, ok := a.Get(0, "type")
	if !ok {
		return nil, errors.New("the 'escapeChar' filter expects an argument 'type'")
	}
	var from, to string
	switch strings.ToLower(toString(t)) {
	case "single":
		from, to = `'`, `\'`
	case "double":
		from, to = `"`, `\"`
	case "shell":
		from, to = `'`, `'\''`
	default:
		return nil, errors.New("the 'escapeChar' filter expects 'type' to be either 'single', 'double', or 'shell'")
	}
	if tooLarge(in) {
		return nil, fmt.Errorf("%w: value is too large", ErrLimit)
	}
	return mapStrings(in, 0, func(s string) string { return strings.ReplaceAll(s, from, to) }), nil
}

// fString is Kestra's string filter: a number, or a numeric string, as text.
func fString(_ *state, in any, _ Args) (any, error) {
	switch x := in.(type) {
	case nil:
		return nil, nil
	case int64, float64:
		return printString(x), nil
	case string:
		if _, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return nil, fmt.Errorf("'string' filter expects a valid number, got %q", x)
		}
		return x, nil
	}
	return nil, fmt.Errorf("'string' filter expects a number or a numeric string, got %s", typeName(in))
}

// substringFilter is commons-lang's substringBefore/After(Last).
func substringFilter(after, last bool) builtinFilter {
	return func(_ *state, in any, a Args) (any, error) {
		if in == nil {
			return nil, nil
		}
		sv, _ := a.Get(0, "separator")
		s, sep := toString(in), toString(sv)
		i := strings.Index(s, sep)
		if last {
			i = strings.LastIndex(s, sep)
		}
		switch {
		case after && (i < 0 || (last && sep == "")):
			return "", nil
		case after:
			return s[i+len(sep):], nil
		case i < 0:
			return s, nil
		}
		return s[:i], nil
	}
}
func fAbbreviate(_ *state, in any, a Args) (any, error) {
	if in == nil {
		return nil, nil
	}
	lv, _ := a.Get(0, "length")
	width, ok := toInt(lv)
	if !ok || width < 0 {
		return nil, errors.New("abbreviate expects a length")
	}
	// Pebble's rule, including abbreviating a string of exactly width runes.
	r := []rune(toString(in))
	if int64(len(r)) < width || len(r) <= 3 {
		return string(r), nil
	}
	if width <= 3 {
		return string(r[:width]), nil
	}
	return string(r[:width-3]) + "...", nil
}
func fRegexMatch(_ *state, in any, a Args) (any, error) {
	p, _ := a.Get(0, "regex")
	re, err := regexp.Compile(toString(p))
	if err != nil {
		return nil, fmt.Errorf("invalid regexp: %w", err)
	}
	return re.MatchString(toString(in)), nil
}
func fRegexReplace(_ *state, in any, a Args) (any, error) {
	p, _ := a.Get(0, "regex")
	r, _ := a.Get(1, "replacement")
	re, err := regexp.Compile(toString(p))
	if err != nil {
		return nil, fmt.Errorf("invalid regexp: %w", err)
	}
	return re.ReplaceAllString(toString(in), javaReplacement(toString(r))), nil
}
