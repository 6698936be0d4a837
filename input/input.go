// Package input reads an execution's inputs against the flow's declared
// inputs, as Kestra's FlowInputOutput does: it applies defaults, checks
// required inputs and validators, and converts values to their declared
// types. Every problem names the input.
package input

import (
	"encoding/json"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
)

// Read returns the typed inputs of an execution of f from raw values
// (strings from a form, or JSON values). Unknown inputs are dropped, as
// Kestra does. The error is a flow.Errors with one entry per bad input.
func Read(f *flow.Flow, raw map[string]any) (map[string]any, error) {
	out := map[string]any{}
	var errs flow.Errors
	for _, in := range f.Inputs {
		v, present := raw[in.ID]
		if !present || v == nil || v == "" {
			if in.Defaults != nil {
				v, present = in.Defaults, true
			} else {
				present = false
			}
		}
		if !present {
			if in.IsRequired() {
				errs = append(errs, bad(in, "missing required input: give a value or declare defaults"))
			} else {
				out[in.ID] = nil
			}
			continue
		}
		typed, err := Convert(in, v)
		if err != nil {
			errs = append(errs, bad(in, err.Error()))
			continue
		}
		out[in.ID] = typed
	}
	return out, errs.Err()
}

// Defaults returns raw with the defaults of the inputs it lacks filled in,
// untyped: Kestra does this for inputs given programmatically.
func Defaults(f *flow.Flow, raw map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range raw {
		out[k] = v
	}
	for _, in := range f.Inputs {
		if _, ok := out[in.ID]; !ok && in.Defaults != nil {
			out[in.ID] = in.Defaults
		}
	}
	return out
}

func bad(in *flow.Input, msg string) *flow.Error {
	return &flow.Error{Path: "inputs." + in.ID, Line: in.Pos.Line, Column: in.Pos.Column, Message: fmt.Sprintf("input %q: %s", in.ID, msg)}
}

// Convert turns v into the declared type of in and checks its validators.
func Convert(in *flow.Input, v any) (any, error) {
	typ := strings.ToUpper(in.Type)
	switch typ {
	case "STRING", "SECRET", "ENUM", "SELECT", "EMAIL", "URI":
		s := toString(v)
		if err := checkString(in, typ, s); err != nil {
			return nil, err
		}
		return s, nil
	case "INT":
		n, err := toInt(v)
		if err != nil {
			return nil, err
		}
		if err := checkRange(in, float64(n)); err != nil {
			return nil, err
		}
		return n, nil
	case "FLOAT":
		f, err := toFloat(v)
		if err != nil {
			return nil, err
		}
		if err := checkRange(in, f); err != nil {
			return nil, err
		}
		return f, nil
	case "BOOLEAN", "BOOL":
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			pb, err := strconv.ParseBool(strings.TrimSpace(b))
			if err != nil {
				return nil, fmt.Errorf("%q is not a boolean: use true or false", b)
			}
			return pb, nil
		}
		return nil, fmt.Errorf("expected a boolean, got %v", v)
	case "JSON", "YAML":
		if s, ok := v.(string); ok {
			var out any
			if err := json.Unmarshal([]byte(s), &out); err != nil {
				if typ == "YAML" {
					return s, nil
				}
				return nil, fmt.Errorf("not valid JSON: %v", err)
			}
			return flow.NormalizeValue(out), nil
		}
		return v, nil
	case "DATETIME":
		return parseTime(in, v, time.RFC3339Nano)
	case "DATE":
		return parseTime(in, v, time.DateOnly)
	case "TIME":
		return parseTime(in, v, "15:04:05")
	case "DURATION":
		s := toString(v)
		if _, err := flow.ParseDuration(s); err != nil {
			return nil, err
		}
		return s, nil
	case "ARRAY", "MULTISELECT":
		var list []any
		switch x := v.(type) {
		case []any:
			list = x
		case string:
			if err := json.Unmarshal([]byte(x), &list); err != nil {
				return nil, fmt.Errorf("expected a JSON list, got %q", x)
			}
		default:
			return nil, fmt.Errorf("expected a list")
		}
		if vals := stringsOf(in.Props["values"]); typ == "MULTISELECT" && len(vals) > 0 {
			for _, it := range list {
				if !slices.Contains(vals, toString(it)) {
					return nil, fmt.Errorf("%q is not one of %v", toString(it), vals)
				}
			}
		}
		return flow.NormalizeValue(list), nil
	case "FILE":
		return nil, fmt.Errorf("FILE inputs need internal storage, which Osprey does not have yet")
	}
	return v, nil
}

func checkString(in *flow.Input, typ, s string) error {
	if p, ok := in.Props["validator"].(string); ok && p != "" {
		re, err := regexp.Compile("^(?:" + p + ")$")
		if err != nil {
			return fmt.Errorf("validator %q is not a valid regular expression", p)
		}
		if !re.MatchString(s) {
			return fmt.Errorf("%q does not match the validator %s", s, p)
		}
	}
	if typ == "ENUM" || typ == "SELECT" {
		vals := stringsOf(in.Props["values"])
		custom, _ := in.Props["allowCustomValue"].(bool)
		if len(vals) > 0 && !custom && !slices.Contains(vals, s) {
			return fmt.Errorf("%q is not one of %v", s, vals)
		}
	}
	if typ == "EMAIL" {
		if _, err := mail.ParseAddress(s); err != nil {
			return fmt.Errorf("%q is not an email address", s)
		}
	}
	if typ == "URI" {
		if u, err := url.Parse(s); err != nil || u.Scheme == "" {
			return fmt.Errorf("%q is not a URI", s)
		}
	}
	return nil
}

func checkRange(in *flow.Input, f float64) error {
	if m, ok := num(in.Props["min"]); ok && f < m {
		return fmt.Errorf("%v is below the minimum %v", f, m)
	}
	if m, ok := num(in.Props["max"]); ok && f > m {
		return fmt.Errorf("%v is above the maximum %v", f, m)
	}
	return nil
}

func parseTime(in *flow.Input, v any, layout string) (any, error) {
	s := toString(v)
	t, err := time.Parse(layout, s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid %s (%s)", s, strings.ToLower(in.Type), layout)
	}
	if a, ok := in.Props["after"].(string); ok {
		if at, err := time.Parse(layout, a); err == nil && !t.After(at) {
			return nil, fmt.Errorf("%s is not after %s", s, a)
		}
	}
	if b, ok := in.Props["before"].(string); ok {
		if bt, err := time.Parse(layout, b); err == nil && !t.Before(bt) {
			return nil, fmt.Errorf("%s is not before %s", s, b)
		}
	}
	return s, nil
}

func num(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func stringsOf(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, toString(x))
	}
	return out
}

func toInt(v any) (int64, error) {
	switch n := v.(type) {
	case int:
		return int64(n), nil
	case int64:
		return n, nil
	case float64:
		if n != math.Trunc(n) {
			return 0, fmt.Errorf("%v is not an integer", n)
		}
		return int64(n), nil
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", n)
		}
		return i, nil
	}
	return 0, fmt.Errorf("expected an integer, got %v", v)
}

func toFloat(v any) (float64, error) {
	switch n := v.(type) {
	case int:
		return float64(n), nil
	case int64:
		return float64(n), nil
	case float64:
		return n, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", n)
		}
		return f, nil
	}
	return 0, fmt.Errorf("expected a number, got %v", v)
}
