package expr

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTags(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, tmpl, want string
	}{
		// {% filter %}: the body's text through the chain.
		{"filter", "{% filter upper %}hi {{ inputs.name }}{% endfilter %}!", "HI WORLD!"},
		{"filter chain", "{% filter upper | lower | title %}hello big world{% endfilter %}", "Hello Big World"},
		{"filter arguments", "{% filter replace({'a': 'o'}) | abbreviate(6) %}banana split{% endfilter %}", "bon..."},
		{"filter trims", "{% filter trim %}  x  {% endfilter %}|", "x|"},
		{"filter nested", "{% filter upper %}a{% filter lower %}B{% endfilter %}c{% endfilter %}", "ABC"},
		{"filter keeps set", "{% filter upper %}{% set v = 'x' %}{% endfilter %}{{ v }}", "x"},
		{"filter in loop", "{% for i in [1, 2] %}{% filter upper %}a{{ i }}{% endfilter %}{% endfor %}", "A1A2"},
		// {% macro %}: defined inline, called as a function.
		{"macro", "{% macro hi(who) %}hi {{ who }}{% endmacro %}{{ hi('bob') }}", "hi bob"},
		{"macro called before defined", "{{ hi('bob') }}{% macro hi(who) %}hi {{ who }}{% endmacro %}", "hi bob"},
		{"macro default", `{% macro p(a, b="-") %}{{ a }}{{ b }}{% endmacro %}{{ p(1) }} {{ p(1, 2) }}`, "1- 12"},
		{"macro named arguments", `{% macro p(a, b="-", c="=") %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ p(c='c', a='a') }}`, "a-c"},
		{"macro missing argument is null", "{% macro p(a, b) %}[{{ a }}][{{ b }}]{% endmacro %}{{ p(1) }}", "[1][]"},
		{"macro result is text", "{% macro two() %}2{% endmacro %}{{ two() ~ two() }} {{ two() | length }}", "22 1"},
		{"macro filters and functions", "{% macro u(s) %}{{ s | upper }}{{ max(1, 3) }}{% endmacro %}{{ u('x') }}", "X3"},
		{"macro set stays inside", "{% set v = 'outer' %}{% macro m() %}{% set v = 'inner' %}{{ v }}{% endmacro %}{{ m() }} {{ v }}", "inner outer"},
		{"macro argument shadows", "{% set a = 'outer' %}{% macro m(a) %}{{ a }}{% endmacro %}{{ m('arg') }}", "arg"},
		{"macro calls macro", "{% macro a(x) %}<{{ b(x) }}>{% endmacro %}{% macro b(x) %}{{ x * 2 }}{% endmacro %}{{ a(21) }}", "<42>"},
		{"macro recursion with an end", "{% macro down(n) %}{{ n }}{% if n > 0 %}{{ down(n - 1) }}{% endif %}{% endmacro %}{{ down(3) }}", "3210"},
		{"macro with loop", "{% macro list(xs) %}{% for x in xs %}{{ x }};{% endfor %}{% endmacro %}{{ list(inputs.list) }}", "3;1;2;"},
		{"macro endmacro with name", "{% macro m() %}x{% endmacro m %}{{ m() }}", "x"},
		{"function wins over macro", "{% macro upper(s) %}macro{% endmacro %}{{ max(1, 2) }}{% macro max(a, b) %}macro{% endmacro %}", "2"},
		{"macro renders nothing where defined", "a{% macro m() %}x{% endmacro %}b", "ab"},
		// {% block %} and block().
		{"block", "[{% block title %}T{{ flow.id }}{% endblock %}]", "[Thello]"},
		{"block again", "{% block t %}x{% endblock %}-{{ block('t') }}-{{ block(\"t\") }}", "x-x-x"},
		{"block before", "{{ block('t') }}{% block t %}y{% endblock t %}", "yy"},
		{"block string name", "{% block 't' %}z{% endblock %}{{ block('t') }}", "zz"},
		{"block sees scope", "{% set v = 1 %}{% block b %}{{ v }}{% endblock %}{% set v = 2 %}{{ block('b') }}", "12"},
		{"block in loop", "{% for i in [1, 2] %}{% block b %}{{ i }}{% endblock %}{% endfor %}", "12"},
		{"block in filter", "{% block b %}q{% endblock %}{% filter upper %}{{ block('b') }}{% endfilter %}", "qQ"},
		{"block in macro", "{% block b %}k{% endblock %}{% macro m() %}{{ block('b') }}{% endmacro %}{{ m() }}", "kk"},
	}
	e := testEngine()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := e.Render(t.Context(), tc.tmpl, testScope())
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestMacroScope checks Pebble's rule: a macro sees only its parameters,
// not the caller's variables.
func TestMacroScope(t *testing.T) {
	t.Parallel()
	e := testEngine()
	_, err := e.Render(t.Context(), "{% macro m() %}{{ flow.id }}{% endmacro %}{{ m() }}", testScope())
	require.ErrorIs(t, err, ErrUndefined)
	require.ErrorContains(t, err, `variable "flow" is not defined`)
	got, err := e.Render(t.Context(), "{% macro m() %}[{{ flow.id }}]{% endmacro %}{{ m() }}", &Scope{Vars: testScope().Vars})
	require.NoError(t, err)
	require.Equal(t, "[]", got, "a lenient scope stays lenient inside a macro")
	got, err = e.Render(t.Context(), "{% macro m(f) %}{{ f.id }}{% endmacro %}{{ m(flow) }}", testScope())
	require.NoError(t, err)
	require.Equal(t, "hello", got, "what the macro needs is passed as an argument")
	// Pebble's own test: _context passed as an argument carries the caller's variables.
	got, err = e.Render(t.Context(), "{% set foo = 'bar' %}{{ test(_context) }}{% macro test(_context) %}{% set foo = 'foo' %}{{ _context.foo }}{{ foo }}{% endmacro %}", testScope())
	require.NoError(t, err)
	require.Equal(t, "barfoo", got)
	got, err = e.Render(t.Context(), "{% macro m(c) %}{{ c.flow.id }}{% endmacro %}{% for i in [1] %}{{ m(_context) }}{{ _context.i }}{% endfor %}", testScope())
	require.NoError(t, err)
	require.Equal(t, "hello1", got)
	_, err = e.Render(t.Context(), "{% macro m() %}{{ _context.flow.id }}{% endmacro %}{{ m() }}", testScope())
	require.ErrorContains(t, err, `variable "_context" is not defined`, "a macro does not see _context unless it is passed")
}

func TestTagErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, tmpl, msg string
		line, col       int
		limit           bool
	}{
		{"unclosed filter", "{% filter upper %}x", "{% filter %} at line 1, column 4 is not closed: expected {% endfilter %}, found end of template", 1, 20, false},
		{"filter closed by endif", "{% filter upper %}x{% endif %}", "expected {% endfilter %}, found {% endif %}", 1, 29, false},
		{"filter without name", "{% filter %}x{% endfilter %}", `expected a filter name, found "%}"`, 1, 11, false},
		{"unknown filter", "a\n{% filter upper | nope %}x{% endfilter %}", `filter "nope" does not exist`, 2, 19, false},
		{"filter argument error", "{% filter date(1) %}x{% endfilter %}", "filter date", 1, 11, false},
		{"unclosed macro", "{% macro m() %}x", "{% macro %} at line 1, column 4 is not closed: expected {% endmacro %}", 1, 17, false},
		{"macro without parentheses", "{% macro m %}x{% endmacro %}", `expected "(" after macro name "m"`, 1, 12, false},
		{"macro parameter not a name", "{% macro m(1) %}x{% endmacro %}", "a parameter must be a name", 1, 11, false},
		{"macro defined twice", "{% macro m() %}{% endmacro %}\n{% macro m() %}{% endmacro %}", `macro "m" is already defined at line 1, column 10`, 2, 10, false},
		{"macro too many arguments", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", `macro "m" takes 1 argument(s), 2 given`, 1, 34, false},
		{"macro unknown named argument", "{% macro m(a) %}{% endmacro %}{{ m(b=1) }}", `macro "m" has no parameter "b" (its parameters: a)`, 1, 34, false},
		{"macro error inside", "{% macro m() %}\n{{ 1 / 0 }}{% endmacro %}{{ m() }}", "division by zero", 2, 6, false},
		{"macro recursion", "{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}", `macro "r" called more than 100 levels deep`, 1, 20, true},
		{"macro fan-out", "{% macro r(n) %}{% if n < 50 %}{{ r(n + 1) }}{{ r(n + 1) }}{% endif %}{% endmacro %}{{ r(0) }}", "more than 10000 loop iterations", 1, 49, true},
		{"unclosed block", "{% block b %}x", "{% block %} at line 1, column 4 is not closed: expected {% endblock %}", 1, 15, false},
		{"block without name", "{% block %}x{% endblock %}", `expected a block name, found "%}"`, 1, 10, false},
		{"unknown block", "{{ block('nope') }}", `block "nope" is not defined`, 1, 4, false},
		{"block name not a string", "{% block b %}{% endblock %}{{ block(1) }}", "block() takes the block's name as a string", 1, 31, false},
		{"block() arguments", "{{ block() }}", "block() takes one argument", 1, 4, false},
		{"block calls itself", "{% block b %}{{ block('b') }}{% endblock %}", `block b called more than 100 levels deep`, 1, 17, true},
		{"include refused", "{% include 'x.peb' %}", `the "include" tag loads another template file, and a Kestra flow has none`, 1, 4, false},
		{"import refused", "{% import 'x.peb' %}", `the "import" tag loads another template file`, 1, 4, false},
		{"extends refused", "{% extends 'x.peb' %}", `the "extends" tag loads another template file`, 1, 4, false},
		{"from refused", "{% from 'x.peb' import m %}", `the "from" tag loads another template file`, 1, 4, false},
	}
	// A small loop budget keeps the fan-out case quick.
	e := New(Options{MaxSteps: 10_000})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.Render(t.Context(), tc.tmpl, testScope())
			var pe *Error
			require.ErrorAs(t, err, &pe)
			require.Contains(t, pe.Msg, tc.msg)
			require.Equal(t, tc.line, pe.Line, "line")
			require.Equal(t, tc.col, pe.Column, "column")
			require.Equal(t, tc.limit, errors.Is(err, ErrLimit), "limit")
		})
	}
}

// TestMacroRecursionIsBoundedInStack renders a macro that recurses without
// end from deep inside nested tags: the call depth stops it with an error.
func TestMacroRecursionIsBoundedInStack(t *testing.T) {
	t.Parallel()
	e := testEngine()
	tmpl := strings.Repeat("{% if true %}", 150) + "{% macro r() %}{% filter upper %}{{ r() }}{% endfilter %}{% endmacro %}{{ r() }}" + strings.Repeat("{% endif %}", 150)
	_, err := e.Render(t.Context(), tmpl, testScope())
	require.ErrorIs(t, err, ErrLimit)
	require.ErrorContains(t, err, `macro "r" called more than 100 levels deep`)
}
