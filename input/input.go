// Package input reads an execution's inputs against the flow's declared
// inputs, as Kestra's FlowInputOutput does: it applies defaults, checks
// required inputs and validators, and converts values to their declared
// types. Every problem names the input, so the API can answer 422 with a
// message the user can act on.
//
// Typed values are kept in the shapes they take in Kestra's execution JSON,
// so they survive a round trip through the store unchanged: DATETIME is an
// ISO-8601 instant in UTC ("2024-01-15T10:00:00Z"), DATE "2024-01-15", TIME
// "10:15:00", DURATION Java's normalised ISO form ("PT48H"), INT an int64,
// FLOAT a float64, JSON and YAML the parsed value, ARRAY a list typed by its
// itemType and MULTISELECT a list of strings.
package input

import (
	"fmt"
	"maps"
	"strings"

	"github.com/ospreyhq/osprey/flow"
)

// ReadOptions tunes Read.
type ReadOptions struct {
	// Render evaluates an expression template. When set, string defaults
	// holding an expression ("{{ now() }}") are rendered before they are
	// converted, and a SELECT or MULTISELECT input's `expression` gives its
	// values; without it such defaults are taken literally, as validation
	// does when no execution context exists.
	Render func(template string) (string, error)
}

// Read returns the typed inputs of an execution of f from raw values
// (strings from a form, or JSON values). Unknown inputs are dropped, as
// Kestra does; optional inputs without a value are present as nil. The error
// is a flow.Errors with one entry per bad input, each with Path
// "inputs.<id>".
func Read(f *flow.Flow, raw map[string]any) (map[string]any, error) {
	return ReadWith(f, raw, ReadOptions{})
}

// ReadWith is Read with options.
func ReadWith(f *flow.Flow, raw map[string]any, opts ReadOptions) (map[string]any, error) {
	out := map[string]any{}
	var errs flow.Errors
	for _, in := range f.Inputs {
		v, present := raw[in.ID]
		if !present || v == nil || v == "" {
			present = false
			if in.Defaults != nil {
				d, err := renderDefault(in.Defaults, opts.Render)
				if err != nil {
					errs = append(errs, bad(in, "its defaults cannot be rendered: "+err.Error(), nil))
					continue
				}
				v, present = d, true
			}
		}
		if !present {
			if in.IsRequired() {
				errs = append(errs, bad(in, "missing required input (give a value or declare defaults)", nil))
			} else {
				out[in.ID] = nil
			}
			continue
		}
		conv := in
		if opts.Render != nil {
			var err error
			if conv, err = withRenderedValues(in, opts.Render); err != nil {
				errs = append(errs, bad(in, err.Error(), nil))
				continue
			}
		}
		typed, err := Convert(conv, v)
		if err != nil {
			errs = append(errs, bad(in, err.Error(), v))
			continue
		}
		out[in.ID] = typed
	}
	return out, errs.Err()
}

// Defaults returns raw with the defaults of the inputs it lacks filled in,
// untyped: Kestra does this for inputs given programmatically.
func Defaults(f *flow.Flow, raw map[string]any) map[string]any {
	out := maps.Clone(raw)
	if out == nil {
		out = map[string]any{}
	}
	for _, in := range f.Inputs {
		if _, ok := out[in.ID]; !ok && in.Defaults != nil {
			out[in.ID] = in.Defaults
		}
	}
	return out
}

// bad builds the error for input in, worded as Kestra words it ("Invalid
// input for `id`, …, but received `value`") so messages users already search
// for keep working. A SECRET's value is never repeated.
func bad(in *flow.Input, msg string, got any) *flow.Error {
	text := fmt.Sprintf("Invalid input for `%s`, %s", in.ID, msg)
	if got != nil && !strings.EqualFold(in.Type, "SECRET") {
		text += fmt.Sprintf(", but received `%s`", clip(toString(got)))
	}
	return &flow.Error{Path: "inputs." + in.ID, Line: in.Pos.Line, Column: in.Pos.Column, Message: text}
}

// clip keeps an echoed value short enough for an error message.
func clip(s string) string {
	const limit = 120
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}

// isTemplate reports whether s holds a Pebble expression or tag.
func isTemplate(s string) bool { return strings.Contains(s, "{{") || strings.Contains(s, "{%") }

func renderDefault(d any, render func(string) (string, error)) (any, error) {
	s, ok := d.(string)
	if !ok || render == nil || !isTemplate(s) {
		return d, nil
	}
	return render(s)
}
