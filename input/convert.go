package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
	"go.yaml.in/yaml/v3"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/isoduration"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// errFileInput is returned for a FILE input that is not a stored file.
var errFileInput = errors.New("a FILE input takes an uploaded file (multipart/form-data) or the kestra:/// URI of a stored file")

// Convert turns v into the declared type of in and checks its validators.
// It never panics on any input; the error says what was expected and does
// not name the input (Read adds that).
func Convert(in *flow.Input, v any) (any, error) {
	typ := strings.ToUpper(in.Type)
	switch typ {
	case "STRING", "SECRET":
		s, err := scalarString(v)
		if err == nil {
			err = checkString(in, s)
		}
		if err != nil {
			return nil, err
		}
		return s, nil
	case "ENUM", "SELECT":
		s, err := scalarString(v)
		if err == nil {
			err = checkChoice(in, s)
		}
		if err != nil {
			return nil, err
		}
		return s, nil
	case "EMAIL":
		s, err := scalarString(v)
		if err != nil {
			return nil, err
		}
		if s != "" && !emailRE.MatchString(s) {
			return nil, errors.New("it must be a valid email address, such as name@example.com")
		}
		return s, nil
	case "URI":
		s, err := scalarString(v)
		if err != nil {
			return nil, err
		}
		if u, err := url.Parse(s); err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "" && u.Path == "") || strings.ContainsAny(s, " \t\n") {
			return nil, errors.New("it must be a URI with a scheme, such as https://example.com/path")
		}
		return s, nil
	case "INT":
		n, err := toInt(v)
		if err == nil {
			err = checkRange(in, float64(n))
		}
		if err != nil {
			return nil, err
		}
		return n, nil
	case "FLOAT":
		f, err := toFloat(v)
		if err == nil {
			err = checkRange(in, f)
		}
		if err != nil {
			return nil, err
		}
		return f, nil
	case "BOOLEAN", "BOOL":
		return toBool(v)
	case "DATETIME":
		return checkTemporal(in, v, parseInstant, formatInstant)
	case "DATE":
		return checkTemporal(in, v, parseDate, formatDate)
	case "TIME":
		return checkTemporal(in, v, parseLocalTime, formatLocalTime)
	case "DURATION":
		return convertDuration(in, v)
	case "JSON":
		return parseJSON(v)
	case "YAML":
		return parseYAML(v)
	case "ARRAY":
		return convertArray(in, v)
	case "MULTISELECT":
		return convertMultiselect(in, v)
	case "FILE":
		// The webserver stores uploads and passes their URI; which files a
		// flow may be given is checked there and when a task reads them.
		s, ok := v.(string)
		if !ok || !strings.HasPrefix(s, "kestra:///") || strings.Contains(s, "/../") || strings.HasSuffix(s, "/..") {
			return nil, errFileInput
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown input type %q", in.Type)
}

// emailRE is Kestra's EmailInput pattern: deliberately loose (no display
// names, a dot in the domain not required) so the same addresses pass.
var emailRE = regexp.MustCompile("^[a-zA-Z0-9_!#$%&’*+/=?`{|}~^.-]+@[a-zA-Z0-9.-]+$")

// scalarString reads a text value; numbers and booleans (from a JSON body)
// are taken as their usual spelling, lists and objects are refused.
func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool, int, int64, float64, json.Number:
		return toString(x), nil
	case time.Time:
		return formatInstant(x), nil
	}
	return "", fmt.Errorf("expected a text value, got %s", kind(v))
}

func checkString(in *flow.Input, s string) error {
	if p, ok := in.Props["validator"].(string); ok && p != "" {
		re, err := fullMatch(p)
		if err != nil {
			return fmt.Errorf("its validator `%s` is not a valid regular expression: %v", p, err)
		}
		ok, err := re.MatchString(s)
		if err != nil {
			return fmt.Errorf("the validator pattern `%s` timed out: it may be too complex", p)
		}
		if !ok {
			return fmt.Errorf("it must match the pattern `%s`", p)
		}
	}
	n := utf8.RuneCountInString(s)
	if m, ok := num(in.Props["minLength"]); ok && float64(n) < m {
		return fmt.Errorf("it must have at least %s characters", numText(m))
	}
	if m, ok := num(in.Props["maxLength"]); ok && float64(n) > m {
		return fmt.Errorf("it must have at most %s characters", numText(m))
	}
	return nil
}

// validatorTimeout bounds one validator match: a pattern with catastrophic
// backtracking fails the input instead of holding the request, as Kestra's
// RegexUtils does.
const validatorTimeout = time.Second

// fullMatch compiles a validator that must match the whole value, as Java's
// Pattern.matches does. Validators are Java regular expressions, so they are
// compiled by a backtracking engine that knows lookarounds and
// backreferences (RE2 does not), bounded in time.
func fullMatch(p string) (*regexp2.Regexp, error) {
	re, err := regexp2.Compile(`\A(?:`+p+`)\z`, regexp2.None)
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = validatorTimeout
	return re, nil
}

func checkChoice(in *flow.Input, s string) error {
	vals, ok := choices(in)
	if !ok || allowCustom(in) || slices.Contains(vals, s) {
		return nil
	}
	return fmt.Errorf("it must match the values `[%s]`", strings.Join(vals, ", "))
}

// choices returns the declared values (or MULTISELECT's legacy options);
// ok is false when they are an unrendered expression and cannot be checked.
func choices(in *flow.Input) ([]string, bool) {
	raw, has := in.Props["values"]
	if !has {
		raw, has = in.Props["options"]
	}
	list, isList := raw.([]any)
	if !has || !isList {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, toString(x))
	}
	return out, true
}

// allowCustom reports allowCustomValue (or allowInput, SELECT's name for it
// in some Kestra versions).
func allowCustom(in *flow.Input) bool {
	for _, key := range []string{"allowCustomValue", "allowInput"} {
		switch b := in.Props[key].(type) {
		case bool:
			if b {
				return true
			}
		case string:
			if strings.EqualFold(b, "true") {
				return true
			}
		}
	}
	return false
}

// withRenderedValues returns in with its values computed from `expression`
// (or from values written as an expression), as Kestra's RenderableInput
// does; in itself is not modified.
func withRenderedValues(in *flow.Input, render func(string) (string, error)) (*flow.Input, error) {
	switch strings.ToUpper(in.Type) {
	case "ENUM", "SELECT", "MULTISELECT":
	default:
		return in, nil
	}
	tmpl, ok := in.Props["expression"].(string)
	if !ok {
		if tmpl, ok = in.Props["values"].(string); !ok || !isTemplate(tmpl) {
			return in, nil
		}
	}
	out, err := render(tmpl)
	if err != nil {
		return nil, fmt.Errorf("cannot render its expression: %w", err)
	}
	var list []any
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return nil, fmt.Errorf("its expression must give a list of strings, got `%s`", clip(out))
	}
	cp := *in
	cp.Props = maps.Clone(in.Props)
	cp.Props["values"] = list
	return &cp, nil
}

func checkRange(in *flow.Input, f float64) error {
	if m, ok := num(in.Props["min"]); ok && f < m {
		return fmt.Errorf("it must be more than `%s`", numText(m))
	}
	if m, ok := num(in.Props["max"]); ok && f > m {
		return fmt.Errorf("it must be less than `%s`", numText(m))
	}
	return nil
}

func toBool(v any) (any, error) {
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return nil, errors.New("it must be a boolean: true or false")
}

func toInt(v any) (int64, error) {
	switch n := v.(type) {
	case int:
		return int64(n), nil
	case int64:
		return n, nil
	case float64:
		if n != math.Trunc(n) || math.IsInf(n, 0) || n < math.MinInt64 || n >= math.MaxInt64 {
			return 0, errors.New("it must be an integer")
		}
		return int64(n), nil
	case json.Number:
		return toInt(string(n))
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return 0, errors.New("it must be an integer between -9223372036854775808 and 9223372036854775807")
			}
			return 0, errors.New("it must be an integer")
		}
		return i, nil
	}
	return 0, errors.New("it must be an integer")
}

func toFloat(v any) (float64, error) {
	var f float64
	switch n := v.(type) {
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case float64:
		f = n
	case json.Number:
		return toFloat(string(n))
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(n), 64); err != nil {
			return 0, errors.New("it must be a number")
		}
	default:
		return 0, errors.New("it must be a number")
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("it must be a finite number")
	}
	return f, nil
}

// checkTemporal parses a DATETIME, DATE or TIME value and checks its after
// and before bounds, which are inclusive as in Kestra.
func checkTemporal(in *flow.Input, v any, parse func(string) (time.Time, error), format func(time.Time) string) (any, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		var err error
		if t, err = parse(strings.TrimSpace(x)); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("expected a %s text value, got %s", strings.ToLower(in.Type), kind(v))
	}
	for _, bound := range []string{"after", "before"} {
		b, ok := in.Props[bound]
		if !ok || b == nil {
			continue
		}
		bs := toString(b)
		bt, err := parse(bs)
		if err != nil {
			return nil, fmt.Errorf("its %s bound `%s` is not valid: %v", bound, bs, err)
		}
		if bound == "after" && t.Before(bt) || bound == "before" && t.After(bt) {
			return nil, fmt.Errorf("it must be %s `%s`", bound, format(bt))
		}
	}
	return format(t), nil
}

func convertDuration(in *flow.Input, v any) (any, error) {
	s, err := scalarString(v)
	if err != nil {
		return nil, err
	}
	d, err := parseDuration(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	for _, bound := range []string{"min", "max"} {
		b, ok := in.Props[bound].(string)
		if !ok {
			continue
		}
		bd, err := parseDuration(b)
		if err != nil {
			return nil, fmt.Errorf("its %s bound `%s` is not valid: %v", bound, b, err)
		}
		if bound == "min" && d < bd {
			return nil, fmt.Errorf("it must be more than `%s`", isoduration.Format(bd))
		}
		if bound == "max" && d > bd {
			return nil, fmt.Errorf("it must be less than `%s`", isoduration.Format(bd))
		}
	}
	return isoduration.Format(d), nil
}

// parseJSON reads a JSON input: a string is parsed (numbers stay exact
// integers when they are, objects keep their keys' order), an already
// decoded value is kept.
func parseJSON(v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return flow.NormalizeValue(v), nil
	}
	if out, err := ordered.Decode([]byte(s)); err == nil {
		return out, nil
	}
	// Not JSON: encoding/json's decoder says why, as before.
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("it must be valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("it must be valid JSON: unexpected data after the value")
	}
	return flow.NormalizeValue(out), nil
}

// parseYAML reads a YAML input into plain maps, lists and scalars.
func parseYAML(v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return flow.NormalizeValue(v), nil
	}
	var out any
	if err := yaml.NewDecoder(bytes.NewReader([]byte(s))).Decode(&out); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("it must be valid YAML: %v", err)
	}
	return plainYAML(out), nil
}

// plainYAML turns what the YAML decoder returns into JSON-shaped values.
func plainYAML(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = plainYAML(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[toString(k)] = plainYAML(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = plainYAML(e)
		}
		return x
	case int:
		return int64(x)
	case uint64:
		return float64(x)
	case time.Time:
		return formatInstant(x)
	}
	return v
}

// list reads a list input: a list (from JSON, or repeated form fields) or a
// string holding a JSON list.
func list(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, nil
	case string:
		var out []any
		dec := json.NewDecoder(strings.NewReader(x))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil || out == nil {
			return nil, errors.New(`it must be a JSON list, such as ["a", "b"]`)
		}
		return out, nil
	}
	return nil, fmt.Errorf(`it must be a list, got %s`, kind(v))
}

func convertArray(in *flow.Input, v any) (any, error) {
	items, err := list(v)
	if err != nil {
		return nil, err
	}
	it, _ := in.Props["itemType"].(string)
	it = strings.ToUpper(it)
	if it == "" {
		return flow.NormalizeValue(items), nil
	}
	if it == "ARRAY" || it == "MULTISELECT" {
		return nil, fmt.Errorf("itemType %s is not allowed for an ARRAY", it)
	}
	item := &flow.Input{ID: in.ID, Type: it, Props: map[string]any{}}
	out := make([]any, 0, len(items))
	for _, e := range items {
		c, err := Convert(item, flow.NormalizeValue(e))
		if err != nil {
			return nil, fmt.Errorf("unable to parse array element as `%s` on `%s`: %v", it, clip(toString(e)), err)
		}
		out = append(out, c)
	}
	return out, nil
}

func convertMultiselect(in *flow.Input, v any) (any, error) {
	items, err := list(v)
	if err != nil {
		return nil, err
	}
	vals, checked := choices(in)
	out := make([]any, 0, len(items))
	for _, e := range items {
		s, err := scalarString(flow.NormalizeValue(e))
		if err != nil {
			return nil, err
		}
		if checked && !allowCustom(in) && !slices.Contains(vals, s) {
			return nil, fmt.Errorf("`%s` is not allowed: it must match the values `[%s]`", clip(s), strings.Join(vals, ", "))
		}
		out = append(out, s)
	}
	return out, nil
}

func num(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

func numText(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return string(x)
	case time.Time:
		return formatInstant(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// kind names the JSON kind of v for messages.
func kind(v any) string {
	switch v.(type) {
	case map[string]any, map[any]any, *ordered.Map:
		return "an object"
	case []any, []string:
		return "a list"
	case bool:
		return "a boolean"
	case int, int64, float64, json.Number:
		return "a number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
