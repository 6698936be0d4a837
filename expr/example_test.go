package expr_test

import (
	"context"
	"fmt"

	"github.com/ospreyhq/osprey/expr"
)

func ExampleEngine_Render() {
	eng := expr.New(expr.Options{})
	scope := &expr.Scope{
		Strict: true,
		Vars: map[string]any{
			"inputs":  map[string]any{"name": "world"},
			"outputs": map[string]any{"t": map[string]any{"value": 41}},
		},
		Funcs: map[string]expr.Func{
			"secret": func(context.Context, expr.Args) (any, error) { return "s3cr3t", nil },
		},
	}
	out, err := eng.Render(context.Background(),
		"Hello {{ inputs.name | upper }}, {{ outputs.t.value + 1 }}, {{ outputs.missing.value ?? 'none' }}, {{ secret('X') | length }}", scope)
	fmt.Println(out, err)

	_, err = eng.Render(context.Background(), "{{ inputs.nope }}", scope)
	fmt.Println(err)
	// Output:
	// Hello WORLD, 42, none, 6 <nil>
	// Unable to find `nope` used in the expression `{{ inputs.nope }}` at line 1, column 11: "inputs.nope" is not defined: attribute "nope" of a map does not exist
}

func ExampleEngine_RenderTyped() {
	eng := expr.New(expr.Options{})
	v, _ := eng.RenderTyped(context.Background(), "{{ [1, 2.5, 'a'] }}", nil)
	fmt.Printf("%#v\n", v)
	// Output:
	// []interface {}{1, 2.5, "a"}
}

func ExamplePrint() {
	fmt.Println(expr.Print(1.0), expr.Print(map[string]any{"a": []any{1, nil}}), expr.JavaString(map[string]any{"a": 1}))
	// Output:
	// 1.0 {"a":[1,null]} {a=1}
}

// A macro, a block and the filter tag, all within one expression; a macro
// sees only its arguments, so the input is passed to it.
func ExampleEngine_Render_tags() {
	eng := expr.New(expr.Options{})
	scope := &expr.Scope{Strict: true, Vars: map[string]any{"inputs": map[string]any{"names": []any{"ann", "bob"}}}}
	out, err := eng.Render(context.Background(), `{% macro greet(name, punct="!") %}hello {{ name }}{{ punct }}{% endmacro -%}
{% filter title %}{% for n in inputs.names %}{{ greet(n) }}{% if not loop.last %} {% endif %}{% endfor %}{% endfilter %}
{% block sig %}-- osprey{% endblock %} {{ block("sig") | upper }}`, scope)
	fmt.Println(out, err)
	// Output:
	// Hello Ann! Hello Bob!
	// -- osprey -- OSPREY <nil>
}
