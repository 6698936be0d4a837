package expr

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/internal/textcase"

	"github.com/itchyny/gojq"
	"go.yaml.in/yaml/v3"
)

// builtinFilter is one filter: input | name(args).
type builtinFilter func(st *state, in any, a Args) (any, error)

// builtinFilters are Pebble's core filters plus Kestra's extension filters.
var builtinFilters = map[string]builtinFilter{
	"toJson": fJSON, "json": fJSON, "jsonEncode": fJSON,
	"jq":   fJq,
	"date": fDate, "dateAdd": fDateAdd,
	"timestamp": fTimestamp(1), "timestampMilli": fTimestamp(1e3),
	"timestampMicro": fTimestamp(1e6), "timestampNano": fTimestamp(1e9),
	"default":    fDefault,
	"upper":      stringFilter(strings.ToUpper),
	"lower":      stringFilter(strings.ToLower),
	"title":      stringFilter(textcase.Title),
	"capitalize": stringFilter(textcase.Capitalize),
	"trim":       stringFilter(strings.TrimSpace),
	"replace":    fReplace,
	"split":      fSplit,
	"join":       fJoin,
	"keys":       fKeys,
	"values":     fValues,
	"first":      fFirst,
	"last":       fLast,
	"length":     fLength,
	"slugify":    stringFilter(textcase.Slugify),
	"base64encode": func(_ *state, in any, _ Args) (any, error) {
		if in == nil {
			return nil, nil
		}
		return base64.StdEncoding.EncodeToString([]byte(toString(in))), nil
	},
	"base64decode": func(_ *state, in any, _ Args) (any, error) {
		if in == nil {
			return nil, nil
		}
		b, err := base64.StdEncoding.DecodeString(toString(in))
		if err != nil {
			return nil, fmt.Errorf("invalid base64: %w", err)
		}
		return string(b), nil
	},
	"sha1":      hashFilter(sha1.New),
	"sha256":    hashFilter(sha256.New),
	"sha512":    hashFilter(sha512.New),
	"md5":       hashFilter(md5.New),
	"urlencode": stringFilter(url.QueryEscape),
	"urldecode": func(_ *state, in any, _ Args) (any, error) {
		if in == nil {
			return nil, nil
		}
		s, err := url.QueryUnescape(toString(in))
		if err != nil {
			return nil, fmt.Errorf("invalid URL encoding: %w", err)
		}
		return s, nil
	},
	"yaml":                fYAML,
	"indent":              fIndent(false),
	"nindent":             fIndent(true),
	"number":              fNumber,
	"numberFormat":        fNumberFormat,
	"numberformat":        fNumberFormat,
	"abs":                 fAbs,
	"startsWith":          fAffix(strings.HasPrefix, "prefix"),
	"endsWith":            fAffix(strings.HasSuffix, "suffix"),
	"chunk":               fChunk,
	"distinct":            fDistinct,
	"flatten":             fFlatten,
	"escapeChar":          fEscapeChar,
	"string":              fString,
	"substringBefore":     substringFilter(false, false),
	"substringBeforeLast": substringFilter(false, true),
	"substringAfter":      substringFilter(true, false),
	"substringAfterLast":  substringFilter(true, true),
	"merge":               fMerge,
	"sort":                fSort(1),
	"rsort":               fSort(-1),
	"reverse":             fReverse,
	"slice":               fSlice,
	"abbreviate":          fAbbreviate,
	"regexMatch":          fRegexMatch,
	"regexReplace":        fRegexReplace,
	"className":           func(_ *state, in any, _ Args) (any, error) { return typeName(in), nil },
}

func fJSON(st *state, in any, _ Args) (any, error) {
	var b strings.Builder
	writeJSONLimit(&b, in, 0, st.eng.maxOutput)
	return b.String(), nil
}

// fJq runs a jq expression (gojq) and returns every result in a list, as
// Kestra's jq filter does. A string input is parsed as JSON first.
func fJq(st *state, in any, a Args) (any, error) {
	if in == nil {
		return nil, nil
	}
	e, ok := a.Get(0, "expression")
	if !ok {
		return nil, errors.New("the jq filter expects an argument 'expression'")
	}
	q, err := gojq.Parse(toString(e))
	if err != nil {
		return nil, fmt.Errorf("invalid jq expression %q: %w", toString(e), err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, fmt.Errorf("invalid jq expression %q: %w", toString(e), err)
	}
	var input any
	if s, ok := in.(string); ok {
		if err := decodeJSON(s, &input); err != nil {
			return nil, fmt.Errorf("jq input is not JSON: %w", err)
		}
	} else {
		input = in
	}
	if tooLarge(input) {
		return nil, fmt.Errorf("%w: jq input is too large", ErrLimit)
	}
	input = toGojq(input, 0)
	out := []any{}
	ctx, release := st.budget(func() string { return fmt.Sprintf("jq %q", toString(e)) })
	defer release()
	iter := code.RunWithContext(ctx, input)
	for {
		v, ok := iter.Next()
		if !ok {
			break
		}
		if err, isErr := v.(error); isErr {
			if cause := context.Cause(ctx); cause != nil && st.ctx.Err() == nil {
				return nil, cause
			}
			var halt *gojq.HaltError
			if errors.As(err, &halt) && halt.Value() == nil {
				break
			}
			return nil, fmt.Errorf("jq %q: %w", toString(e), err)
		}
		if len(out) >= st.eng.maxRange {
			return nil, fmt.Errorf("%w: jq produced more than %d results", ErrLimit, st.eng.maxRange)
		}
		out = append(out, fromGojq(v, 0))
	}
	return out, nil
}
func toGojq(v any, depth int) any {
	if depth > maxJSONDepth {
		return nil
	}
	switch x := norm(v).(type) {
	case int64:
		return int(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = toGojq(x[i], depth+1)
		}
		return out
	case map[string]any, *ordered.Map:
		// gojq knows only Go maps: jq sees the entries, not their order.
		m, _ := ordered.AsMap(x)
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[k] = toGojq(e, depth+1)
		}
		return out
	case nil, bool, float64, string:
		return x
	default:
		return printString(x)
	}
}
func fromGojq(v any, depth int) any {
	if depth > maxJSONDepth {
		return nil
	}
	switch x := v.(type) {
	case int:
		return int64(x)
	case []any:
		for i := range x {
			x[i] = fromGojq(x[i], depth+1)
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = fromGojq(x[k], depth+1)
		}
		return x
	case interface{ Float64() (float64, error) }:
		f, _ := x.Float64()
		return f
	}
	if b, ok := v.(fmt.Stringer); ok {
		if i, err := strconv.ParseInt(b.String(), 10, 64); err == nil {
			return i
		}
	}
	return v
}

// fDefault returns the argument when the input is null or empty (Pebble's
// EmptyTest). An undefined input is absorbed by the filter expression.
func fDefault(_ *state, in any, a Args) (any, error) {
	d, _ := a.Get(0, "default")
	if isEmpty(in) {
		return d, nil
	}
	return in, nil
}
func hashFilter(h func() hash.Hash) builtinFilter {
	return func(_ *state, in any, _ Args) (any, error) {
		if in == nil {
			return nil, nil
		}
		x := h()
		x.Write([]byte(toString(in)))
		return hex.EncodeToString(x.Sum(nil)), nil
	}
}

// fYAML writes a value as YAML (2-space indent, no document marker), as
// Kestra's yaml filter; null gives "null".
func fYAML(_ *state, in any, _ Args) (any, error) {
	if in == nil {
		return "null", nil
	}
	if tooLarge(in) {
		return nil, fmt.Errorf("%w: value is too large", ErrLimit)
	}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(toYAMLNode(in, 0)); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	return b.String(), nil
}

// toYAMLNode builds the YAML of v with a map's keys in its order (a Go
// map's sorted), as Kestra's Jackson writes a LinkedHashMap.
func toYAMLNode(v any, depth int) any {
	if depth > maxJSONDepth {
		return nil
	}
	switch x := norm(v).(type) {
	case map[string]any, *ordered.Map:
		keys, m, _ := mapEntries(x)
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range keys {
			var kn, vn yaml.Node
			if kn.Encode(k) != nil || vn.Encode(toYAMLNode(m[k], depth+1)) != nil {
				return toGojq(v, depth)
			}
			n.Content = append(n.Content, &kn, &vn)
		}
		return n
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toYAMLNode(e, depth+1)
		}
		return out
	}
	return toGojq(v, depth)
}

// fNumber parses a string to a number: an integer when it has no fraction
// or exponent, otherwise a double; type= forces INT, LONG, FLOAT, DOUBLE.
func fNumber(_ *state, in any, a Args) (any, error) {
	if in == nil {
		return nil, nil
	}
	s, ok := in.(string)
	if !ok {
		if _, isNum := toFloat(in); isNum {
			return in, nil
		}
		return nil, fmt.Errorf("number can only be applied to a string, got %s", typeName(in))
	}
	t, _ := a.Get(0, "type")
	s = strings.TrimSpace(s)
	switch toString(t) {
	case "INT", "LONG", "BIGINTEGER":
		i, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", s)
		}
		if toString(t) == "INT" && (i > math.MaxInt32 || i < math.MinInt32) {
			return nil, fmt.Errorf("%q does not fit an INT", s)
		}
		return i, nil
	case "FLOAT", "DOUBLE", "BIGDECIMAL":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return f, nil
	}
	if i, err := strconv.ParseInt(s, 0, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(strings.TrimRight(s, "dDfF"), 64)
	if err != nil {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return f, nil
}
func fAbs(_ *state, in any, _ Args) (any, error) {
	switch x := in.(type) {
	case nil:
		return nil, nil
	case int64:
		if x < 0 {
			return -x, nil
		}
		return x, nil
	case float64:
		return math.Abs(x), nil
	}
	return nil, fmt.Errorf("abs expects a number, got %s", typeName(in))
}
