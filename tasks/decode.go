package tasks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// decode fills dst (a pointer to a struct with json tags) from the task's
// type-specific properties, refusing unknown ones, and reports problems
// with their positions.
func decode(t *flow.Task, dst any) []*flow.Error {
	if len(t.Props) == 0 {
		return nil
	}
	raw, err := json.Marshal(t.Props)
	if err != nil {
		return []*flow.Error{taskErr(t, "", fmt.Sprintf("properties cannot be read: %v", err))}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			return []*flow.Error{taskErr(t, field, fmt.Sprintf("expected %s, got %s", jsonTypeName(te.Type.Kind().String()), te.Value))}
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			f = strings.Trim(f, `"`)
			return []*flow.Error{taskErr(t, f, fmt.Sprintf("unknown property %q for type %s", f, t.Type))}
		}
		return []*flow.Error{taskErr(t, "", err.Error())}
	}
	keepOrder(t.Props, dst)
	return nil
}

// keepOrder puts a user's map back, in its order, into each field of dst
// typed any (an HTTP body, a KV value, labels): encoding/json decodes an
// object there into a Go map, which would send or store it sorted, where
// Kestra keeps the YAML's order.
func keepOrder(props map[string]any, dst any) {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return
	}
	rv = rv.Elem()
	for _, f := range reflect.VisibleFields(rv.Type()) {
		if !f.IsExported() || f.Type.Kind() != reflect.Interface || f.Type.NumMethod() != 0 || len(f.Index) != 1 {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if _, isMap := props[name].(*ordered.Map); !isMap {
			continue
		}
		raw, err := json.Marshal(props[name])
		if err != nil {
			continue
		}
		if v, err := ordered.Decode(raw); err == nil {
			rv.FieldByIndex(f.Index).Set(reflect.ValueOf(v))
		}
	}
}

func jsonTypeName(k string) string {
	switch k {
	case "int", "int64", "int32":
		return "an integer"
	case "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "string":
		return "a string"
	case "slice":
		return "a list"
	case "map", "struct":
		return "a map"
	}
	return k
}

// taskErr builds an error at a property of t (or at t when prop is ""),
// with the path relative to the task as flow.Parse expects; Parse adds the
// task's path and fills a missing position.
func taskErr(t *flow.Task, prop, msg string) *flow.Error {
	e := &flow.Error{Path: prop, Message: msg}
	if prop != "" {
		top, _, _ := strings.Cut(prop, ".")
		if p, ok := t.PropPos[top]; ok {
			e.Line, e.Column = p.Line, p.Column
		}
	}
	return e
}

func required(t *flow.Task, prop string, present bool) []*flow.Error {
	if present {
		return nil
	}
	return []*flow.Error{taskErr(t, "", fmt.Sprintf("property %q is required for %s", prop, t.Type))}
}

// str renders a property that may be a string or any scalar as a string.
func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}
