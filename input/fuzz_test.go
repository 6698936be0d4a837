package input_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/input"
)

// FuzzConvert feeds arbitrary text to every input type: Convert must never
// panic, and whatever it accepts must be a value the execution JSON can hold.
func FuzzConvert(f *testing.F) {
	seeds := []struct{ typ, value string }{
		{"STRING", "hello"}, {"INT", "42"}, {"INT", "-9223372036854775808"}, {"FLOAT", "1e308"},
		{"BOOLEAN", "TRUE"}, {"DATETIME", "2024-01-15T10:00:00.123456789+05:30"}, {"DATE", "2024-02-29"},
		{"TIME", "23:59:59.999999999"}, {"DURATION", "-P1DT-2H3M-4.5S"}, {"DURATION", "PT9223372036854775807S"},
		{"JSON", `{"a":[1,{"b":null}]}`}, {"YAML", "a: &x [1]\nb: *x\n"}, {"URI", "https://example.com"},
		{"EMAIL", "a@example.com"}, {"ARRAY", `[1,"2",3.5]`}, {"MULTISELECT", `["a"]`}, {"ENUM", "A"},
		{"SELECT", ""}, {"SECRET", "x"}, {"FILE", "kestra:///f"},
	}
	for _, s := range seeds {
		f.Add(s.typ, s.value)
	}
	itemTypes := []string{"INT", "STRING", "DATETIME", "DURATION", "JSON", "BOOLEAN"}
	f.Fuzz(func(t *testing.T, typ, value string) {
		if len(value) > 4096 {
			return
		}
		in := &flow.Input{ID: "in", Type: typ, Props: map[string]any{
			"values": []any{"a", "b"}, "validator": "[a-z]*", "min": 0, "max": 100,
			"after": "2000-01-01", "before": "2100-01-01", "itemType": itemTypes[len(value)%len(itemTypes)],
		}}
		got, err := input.Convert(in, value)
		if err != nil {
			return
		}
		if _, err := json.Marshal(got); err != nil {
			t.Fatalf("%s %q converted to %#v, which JSON cannot hold: %v", typ, value, got, err)
		}
		// A normalised value reads back as itself: what an execution stores
		// is a valid input of the same type (replays and subflows rely on it).
		// JSON and YAML store the parsed value, not text, so they are left out.
		if s, ok := got.(string); ok && !strings.EqualFold(typ, "JSON") && !strings.EqualFold(typ, "YAML") {
			again, err := input.Convert(&flow.Input{ID: "in", Type: typ}, s)
			if err != nil || again != s {
				t.Fatalf("%s %q converted to %q, which reads back as %v (%v)", typ, value, s, again, err)
			}
		}
	})
}

// BenchmarkRead measures reading one execution's inputs of every type from
// form text, the work done per execution created through the API.
func BenchmarkRead(b *testing.B) {
	f := parseFlow(b, `  - {id: s, type: STRING, validator: '[a-z]+'}
  - {id: sel, type: SELECT, values: [a, b]}
  - {id: ms, type: MULTISELECT, values: [a, b]}
  - {id: i, type: INT, min: 0}
  - {id: fl, type: FLOAT}
  - {id: b, type: BOOLEAN}
  - {id: dt, type: DATETIME}
  - {id: d, type: DATE}
  - {id: t, type: TIME}
  - {id: du, type: DURATION}
  - {id: j, type: JSON}
  - {id: y, type: YAML}
  - {id: arr, type: ARRAY, itemType: INT}`)
	raw := map[string]any{"s": "abc", "sel": "a", "ms": `["a","b"]`, "i": "7", "fl": "1.5", "b": "true",
		"dt": "2024-01-15T10:00:00Z", "d": "2024-01-15", "t": "10:15", "du": "PT1H", "j": `{"a":[1,2]}`,
		"y": "a: 1", "arr": "[1,2,3]"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := input.Read(f, raw); err != nil {
			b.Fatal(err)
		}
	}
}
