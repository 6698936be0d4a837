package flow

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// DecodeJSON decodes data into v keeping Kestra's number types: a JSON
// integer becomes an int64 and a number with a fraction or exponent a
// float64, so that `{{ inputs.count }}` prints 1, not 1.0, after a round
// trip through the store or the queue.
func DecodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	normalize(v)
	return nil
}

// Normalize replaces json.Number values inside maps and slices (found
// through pointers to the execution's documents) by int64 or float64.
func normalize(v any) {
	switch x := v.(type) {
	case *Execution:
		x.Inputs = NormalizeMap(x.Inputs)
		x.Outputs = NormalizeMap(x.Outputs)
		x.Variables = NormalizeMap(x.Variables)
		if x.Trigger != nil {
			x.Trigger.Variables = NormalizeMap(x.Trigger.Variables)
		}
		for _, tr := range x.TaskRunList {
			tr.Outputs = NormalizeMap(tr.Outputs)
		}
	case *map[string]any:
		*x = NormalizeMap(*x)
	case *any:
		*x = NormalizeValue(*x)
	}
}

// NormalizeMap applies NormalizeValue to every value of m.
func NormalizeMap(m map[string]any) map[string]any {
	for k, v := range m {
		m[k] = NormalizeValue(v)
	}
	return m
}

// NormalizeValue turns json.Number values (deeply) into int64 or float64.
func NormalizeValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n
			}
		}
		f, _ := strconv.ParseFloat(s, 64)
		return f
	case map[string]any:
		return NormalizeMap(x)
	case []any:
		for i := range x {
			x[i] = NormalizeValue(x[i])
		}
		return x
	}
	return v
}
