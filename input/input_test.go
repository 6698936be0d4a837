package input_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/input"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// parseFlow parses a flow whose inputs section is inputs (YAML, indented as
// list items), so every test also proves the flow parser accepts the type.
func parseFlow(t testing.TB, inputs string) *flow.Flow {
	t.Helper()
	src := "id: f\nnamespace: company.team\ninputs:\n" + inputs + "\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
	f, err := flow.Parse([]byte(src), flow.ParseOptions{})
	require.NoError(t, err)
	return f
}

// decl parses one input declaration, e.g. "type: INT\nmin: 1".
func decl(t testing.TB, body string) *flow.Input {
	t.Helper()
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	f := parseFlow(t, "  - id: in\n"+strings.Join(lines, "\n"))
	return f.Inputs[0]
}

func TestConvert(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		decl    string
		value   any
		want    any
		wantErr string
	}{
		// STRING and its validators
		{name: "string", decl: "type: STRING", value: "hello", want: "hello"},
		{name: "string from a JSON number", decl: "type: STRING", value: int64(42), want: "42"},
		{name: "string refuses an object", decl: "type: STRING", value: map[string]any{"a": 1}, wantErr: "expected a text value, got an object"},
		{name: "validator matches the whole value", decl: `type: STRING
validator: '[a-z]+'`, value: "abc", want: "abc"},
		{name: "validator is anchored", decl: `type: STRING
validator: '[a-z]+'`, value: "abc1", wantErr: "it must match the pattern `[a-z]+`"},
		{name: "validator with a Java lookahead", decl: `type: STRING
validator: '(?=.*[A-Z])(?=.*[0-9]).{8,}'`, value: "Passw0rdX", want: "Passw0rdX"},
		{name: "validator with a Java lookahead refuses", decl: `type: STRING
validator: '(?=.*[A-Z])(?=.*[0-9]).{8,}'`, value: "password", wantErr: "it must match the pattern"},
		{name: "validator with a backreference", decl: `type: STRING
validator: '(a+)-\1'`, value: "aa-aa", want: "aa-aa"},
		{name: "validator does not take a final newline", decl: `type: STRING
validator: 'abc'`, value: "abc\n", wantErr: "it must match the pattern"},
		{name: "catastrophic validator times out", decl: `type: STRING
validator: '(a+)+b'`, value: strings.Repeat("a", 40), wantErr: "timed out"},
		{name: "minLength", decl: "type: STRING\nminLength: 3", value: "ab", wantErr: "it must have at least 3 characters"},
		{name: "maxLength counts characters", decl: "type: STRING\nmaxLength: 3", value: "été", want: "été"},
		{name: "maxLength", decl: "type: STRING\nmaxLength: 3", value: "abcd", wantErr: "it must have at most 3 characters"},
		// ENUM / SELECT
		{name: "enum", decl: "type: ENUM\nvalues: [A, B]", value: "B", want: "B"},
		{name: "enum refuses others", decl: "type: ENUM\nvalues: [A, B]", value: "C", wantErr: "it must match the values `[A, B]`"},
		{name: "select", decl: "type: SELECT\nvalues: [dev, prod]", value: "prod", want: "prod"},
		{name: "select with custom value", decl: "type: SELECT\nvalues: [dev, prod]\nallowCustomValue: true", value: "qa", want: "qa"},
		{name: "select allowInput", decl: "type: SELECT\nvalues: [dev]\nallowInput: true", value: "qa", want: "qa"},
		{name: "select refuses others", decl: "type: SELECT\nvalues: [dev, prod]", value: "qa", wantErr: "it must match the values `[dev, prod]`"},
		// MULTISELECT
		{name: "multiselect from JSON text", decl: "type: MULTISELECT\nvalues: [a, b, c]", value: `["a","c"]`, want: []any{"a", "c"}},
		{name: "multiselect from a list", decl: "type: MULTISELECT\nvalues: [a, b, c]", value: []any{"b"}, want: []any{"b"}},
		{name: "multiselect from repeated fields", decl: "type: MULTISELECT\nvalues: [a, b, c]", value: []string{"a", "b"}, want: []any{"a", "b"}},
		{name: "multiselect refuses others", decl: "type: MULTISELECT\nvalues: [a, b]", value: `["a","z"]`, wantErr: "`z` is not allowed: it must match the values `[a, b]`"},
		{name: "multiselect custom values", decl: "type: MULTISELECT\nvalues: [a]\nallowCustomValue: true", value: `["z"]`, want: []any{"z"}},
		{name: "multiselect legacy options", decl: "type: MULTISELECT\noptions: [a, b]", value: `["b"]`, want: []any{"b"}},
		{name: "multiselect needs a list", decl: "type: MULTISELECT\nvalues: [a]", value: "a", wantErr: "it must be a JSON list"},
		// INT
		{name: "int from text", decl: "type: INT", value: " 42 ", want: int64(42)},
		{name: "int from JSON", decl: "type: INT", value: float64(7), want: int64(7)},
		{name: "int keeps 64 bits", decl: "type: INT", value: "9007199254740993", want: int64(9007199254740993)},
		{name: "int refuses a fraction", decl: "type: INT", value: 1.5, wantErr: "it must be an integer"},
		{name: "int refuses words", decl: "type: INT", value: "many", wantErr: "it must be an integer"},
		{name: "int min", decl: "type: INT\nmin: 10", value: "9", wantErr: "it must be more than `10`"},
		{name: "int max", decl: "type: INT\nmax: 10", value: "11", wantErr: "it must be less than `10`"},
		{name: "int bounds inclusive", decl: "type: INT\nmin: 1\nmax: 10", value: "10", want: int64(10)},
		// FLOAT
		{name: "float", decl: "type: FLOAT", value: "3.5", want: 3.5},
		{name: "float from an integer", decl: "type: FLOAT", value: int64(2), want: 2.0},
		{name: "float refuses NaN", decl: "type: FLOAT", value: "NaN", wantErr: "finite"},
		{name: "float min", decl: "type: FLOAT\nmin: 0.5", value: "0.25", wantErr: "it must be more than `0.5`"},
		{name: "float max", decl: "type: FLOAT\nmax: 1.5", value: 2.0, wantErr: "it must be less than `1.5`"},
		// BOOLEAN and BOOL
		{name: "boolean true", decl: "type: BOOLEAN", value: "true", want: true},
		{name: "boolean any case", decl: "type: BOOLEAN", value: "FALSE", want: false},
		{name: "boolean from JSON", decl: "type: BOOLEAN", value: true, want: true},
		{name: "boolean refuses yes", decl: "type: BOOLEAN", value: "yes", wantErr: "it must be a boolean: true or false"},
		{name: "bool", decl: "type: BOOL", value: "true", want: true},
		// DATETIME
		{name: "datetime in UTC", decl: "type: DATETIME", value: "2024-01-15T10:00:00Z", want: "2024-01-15T10:00:00Z"},
		{name: "datetime offset moves to UTC", decl: "type: DATETIME", value: "2024-01-15T10:00:00+02:00", want: "2024-01-15T08:00:00Z"},
		{name: "datetime fraction in groups of three", decl: "type: DATETIME", value: "2024-01-15T10:00:00.5Z", want: "2024-01-15T10:00:00.500Z"},
		{name: "datetime needs a zone", decl: "type: DATETIME", value: "2024-01-15T10:00:00", wantErr: "ISO-8601 date-time with a zone"},
		{name: "datetime after", decl: "type: DATETIME\nafter: \"2024-01-01T00:00:00Z\"", value: "2023-12-31T23:59:59Z", wantErr: "it must be after `2024-01-01T00:00:00Z`"},
		{name: "datetime after is inclusive", decl: "type: DATETIME\nafter: \"2024-01-01T00:00:00Z\"", value: "2024-01-01T00:00:00Z", want: "2024-01-01T00:00:00Z"},
		{name: "datetime before", decl: "type: DATETIME\nbefore: \"2024-01-01T00:00:00Z\"", value: "2024-01-01T00:00:01Z", wantErr: "it must be before `2024-01-01T00:00:00Z`"},
		// DATE
		{name: "date", decl: "type: DATE", value: "2024-02-29", want: "2024-02-29"},
		{name: "date checks the calendar", decl: "type: DATE", value: "2023-02-29", wantErr: "ISO-8601 date"},
		{name: "date refuses a date-time", decl: "type: DATE", value: "2024-02-01T00:00:00Z", wantErr: "ISO-8601 date"},
		{name: "date after", decl: "type: DATE\nafter: 2024-01-01", value: "2023-12-31", wantErr: "it must be after `2024-01-01`"},
		{name: "date before", decl: "type: DATE\nbefore: 2024-01-01", value: "2024-01-02", wantErr: "it must be before `2024-01-01`"},
		// TIME
		{name: "time hh:mm gets seconds", decl: "type: TIME", value: "10:15", want: "10:15:00"},
		{name: "time with fraction", decl: "type: TIME", value: "10:15:30.120", want: "10:15:30.12"},
		{name: "time out of range", decl: "type: TIME", value: "24:00", wantErr: "ISO-8601 time"},
		{name: "time after", decl: "type: TIME\nafter: \"09:00\"", value: "08:59", wantErr: "it must be after `09:00:00`"},
		{name: "time before", decl: "type: TIME\nbefore: \"17:00\"", value: "17:00:01", wantErr: "it must be before `17:00:00`"},
		// DURATION
		{name: "duration", decl: "type: DURATION", value: "PT1H30M", want: "PT1H30M"},
		{name: "duration days become hours", decl: "type: DURATION", value: "P2D", want: "PT48H"},
		{name: "duration fraction", decl: "type: DURATION", value: "PT0.250S", want: "PT0.25S"},
		{name: "duration normalised", decl: "type: DURATION", value: "PT90M", want: "PT1H30M"},
		{name: "duration negative", decl: "type: DURATION", value: "-PT1.5S", want: "PT-1.5S"},
		{name: "duration zero", decl: "type: DURATION", value: "PT0S", want: "PT0S"},
		{name: "duration refuses Go form", decl: "type: DURATION", value: "1h", wantErr: "ISO-8601 duration"},
		{name: "duration refuses an empty T", decl: "type: DURATION", value: "PT", wantErr: "ISO-8601 duration"},
		{name: "duration min", decl: "type: DURATION\nmin: PT1M", value: "PT30S", wantErr: "it must be more than `PT1M`"},
		{name: "duration max", decl: "type: DURATION\nmax: PT1H", value: "P1D", wantErr: "it must be less than `PT1H`"},
		// JSON and YAML
		{name: "json object", decl: "type: JSON", value: `{"a":1,"b":[true,"x"],"big":9007199254740993}`,
			want: map[string]any{"a": int64(1), "b": []any{true, "x"}, "big": int64(9007199254740993)}},
		{name: "json scalar", decl: "type: JSON", value: `"text"`, want: "text"},
		{name: "json already decoded", decl: "type: JSON", value: map[string]any{"k": "v"}, want: map[string]any{"k": "v"}},
		{name: "json invalid", decl: "type: JSON", value: `{"a":`, wantErr: "it must be valid JSON"},
		{name: "json trailing data", decl: "type: JSON", value: `{} {}`, wantErr: "unexpected data after the value"},
		{name: "yaml", decl: "type: YAML", value: "a: 1\nb:\n  - x\n  - 2.5\n", want: map[string]any{"a": int64(1), "b": []any{"x", 2.5}}},
		{name: "yaml invalid", decl: "type: YAML", value: "a: [1", wantErr: "it must be valid YAML"},
		// URI and EMAIL
		{name: "uri", decl: "type: URI", value: "https://kestra.io/docs?x=1", want: "https://kestra.io/docs?x=1"},
		{name: "uri needs a scheme", decl: "type: URI", value: "kestra.io/docs", wantErr: "it must be a URI with a scheme"},
		{name: "email", decl: "type: EMAIL", value: "ada@example.com", want: "ada@example.com"},
		{name: "email refuses a name", decl: "type: EMAIL", value: "Ada <ada@example.com>", wantErr: "it must be a valid email address"},
		{name: "email refuses text", decl: "type: EMAIL", value: "not-an-email", wantErr: "it must be a valid email address"},
		// ARRAY
		{name: "array of int", decl: "type: ARRAY\nitemType: INT", value: "[1, 2, 3]", want: []any{int64(1), int64(2), int64(3)}},
		{name: "array of string", decl: "type: ARRAY\nitemType: STRING", value: []any{"a", int64(1)}, want: []any{"a", "1"}},
		{name: "array of datetime", decl: "type: ARRAY\nitemType: DATETIME", value: `["2024-01-15T10:00:00+01:00"]`, want: []any{"2024-01-15T09:00:00Z"}},
		{name: "array of json", decl: "type: ARRAY\nitemType: JSON", value: `[{"a":1}]`, want: []any{map[string]any{"a": int64(1)}}},
		{name: "array bad element", decl: "type: ARRAY\nitemType: INT", value: `[1, "x"]`, wantErr: "unable to parse array element as `INT` on `x`"},
		{name: "array needs a list", decl: "type: ARRAY\nitemType: INT", value: "1,2", wantErr: "it must be a JSON list"},
		// SECRET and FILE
		{name: "secret is a string here", decl: "type: SECRET", value: "s3cr3t", want: "s3cr3t"},
		{name: "secret validator", decl: "type: SECRET\nvalidator: '[0-9]+'", value: "abc", wantErr: "it must match the pattern"},
		{name: "file is a stored file's URI", decl: "type: FILE", value: "kestra:///ns/f/executions/E/inputs/in/a.txt", want: "kestra:///ns/f/executions/E/inputs/in/a.txt"},
		{name: "file is not a path", decl: "type: FILE", value: "/etc/passwd", wantErr: "a FILE input takes an uploaded file"},
		{name: "file does not go up", decl: "type: FILE", value: "kestra:///ns/../other/x", wantErr: "a FILE input takes an uploaded file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := decl(t, tc.decl)
			got, err := input.Convert(in, tc.value)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, ordered.Plain(got))
		})
	}
}

// TestRefusedDeclarations checks what the flow parser refuses when a flow is
// saved, and that Convert still refuses it for a flow built in code.
func TestRefusedDeclarations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, decl, wantErr string
		in                  *flow.Input
		value               any
	}{
		{name: "broken validator", decl: "type: STRING\n    validator: '[a-z'",
			wantErr: `inputs[0].validator: validator of input "in" is not a valid regular expression`,
			in:      &flow.Input{ID: "in", Type: "STRING", Props: map[string]any{"validator": "[a-z"}}, value: "abc"},
		{name: "array of arrays", decl: "type: ARRAY\n    itemType: ARRAY",
			wantErr: `inputs[0].itemType: itemType of input "in" cannot be ARRAY`,
			in:      &flow.Input{ID: "in", Type: "ARRAY", Props: map[string]any{"itemType": "ARRAY"}}, value: "[[1]]"},
		{name: "file with defaults", decl: "type: FILE\n    defaults: x.txt",
			wantErr: `inputs[0].defaults: FILE input "in" cannot have defaults`,
			in:      &flow.Input{ID: "in", Type: "FILE"}, value: "x.txt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := "id: f\nnamespace: company.team\ninputs:\n  - id: in\n    " + tc.decl + "\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
			_, err := flow.Parse([]byte(src), flow.ParseOptions{})
			require.ErrorContains(t, err, tc.wantErr)
			_, err = input.Convert(tc.in, tc.value)
			require.Error(t, err)
		})
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	f := parseFlow(t, `  - id: name
    type: STRING
  - id: greeting
    type: STRING
    defaults: Hello
  - id: count
    type: INT
    defaults: 3
  - id: tags
    type: ARRAY
    itemType: INT
    defaults: [1, 2]
  - id: when
    type: DATETIME
    defaults: "2013-08-09T14:19:00Z"
  - id: optional
    type: STRING
    required: false
  - id: depends
    type: SELECT
    values: [a, b]
    required: false
    dependsOn:
      inputs: [name]
  - id: token
    type: SECRET
    required: false
    validator: '[0-9]+'`)
	tests := []struct {
		name      string
		raw       map[string]any
		want      map[string]any
		wantPaths []string
		wantMsgs  []string
	}{
		{name: "defaults and optional inputs", raw: map[string]any{"name": "Ada", "unknown": "dropped"},
			want: map[string]any{"name": "Ada", "greeting": "Hello", "count": int64(3), "tags": []any{int64(1), int64(2)},
				"when": "2013-08-09T14:19:00Z", "optional": nil, "depends": nil, "token": nil}},
		{name: "an empty form field takes the default", raw: map[string]any{"name": "Ada", "count": ""},
			want: map[string]any{"name": "Ada", "greeting": "Hello", "count": int64(3), "tags": []any{int64(1), int64(2)},
				"when": "2013-08-09T14:19:00Z", "optional": nil, "depends": nil, "token": nil}},
		{name: "every problem at once", raw: map[string]any{"count": "x", "depends": "c"},
			wantPaths: []string{"inputs.name", "inputs.count", "inputs.depends"},
			wantMsgs: []string{"Invalid input for `name`, missing required input",
				"Invalid input for `count`, it must be an integer, but received `x`",
				"Invalid input for `depends`, it must match the values `[a, b]`, but received `c`"}},
		{name: "a secret value is never repeated", raw: map[string]any{"name": "Ada", "token": "hunter2"},
			wantPaths: []string{"inputs.token"}, wantMsgs: []string{"Invalid input for `token`, it must match the pattern `[0-9]+`"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := input.Read(f, tc.raw)
			if tc.wantPaths == nil {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				return
			}
			var errs flow.Errors
			require.True(t, errors.As(err, &errs), "want flow.Errors, got %v", err)
			var paths []string
			for i, e := range errs {
				paths = append(paths, e.Path)
				require.Equal(t, tc.wantMsgs[i], e.Message[:min(len(e.Message), len(tc.wantMsgs[i]))])
				require.Positive(t, e.Line, "errors point at the declaration")
				require.NotContains(t, e.Message, "hunter2")
			}
			require.Equal(t, tc.wantPaths, paths)
		})
	}
}

func TestReadWithRender(t *testing.T) {
	t.Parallel()
	f := parseFlow(t, `  - id: when
    type: DATETIME
    defaults: "{{ now() }}"
  - id: env
    type: SELECT
    expression: "{{ envs }}"
  - id: literal
    type: STRING
    defaults: "{{ not rendered without a renderer }}"
    required: false`)
	now := time.Date(2026, 11, 30, 5, 0, 0, 0, time.UTC)
	render := func(s string) (string, error) {
		switch s {
		case "{{ now() }}":
			return now.Format(time.RFC3339Nano), nil
		case "{{ envs }}":
			return `["dev","prod"]`, nil
		}
		return "", errors.New("unknown expression " + s)
	}

	got, err := input.ReadWith(f, map[string]any{"env": "prod", "literal": "x"}, input.ReadOptions{Render: render})
	require.NoError(t, err)
	require.Equal(t, "2026-11-30T05:00:00Z", got["when"])
	require.Equal(t, "prod", got["env"])

	_, err = input.ReadWith(f, map[string]any{"env": "qa", "literal": "x"}, input.ReadOptions{Render: render})
	require.ErrorContains(t, err, "it must match the values `[dev, prod]`")

	_, err = input.ReadWith(f, map[string]any{"env": "prod"}, input.ReadOptions{Render: render})
	require.ErrorContains(t, err, "Invalid input for `literal`, its defaults cannot be rendered: unknown expression")

	// Without a renderer the template is a literal, so DATETIME refuses it.
	_, err = input.Read(f, map[string]any{"env": "x"})
	require.ErrorContains(t, err, "Invalid input for `when`, it must be an ISO-8601 date-time")
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	f := parseFlow(t, `  - id: a
    type: INT
    defaults: 1
  - id: b
    type: STRING
    defaults: x`)
	raw := map[string]any{"b": "given", "extra": true}
	got := input.Defaults(f, raw)
	require.Equal(t, map[string]any{"a": 1, "b": "given", "extra": true}, got)
	require.NotContains(t, raw, "a", "the caller's map is not modified")
}

// TestEveryTypeParses proves the flow parser accepts every input type
// Kestra has, and that each reads its own default.
func TestEveryTypeParses(t *testing.T) {
	t.Parallel()
	f := parseFlow(t, `  - {id: s, type: STRING, defaults: x}
  - {id: e, type: ENUM, values: [A], defaults: A}
  - {id: sel, type: SELECT, values: [A], defaults: A}
  - {id: ms, type: MULTISELECT, values: [A, B], defaults: [A]}
  - {id: i, type: INT, defaults: 1}
  - {id: fl, type: FLOAT, defaults: 1.5}
  - {id: b, type: BOOLEAN, defaults: true}
  - {id: bo, type: BOOL, defaults: false}
  - {id: dt, type: DATETIME, defaults: "2024-01-01T00:00:00Z"}
  - {id: d, type: DATE, defaults: "2024-01-01"}
  - {id: t, type: TIME, defaults: "10:00"}
  - {id: du, type: DURATION, defaults: PT1M}
  - {id: j, type: JSON, defaults: '{"k": 1}'}
  - {id: y, type: YAML, defaults: "k: 1"}
  - {id: u, type: URI, defaults: "https://example.com"}
  - {id: em, type: EMAIL, defaults: "a@example.com"}
  - {id: arr, type: ARRAY, itemType: FLOAT, defaults: [1, 2.5]}
  - {id: sec, type: SECRET, required: false}
  - {id: file, type: FILE, required: false}`)
	got, err := input.Read(f, nil)
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"s": "x", "e": "A", "sel": "A", "ms": []any{"A"}, "i": int64(1), "fl": 1.5, "b": true, "bo": false,
		"dt": "2024-01-01T00:00:00Z", "d": "2024-01-01", "t": "10:00:00", "du": "PT1M",
		"j": map[string]any{"k": int64(1)}, "y": map[string]any{"k": int64(1)}, "u": "https://example.com",
		"em": "a@example.com", "arr": []any{1.0, 2.5}, "sec": nil, "file": nil,
	}, ordered.Plain(got))
}

func TestNest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   map[string]any
		want map[string]any
	}{
		{name: "dotted ids nest", in: map[string]any{"user.name": "Ada", "user.age": int64(36), "plain": true},
			want: map[string]any{"user": map[string]any{"name": "Ada", "age": int64(36)}, "plain": true}},
		{name: "deep", in: map[string]any{"a.b.c": 1},
			want: map[string]any{"a": map[string]any{"b": map[string]any{"c": 1}}}},
		{name: "a collision stays flat", in: map[string]any{"a": "x", "a.b": "y"},
			want: map[string]any{"a": "x", "a.b": "y"}},
		{name: "a nil optional input nests too", in: map[string]any{"a.b": nil},
			want: map[string]any{"a": map[string]any{"b": nil}}},
		{name: "a JSON value is not merged into", in: map[string]any{"a.b": map[string]any{"k": 1}, "a.b.c": 2},
			want: map[string]any{"a": map[string]any{"b": map[string]any{"k": 1}}, "a.b.c": 2}},
		{name: "empty segments stay flat", in: map[string]any{"a..b": 1},
			want: map[string]any{"a..b": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, input.Nest(tc.in))
		})
	}
}
