package expr

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ospreyhq/osprey/internal/isoduration"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// Values inside the evaluator are: nil, bool, int64, float64, string,
// []any, map[string]any, *ordered.Map and time.Time. A map the user wrote
// (flow YAML, JSON, a map literal) is a *ordered.Map and keeps its keys in
// the order written, as Kestra's LinkedHashMap; a Go map (built by Osprey,
// such as outputs) has no order and reads with its keys sorted. norm converts what callers hand in
// (int, float32, []string, map[string]string, json.Number, …) to that set;
// the common cases are a type switch, only odd types go through reflection.
func norm(v any) any {
	switch x := v.(type) {
	case nil, bool, int64, float64, string, []any, map[string]any, *ordered.Map, time.Time:
		return v
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x > math.MaxInt64 {
			return float64(x)
		}
		return int64(x)
	case float32:
		f, err := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
		if err != nil {
			return float64(x)
		}
		return f
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, m := range x {
			out[i] = m
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, s := range x {
			out[k] = s
		}
		return out
	case time.Duration:
		return isoduration.Format(x)
	case fmt.Stringer:
		if _, isErr := v.(error); !isErr && !isContainer(v) {
			return x.String()
		}
	}
	return normReflect(v)
}
func isContainer(v any) bool {
	switch reflect.ValueOf(v).Kind() {
	case reflect.Map, reflect.Slice, reflect.Array, reflect.Struct, reflect.Pointer:
		return true
	}
	return false
}
func normReflect(v any) any {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return norm(rv.Elem().Interface())
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return []any{}
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			out[toString(norm(it.Key().Interface()))] = it.Value().Interface()
		}
		return out
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.Struct:
		// Structs become maps through their JSON form, like Jackson would see them.
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		var m any
		if err := decodeJSON(string(b), &m); err != nil {
			return fmt.Sprint(v)
		}
		return m
	}
	return fmt.Sprint(v)
}

// getAttr resolves obj[key]. found is false when the key does not exist.
func getAttr(obj, key any) (any, bool, error) {
	switch o := obj.(type) {
	case nil:
		return nil, false, nil
	case map[string]any:
		v, ok := o[toString(key)]
		return norm(v), ok, nil
	case *ordered.Map:
		v, ok := o.Get(toString(key))
		return norm(v), ok, nil
	case []any:
		i, ok := toInt(key)
		if !ok {
			if s, isStr := key.(string); isStr && (s == "size" || s == "length") {
				return int64(len(o)), true, nil
			}
			return nil, false, nil
		}
		if i < 0 || i >= int64(len(o)) {
			return nil, false, nil
		}
		return norm(o[i]), true, nil
	case string, bool, int64, float64, time.Time:
		return nil, false, nil
	}
	n := norm(obj)
	if isValue(n) {
		return getAttr(n, key)
	}
	return nil, false, nil
}
func isValue(v any) bool {
	switch v.(type) {
	case nil, bool, int64, float64, string, []any, map[string]any, *ordered.Map, time.Time:
		return true
	}
	return false
}

// callMethod supports the handful of Java methods Kestra users call on
// strings, lists and maps (Pebble resolves them by reflection).
func callMethod(obj any, name string, a Args) (any, error) {
	arg := func(i int) any {
		if i < len(a.Positional) {
			return a.Positional[i]
		}
		return nil
	}
	switch o := obj.(type) {
	case string:
		switch name {
		case "length":
			return int64(utf8.RuneCountInString(o)), nil
		case "isEmpty":
			return o == "", nil
		case "toUpperCase":
			return strings.ToUpper(o), nil
		case "toLowerCase":
			return strings.ToLower(o), nil
		case "trim", "strip":
			return strings.TrimSpace(o), nil
		case "toString":
			return o, nil
		case "contains":
			return strings.Contains(o, toString(arg(0))), nil
		case "startsWith":
			return strings.HasPrefix(o, toString(arg(0))), nil
		case "endsWith":
			return strings.HasSuffix(o, toString(arg(0))), nil
		case "equals":
			return equal(o, arg(0)), nil
		case "replace":
			return strings.ReplaceAll(o, toString(arg(0)), toString(arg(1))), nil
		case "split":
			parts := strings.Split(o, toString(arg(0)))
			return norm(parts), nil
		case "substring":
			r := []rune(o)
			from, _ := toInt(arg(0))
			to := int64(len(r))
			if len(a.Positional) > 1 {
				to, _ = toInt(arg(1))
			}
			if from < 0 || to > int64(len(r)) || from > to {
				return nil, fmt.Errorf("substring(%d, %d) out of range for length %d", from, to, len(r))
			}
			return string(r[from:to]), nil
		case "indexOf":
			return int64(strings.Index(o, toString(arg(0)))), nil
		}
	case []any:
		switch name {
		case "size":
			return int64(len(o)), nil
		case "isEmpty":
			return len(o) == 0, nil
		case "contains":
			return contains(o, arg(0)), nil
		case "get":
			v, ok, _ := getAttr(o, arg(0))
			if !ok {
				return nil, fmt.Errorf("index %v out of range", arg(0))
			}
			return v, nil
		case "toString":
			return javaString(o), nil
		}
	case map[string]any, *ordered.Map:
		m, _ := ordered.AsMap(o)
		switch name {
		case "size":
			return int64(len(m)), nil
		case "isEmpty":
			return len(m) == 0, nil
		case "containsKey":
			_, ok := m[toString(arg(0))]
			return ok, nil
		case "get":
			return norm(m[toString(arg(0))]), nil
		case "keySet":
			keys, _, _ := mapEntries(o)
			return anyKeys(keys), nil
		case "values":
			return mapValues(o), nil
		case "toString":
			return javaString(o), nil
		}
	}
	if obj != nil && name == "toString" {
		return javaString(obj), nil
	}
	return nil, fmt.Errorf("method %q does not exist on %s", name, typeName(obj))
}

// mapEntries returns a map value's keys in order and its entries: a
// *ordered.Map's keys as written, a Go map's sorted (it has no order).
// ok is false when v is not a map.
func mapEntries(v any) (keys []string, m map[string]any, ok bool) {
	switch x := v.(type) {
	case *ordered.Map:
		if x == nil {
			return nil, nil, true
		}
		return x.Keys(), x.Plain(), true
	case map[string]any:
		return slices.Sorted(maps.Keys(x)), x, true
	}
	return nil, nil, false
}

// mapLen returns the number of entries of a map value, -1 when v is no map.
func mapLen(v any) int {
	switch x := v.(type) {
	case *ordered.Map:
		return x.Len()
	case map[string]any:
		return len(x)
	}
	return -1
}

func anyKeys(keys []string) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

// mapValues returns a map value's values in its keys' order.
func mapValues(v any) []any {
	keys, m, _ := mapEntries(v)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = norm(m[k])
	}
	return out
}

// iterate returns what {% for %} walks: list items, or map entries with
// "key" and "value" (Pebble iterates Map.Entry).
func iterate(v any) ([]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return x, nil
	case map[string]any, *ordered.Map:
		keys, m, _ := mapEntries(x)
		out := make([]any, len(keys))
		for i, k := range keys {
			out[i] = map[string]any{"key": k, "value": norm(m[k])}
		}
		return out, nil
	}
	return nil, errors.New("not iterable")
}

// truthy is Pebble's boolean coercion for if, and, or, not and ternaries.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return strings.EqualFold(x, "true")
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	case *ordered.Map:
		return x.Len() > 0
	}
	return true
}
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}
func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || x > math.MaxInt64 || x < math.MinInt64 {
			return 0, false
		}
		return int64(x), true
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return i, err == nil
	}
	return 0, false
}

// equal is Pebble's ==: numbers compare by value (1 == 1.0), everything else
// by deep equality.
func equal(a, b any) bool {
	budget := maxNodes
	return equalRec(a, b, &budget)
}
func equalRec(a, b any, budget *int) bool {
	*budget--
	if *budget < 0 {
		return false
	}
	a, b = norm(a), norm(b)
	if af, ok := toFloat(a); ok {
		if bf, ok := toFloat(b); ok {
			ai, aInt := a.(int64)
			bi, bInt := b.(int64)
			if aInt && bInt {
				return ai == bi
			}
			return af == bf
		}
		return false
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalRec(x[i], y[i], budget) {
				return false
			}
		}
		return true
	case map[string]any, *ordered.Map:
		// Java's Map.equals ignores order: {"a":1,"b":2} == {"b":2,"a":1}.
		xm, _ := ordered.AsMap(x)
		y, ok := ordered.AsMap(b)
		if !ok || len(xm) != len(y) {
			return false
		}
		for k, v := range xm {
			w, ok := y[k]
			if !ok || !equalRec(v, w, budget) {
				return false
			}
		}
		return true
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return false
}
func compare(a, b any) (int, error) {
	if ai, ok := a.(int64); ok {
		if bi, ok := b.(int64); ok {
			switch {
			case ai < bi:
				return -1, nil
			case ai > bi:
				return 1, nil
			}
			return 0, nil
		}
	}
	af, aok := toFloat(a)
	bf, bok := toFloat(b)
	if aok && bok {
		switch {
		case af < bf:
			return -1, nil
		case af > bf:
			return 1, nil
		}
		return 0, nil
	}
	if as, ok := a.(string); ok {
		if bs, ok := b.(string); ok {
			return strings.Compare(as, bs), nil
		}
	}
	if at, ok := a.(time.Time); ok {
		if bt, ok := b.(time.Time); ok {
			return at.Compare(bt), nil
		}
	}
	if a == nil || b == nil {
		return 0, errors.New("cannot compare null")
	}
	return 0, fmt.Errorf("cannot compare %s with %s", typeName(a), typeName(b))
}

// contains is Pebble's "contains": list membership (or all of a list),
// map key, or substring.
func contains(container, item any) bool {
	switch c := container.(type) {
	case []any:
		if items, ok := item.([]any); ok {
			for _, it := range items {
				if !slices.ContainsFunc(c, func(x any) bool { return equal(x, it) }) {
					return false
				}
			}
			return true
		}
		return slices.ContainsFunc(c, func(x any) bool { return equal(x, item) })
	case map[string]any:
		_, ok := c[toString(item)]
		return ok
	case *ordered.Map:
		_, ok := c.Get(toString(item))
		return ok
	case string:
		if item == nil {
			return false
		}
		return strings.Contains(c, javaString(item))
	}
	return false
}
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case int64:
		return "integer"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "list"
	case map[string]any, *ordered.Map:
		return "map"
	case time.Time:
		return "date"
	}
	return fmt.Sprintf("%T", v)
}

// toString is the string form used for keys and string arguments.
func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	return printString(v)
}
