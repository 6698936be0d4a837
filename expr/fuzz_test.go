package expr

import (
	"context"
	"testing"
	"time"
)

// maxFuzzInput bounds fuzz inputs so each run stays fast.
const maxFuzzInput = 4096

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{
		"{{ a }}", "{{ a.b['c'] | upper }}", "{% if a %}x{% elseif b %}y{% else %}z{% endif %}",
		"{% for x in [1, 2] %}{{ loop.index }}{% else %}e{% endfor %}", "{% set a = 1 + 2 * 3 %}{{ a }}",
		"{{ x ?? y ??? z }}", `{{ "a #{b ~ 'c'} d" }}`, "{{- a -}} {# c #} {% raw %}{{{% endraw %}",
		"{{ a is not defined and b is null }}", "{{ 1..3 | join(',') }}", "{{ {'a': [1, {'b': 2}]} | json }}",
		"{{ x | date('yyyy-MM-dd', timeZone='UTC') }}", "{{ f(1, n=2) }}", "{{ a ? b : c }}",
		"{% filter upper | replace({'A': 'b'}) %}{{ a }}{% endfilter %}",
		"{% macro m(p, q=2) %}{{ p ~ q }}{{ m(p) }}{% endmacro %}{{ m(1, q=3) }}",
		"{% block b %}{{ a }}{% endblock b %}{{ block('b') }}", "{% include 'x' %}",
	} {
		f.Add(s)
	}
}

func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > maxFuzzInput {
			t.Skip()
		}
		tmpl, err := parse(src)
		if err == nil && tmpl == nil {
			t.Fatal("nil template without error")
		}
		if err != nil {
			if pe, ok := err.(*Error); ok && (pe.Line < 1 || pe.Column < 1) {
				t.Fatalf("error without position: %v", err)
			}
		}
	})
}

func FuzzRender(f *testing.F) {
	fuzzSeeds(f)
	e := New(Options{MaxOutput: 1 << 16, MaxRange: 1000, MaxSteps: 10000, MaxRenderDepth: 3, CacheSize: 16})
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > maxFuzzInput {
			t.Skip()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s := &Scope{Strict: true, Vars: map[string]any{
			"a": "text", "b": int64(2), "c": 1.5, "x": []any{int64(1), "2", nil}, "y": map[string]any{"k": "v"},
			"self": "{{ render(self) }}",
		}}
		start := time.Now()
		_, _ = e.Render(ctx, src, s)
		_, _ = e.RenderTyped(ctx, src, s)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("render took %v", d)
		}
	})
}

// FuzzJq runs a jq program on a JSON input through the jq filter, under
// small budgets: whatever the program and the input, it returns a list
// or an error, within the budget, and never panics.
func FuzzJq(f *testing.F) {
	for _, s := range [][2]string{
		{".a", `{"a":1}`}, {".[] | select(.n > 1) | .s", `[{"n":1,"s":"x"},{"n":2,"s":"y"}]`},
		{"[range(1e9)]", "0"}, {"def f: f; f", "null"}, {"path(..)", `{"a":[1,{"b":null}]}`},
		{`.x |= tostring | to_entries`, `{"x":1.5e300}`}, {"halt_error", `"bye"`}, {"$__loc__", "1"},
		{"limit(3; repeat(.))", "[]"}, {`@base64d | fromjson`, `"eyJhIjoxfQ=="`}, {"getpath([\"a\",0,\"b\"])", "{}"},
		{`ltrimstr("x") | test("\\p{L}+"; "gx")`, `"xab"`}, {"tojson | .[2:1]", `[1,2,3]`}, {"splits(\"\")", `"abc"`},
	} {
		f.Add(s[0], s[1])
	}
	e := New(Options{MaxOutput: 1 << 16, MaxRange: 1000, MaxSteps: 10000, MaxDuration: 500 * time.Millisecond, MaxAlloc: 32 << 20, CacheSize: 16})
	f.Fuzz(func(t *testing.T, program, input string) {
		if len(program)+len(input) > maxFuzzInput {
			t.Skip()
		}
		s := &Scope{Strict: true, Vars: map[string]any{"in": input, "p": program}}
		start := time.Now()
		v, err := e.RenderTyped(context.Background(), "{{ in | jq(p) }}", s)
		// The budget is 500 ms; the bound is loose, for a loaded machine:
		// it catches a program the budget does not stop.
		if d := time.Since(start); d > 30*time.Second {
			t.Fatalf("jq %q took %v", program, d)
		}
		if err == nil {
			if _, ok := v.([]any); !ok && v != nil {
				t.Fatalf("jq %q returned %T, not a list", program, v)
			}
		}
	})
}
