package flow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ospreyhq/osprey/internal/ordered"
)

// DecodeJSON decodes data into v keeping Kestra's number types: a JSON
// integer becomes an int64 and a number with a fraction or exponent a
// float64, so that `{{ inputs.count }}` prints 1, not 1.0, after a round
// trip through the store or the queue. Into a *map[string]any or an *any,
// objects keep their keys' order (*ordered.Map below the top level).
func DecodeJSON(data []byte, v any) error {
	switch x := v.(type) {
	case json.Unmarshaler:
		// An execution, a job's payload or result: their UnmarshalJSON reads
		// the numbers and the maps' order, in one pass over data.
		return x.UnmarshalJSON(data)
	case *any:
		d, err := ordered.Decode(data)
		if err != nil {
			return err
		}
		*x = d
		return nil
	case *map[string]any:
		var d Document
		if err := d.UnmarshalJSON(data); err != nil {
			return err
		}
		*x = d
		return nil
	}
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
	case *Execution, *TaskRun:
		// Their UnmarshalJSON already read numbers as int64 and float64.
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
	case *ordered.Map:
		for k, e := range x.All() {
			x.Set(k, NormalizeValue(e))
		}
		return x
	case []any:
		for i := range x {
			x[i] = NormalizeValue(x[i])
		}
		return x
	}
	return v
}

// The documents an execution carries (inputs, outputs, variables, the
// trigger's variables, each task run's outputs) are the user's values:
// their maps keep their keys' order through the store and the queue, as
// Kestra's Jackson keeps a LinkedHashMap's, so `toJson` of an output reads
// the same after a round trip. The top level of each stays a Go map, since
// Osprey builds and looks those up by key.

// Document is a JSON object decoded as an execution's documents are: nested
// objects *ordered.Map, numbers int64 or float64. Other packages use it in
// the shadow structs of their own UnmarshalJSON (the job payload's vars).
type Document map[string]any

// UnmarshalJSON reads an object with ordered.Decode.
func (v *Document) UnmarshalJSON(b []byte) error {
	x, err := ordered.Decode(b)
	if err != nil {
		return err
	}
	switch m := x.(type) {
	case nil:
		*v = nil
	case *ordered.Map:
		*v = m.Plain()
	default:
		return fmt.Errorf("json: cannot unmarshal %T into an object", x)
	}
	return nil
}

// UnmarshalJSON reads an execution keeping the order of its documents' maps.
func (e *Execution) UnmarshalJSON(b []byte) error {
	type plain Execution
	aux := struct {
		*plain
		Inputs      Document      `json:"inputs,omitempty"`
		Outputs     Document      `json:"outputs,omitempty"`
		Variables   Document      `json:"variables,omitempty"`
		TaskRunList []*taskRunDoc `json:"taskRunList,omitempty"`
	}{plain: (*plain)(e)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	e.Inputs, e.Outputs, e.Variables = aux.Inputs, aux.Outputs, aux.Variables
	e.TaskRunList = nil
	if aux.TaskRunList != nil {
		e.TaskRunList = make([]*TaskRun, len(aux.TaskRunList))
		for i, d := range aux.TaskRunList {
			tr := TaskRun(d.taskRunFields)
			tr.Outputs = d.Outputs
			e.TaskRunList[i] = &tr
		}
	}
	return nil
}

// taskRunFields is TaskRun without its UnmarshalJSON, and taskRunDoc a task
// run as an execution's JSON holds it: decoding the list this way reads
// each task run in the execution's one pass, where TaskRun.UnmarshalJSON
// would scan and decode each again.
type taskRunFields TaskRun

type taskRunDoc struct {
	taskRunFields
	Outputs Document `json:"outputs,omitempty"`
}

// UnmarshalJSON reads a trigger keeping the order of its variables' maps.
func (t *ExecutionTrigger) UnmarshalJSON(b []byte) error {
	type plain ExecutionTrigger
	aux := struct {
		*plain
		Variables Document `json:"variables,omitempty"`
	}{plain: (*plain)(t)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	t.Variables = aux.Variables
	return nil
}

// UnmarshalJSON reads a task run keeping the order of its outputs' maps.
func (tr *TaskRun) UnmarshalJSON(b []byte) error {
	type plain TaskRun
	aux := struct {
		*plain
		Outputs Document `json:"outputs,omitempty"`
	}{plain: (*plain)(tr)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	tr.Outputs = aux.Outputs
	return nil
}
