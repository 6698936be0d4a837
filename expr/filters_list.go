package expr

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ospreyhq/osprey/internal/ordered"
)

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
	case map[string]any, *ordered.Map:
		keys, _, _ := mapEntries(x)
		return anyKeys(keys), nil
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
	case map[string]any, *ordered.Map:
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
	case map[string]any, *ordered.Map:
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
	case map[string]any, *ordered.Map:
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
	case map[string]any, *ordered.Map:
		return int64(mapLen(x)), nil
	}
	return int64(len(toString(in))), nil
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
func fMerge(_ *state, in any, a Args) (any, error) {
	other, _ := a.Get(0, "items")
	switch x := in.(type) {
	case map[string]any, *ordered.Map:
		// Kestra copies the first map into a LinkedHashMap and puts the
		// second's entries: the first's keys keep their places, new keys follow.
		xk, xm, _ := mapEntries(x)
		ok, om, isMap := mapEntries(other)
		if !isMap {
			return nil, fmt.Errorf("merge of a map expects a map, got %s", typeName(other))
		}
		out := ordered.New(len(xk) + len(ok))
		for _, k := range xk {
			out.Set(k, xm[k])
		}
		for _, k := range ok {
			out.Set(k, om[k])
		}
		return out, nil
	case []any:
		switch o := other.(type) {
		case []any:
			return append(slices.Clone(x), o...), nil
		case map[string]any, *ordered.Map:
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
