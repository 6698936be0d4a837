package expr

import (
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
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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
	"title":      stringFilter(title),
	"capitalize": stringFilter(capitalize),
	"trim":       stringFilter(strings.TrimSpace),
	"replace":    fReplace,
	"split":      fSplit,
	"join":       fJoin,
	"keys":       fKeys,
	"values":     fValues,
	"first":      fFirst,
	"last":       fLast,
	"length":     fLength,
	"slugify":    stringFilter(slugify),
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

func stringFilter(f func(string) string) builtinFilter {
	return func(_ *state, in any, _ Args) (any, error) {
		if in == nil {
			return nil, nil
		}
		return f(toString(in)), nil
	}
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
	iter := code.RunWithContext(st.ctx, input)
	for {
		v, ok := iter.Next()
		if !ok {
			break
		}
		if err, isErr := v.(error); isErr {
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
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
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

func title(s string) string {
	var b strings.Builder
	next := true
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			next = true
		case next:
			r = unicode.ToTitle(r)
			next = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func capitalize(s string) string {
	for i, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		return s[:i] + string(unicode.ToTitle(r)) + s[i+utf8.RuneLen(r):]
	}
	return s
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
	case map[string]any:
		for _, k := range sortedKeys(p) {
			pairs = append(pairs, [2]string{k.(string), toString(p[k.(string)])})
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

func fJoin(_ *state, in any, a Args) (any, error) {
	if in == nil {
		return nil, nil
	}
	list, ok := in.([]any)
	if !ok {
		return toString(in), nil
	}
	sep, _ := a.Get(0, "separator")
	parts := make([]string, len(list))
	for i, v := range list {
		parts[i] = toString(norm(v))
	}
	return strings.Join(parts, toString(sep)), nil
}

func fKeys(_ *state, in any, _ Args) (any, error) {
	switch x := in.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return sortedKeys(x), nil
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = int64(i)
		}
		return out, nil
	}
	return nil, fmt.Errorf("keys expects a map, got %s", typeName(in))
}

func fValues(_ *state, in any, _ Args) (any, error) {
	switch x := in.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return mapValues(x), nil
	}
	return nil, fmt.Errorf("values expects a map, got %s", typeName(in))
}

func fFirst(_ *state, in any, _ Args) (any, error) {
	switch x := in.(type) {
	case []any:
		if len(x) == 0 {
			return nil, nil
		}
		return norm(x[0]), nil
	case string:
		if x == "" {
			return nil, nil
		}
		r, _ := utf8.DecodeRuneInString(x)
		return string(r), nil
	case map[string]any:
		vals := mapValues(x)
		if len(vals) == 0 {
			return nil, nil
		}
		return vals[0], nil
	}
	return nil, nil
}

func fLast(_ *state, in any, _ Args) (any, error) {
	switch x := in.(type) {
	case []any:
		if len(x) == 0 {
			return nil, nil
		}
		return norm(x[len(x)-1]), nil
	case string:
		if x == "" {
			return nil, nil
		}
		r, _ := utf8.DecodeLastRuneInString(x)
		return string(r), nil
	case map[string]any:
		vals := mapValues(x)
		if len(vals) == 0 {
			return nil, nil
		}
		return vals[len(vals)-1], nil
	}
	return nil, nil
}

func fLength(_ *state, in any, _ Args) (any, error) {
	switch x := in.(type) {
	case nil:
		return int64(0), nil
	case string:
		return int64(utf8.RuneCountInString(x)), nil
	case []any:
		return int64(len(x)), nil
	case map[string]any:
		return int64(len(x)), nil
	}
	return int64(len(toString(in))), nil
}

var slugFold = strings.NewReplacer(
	"à", "a", "á", "a", "â", "a", "ã", "a", "ä", "a", "å", "a", "æ", "ae", "ç", "c",
	"è", "e", "é", "e", "ê", "e", "ë", "e", "ì", "i", "í", "i", "î", "i", "ï", "i",
	"ñ", "n", "ò", "o", "ó", "o", "ô", "o", "õ", "o", "ö", "o", "ø", "o", "œ", "oe",
	"ù", "u", "ú", "u", "û", "u", "ü", "u", "ý", "y", "ÿ", "y", "ß", "ss",
)

// slugify lower-cases, folds common accents and joins words with "-".
func slugify(s string) string {
	s = slugFold.Replace(strings.ToLower(s))
	var b strings.Builder
	dash := false
	for _, r := range s {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
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
	if err := enc.Encode(toGojq(in, 0)); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	return b.String(), nil
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

func fAffix(f func(string, string) bool, name string) builtinFilter {
	return func(_ *state, in any, a Args) (any, error) {
		if in == nil {
			return false, nil
		}
		v, _ := a.Get(0, name)
		return f(toString(in), toString(v)), nil
	}
}

func fChunk(_ *state, in any, a Args) (any, error) {
	list, ok := in.([]any)
	if !ok {
		return nil, fmt.Errorf("chunk expects a list, got %s", typeName(in))
	}
	s, _ := a.Get(0, "size")
	size, ok := toInt(s)
	if !ok || size <= 0 {
		return nil, errors.New("chunk expects a positive size")
	}
	var out []any
	for i := 0; i < len(list); i += int(size) {
		end := min(i+int(size), len(list))
		if int(size) <= 0 || end < i {
			end = len(list)
		}
		out = append(out, slices.Clone(list[i:end]))
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

func fDistinct(_ *state, in any, _ Args) (any, error) {
	list, ok := in.([]any)
	if !ok {
		if in == nil {
			return nil, nil
		}
		return nil, fmt.Errorf("distinct expects a list, got %s", typeName(in))
	}
	out := make([]any, 0, len(list))
	for _, v := range list {
		if !slices.ContainsFunc(out, func(x any) bool { return equal(x, v) }) {
			out = append(out, v)
		}
	}
	return out, nil
}

func fFlatten(_ *state, in any, _ Args) (any, error) {
	list, ok := in.([]any)
	if !ok {
		if in == nil {
			return nil, nil
		}
		return nil, fmt.Errorf("flatten expects a list, got %s", typeName(in))
	}
	out := make([]any, 0, len(list))
	for _, v := range list {
		if inner, ok := norm(v).([]any); ok {
			out = append(out, inner...)
			continue
		}
		out = append(out, v)
	}
	return out, nil
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

func fMerge(_ *state, in any, a Args) (any, error) {
	other, _ := a.Get(0, "items")
	switch x := in.(type) {
	case map[string]any:
		o, ok := other.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("merge of a map expects a map, got %s", typeName(other))
		}
		out := make(map[string]any, len(x)+len(o))
		for k, v := range x {
			out[k] = v
		}
		for k, v := range o {
			out[k] = v
		}
		return out, nil
	case []any:
		switch o := other.(type) {
		case []any:
			return append(slices.Clone(x), o...), nil
		case map[string]any:
			return append(slices.Clone(x), mapValues(o)...), nil
		}
		return append(slices.Clone(x), other), nil
	}
	return nil, fmt.Errorf("merge expects a map or a list, got %s", typeName(in))
}

func fSort(dir int) builtinFilter {
	return func(_ *state, in any, _ Args) (any, error) {
		list, ok := in.([]any)
		if !ok {
			if in == nil {
				return nil, nil
			}
			return nil, fmt.Errorf("sort expects a list, got %s", typeName(in))
		}
		out := slices.Clone(list)
		var cmpErr error
		slices.SortStableFunc(out, func(a, b any) int {
			c, err := compare(norm(a), norm(b))
			if err != nil && cmpErr == nil {
				cmpErr = err
			}
			return c * dir
		})
		return out, cmpErr
	}
}

func fReverse(_ *state, in any, _ Args) (any, error) {
	switch x := in.(type) {
	case nil:
		return nil, nil
	case []any:
		out := slices.Clone(x)
		slices.Reverse(out)
		return out, nil
	case string:
		r := []rune(x)
		slices.Reverse(r)
		return string(r), nil
	}
	return nil, fmt.Errorf("reverse expects a list or a string, got %s", typeName(in))
}

func fSlice(_ *state, in any, a Args) (any, error) {
	fv, _ := a.Get(0, "fromIndex")
	tv, hasTo := a.Get(1, "toIndex")
	from, _ := toInt(fv)
	var n int64
	var runes []rune
	switch x := in.(type) {
	case nil:
		return nil, nil
	case []any:
		n = int64(len(x))
	case string:
		runes = []rune(x)
		n = int64(len(runes))
	default:
		return nil, fmt.Errorf("slice expects a list or a string, got %s", typeName(in))
	}
	to := n
	if hasTo {
		to, _ = toInt(tv)
	}
	if from < 0 || to > n || from > to || (hasTo && from == to) {
		return nil, fmt.Errorf("slice(%d, %d) out of range for length %d (toIndex must be greater than fromIndex)", from, to, n)
	}
	if list, ok := in.([]any); ok {
		return slices.Clone(list[from:to]), nil
	}
	return string(runes[from:to]), nil
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
