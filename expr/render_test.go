package expr

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var fixedNow = time.Date(2024, 12, 20, 10, 30, 15, 123456000, time.UTC)

func testEngine() *Engine {
	return New(Options{Now: func() time.Time { return fixedNow }})
}

func testScope() *Scope {
	return &Scope{
		Strict: true,
		Vars: map[string]any{
			"flow":      map[string]any{"id": "hello", "namespace": "company.team"},
			"execution": map[string]any{"id": "exec1", "startDate": "2024-12-20T10:00:00.5Z"},
			"task":      map[string]any{"id": "t1", "type": "io.kestra.plugin.core.log.Log"},
			"taskrun":   map[string]any{"id": "tr1", "value": `{"key":"k1","value":"v1"}`, "attemptsCount": 3},
			"parents": []any{
				map[string]any{"taskrun": map[string]any{"value": "a"}},
				map[string]any{"taskrun": map[string]any{"value": "b"}},
			},
			"inputs": map[string]any{"name": "world", "count": 3, "ratio": 1.5, "empty": "", "nothing": nil,
				"list": []any{3, 1, 2}, "from-parent": "p"},
			"outputs": map[string]any{
				"t":          map[string]any{"value": "v"},
				"1-1_return": map[string]any{"a": map[string]any{"value": "A"}},
				"waitfor":    map[string]any{"iterationCount": 2},
				"only":       map[string]any{"value": nil},
			},
			"vars":    map[string]any{"first": "1", "second": "{{ vars.first }}", "third": "{{ vars.second }}"},
			"labels":  map[string]any{"key1": "value1", "system": map[string]any{"correlationId": "c"}},
			"envs":    map[string]any{"test1": "true"},
			"m":       map[string]any{"b": 2, "a": 1},
			"started": time.Date(2024, 12, 20, 10, 0, 0, 500_000_000, time.UTC),
		},
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, tmpl, want string
	}{
		// Text, printing and Java number semantics.
		{"plain text", "hello", "hello"},
		{"variable", "{{ flow.id }}", "hello"},
		{"no spaces", "{{task.id}}", "t1"},
		{"subscript with dash", "{{ outputs['1-1_return'].a.value }}", "A"},
		{"dynamic subscript", "{{ outputs['1-1_return'][parents[0].taskrun.value == 'a' ? 'a' : 'x'].value }}", "A"},
		{"input with dash", "{{ inputs['from-parent'] }}", "p"},
		{"list index", "{{ parents[1].taskrun.value }}", "b"},
		{"integer add", "{{ outputs.waitfor.iterationCount + 1 }}", "3"},
		{"int plus double", "{{ 1 + 1.0 }}", "2.0"},
		{"integer division", "{{ 7 / 2 }}", "3"},
		{"double division", "{{ 7 / 2.0 }}", "3.5"},
		{"modulo", "{{ 7 % 3 }}", "1"},
		{"precedence", "{{ 1 + 2 * 3 }}", "7"},
		{"unary minus", "{{ -inputs.count }}", "-3"},
		{"big double", "{{ 10000000.0 }}", "1.0E7"},
		{"small double", "{{ 0.0001 }}", "1.0E-4"},
		{"boolean", "{{ true }}", "true"},
		{"null prints empty", "[{{ null }}][{{ inputs.nothing }}]", "[][]"},
		{"map prints JSON", "{{ m }}", `{"a":1,"b":2}`},
		{"list prints JSON", "{{ [1, 'a', 2.5] }}", `[1,"a",2.5]`},
		{"map literal", "{{ {'k': 'v'}.k }}", "v"},
		{"string plus", "{{ 'a' + 1 }}", "a1"},
		{"concat", "{{ 'a' ~ 1 ~ true }}", "a1true"},
		{"concat map like Java", "{{ '' ~ m }}", "{a=1, b=2}"},
		{"interpolation", `{{ "hi #{inputs.name | upper}!" }}`, "hi WORLD!"},
		{"escaped quote", `{{ 'it\'s' }}`, "it's"},
		// Comparisons and logic.
		{"equals string", "{{ inputs.name == 'world' }}", "true"},
		{"equals keyword", "{{ inputs.name equals 'world' }}", "true"},
		{"numeric equality across types", "{{ 1 == 1.0 }}", "true"},
		{"string vs number", "{{ '6' == 6 }}", "false"},
		{"not equals", "{{ inputs.name != 'x' }}", "true"},
		{"and or not", "{{ true and not false or false }}", "true"},
		{"comparison", "{{ inputs.count > 2 and inputs.ratio <= 1.5 }}", "true"},
		{"in list", "{{ 2 in inputs.list }}", "true"},
		{"not in", "{{ 5 not in inputs.list }}", "true"},
		{"in compares string forms", "{{ '2' in inputs.list }}", "true"},
		{"in map keys and values", "{{ 'a' in m and 2 in m }}", "true"},
		{"string comparison", "{{ 'b' > 'a' }}", "true"},
		{"contains", "{{ inputs.list contains 1 }}", "true"},
		{"contains string", "{{ 'hello' contains 'ell' }}", "true"},
		{"ternary lazily skips undefined branch", "{{ taskrun.attemptsCount == 3 ? 'ok' : ko }}", "ok"},
		{"range operator", "{{ 1..3 }}", "[1,2,3]"},
		// Null and undefined handling.
		{"coalesce undefined", "{{ outputs.missing.value ?? 'fallback' }}", "fallback"},
		{"coalesce null", "{{ outputs.only.value ?? 'MISSING' }}", "MISSING"},
		{"coalesce chain", "{{ outputs.default.value ?? outputs['1-1_return'].a.value }}", "A"},
		{"coalesce defined", "{{ inputs.name ?? 'x' }}", "world"},
		{"undefined only", "{{ inputs.nothing ??? 'x' }}", ""},
		{"is defined", "{{ inputs.crash is defined }}", "false"},
		{"is defined true", "{{ inputs.name is defined }}", "true"},
		{"is not defined", "{{ inputs.crash is not defined }}", "true"},
		{"is null", "{{ inputs.nothing is null }}", "true"},
		{"is empty", "{{ inputs.empty is empty }}", "true"},
		{"is even", "{{ 4 is even }}", "true"},
		{"is odd", "{{ 4 is odd }}", "false"},
		{"is iterable", "{{ inputs.list is iterable }}", "true"},
		{"is map", "{{ m is map }}", "true"},
		{"is json", "{{ taskrun.value is json }}", "true"},
		{"is not json", "{{ 'value 1' is json }}", "false"},
		{"map is json", "{{ m is json }}", "true"},
		{"default on undefined", "{{ inputs.crash | default('d') }}", "d"},
		{"default on empty", "{{ inputs.empty | default('d') }}", "d"},
		{"default keeps value", "{{ inputs.name | default('d') }}", "world"},
		// Tags.
		{"if", "{% if inputs.count > 2 %}big{% else %}small{% endif %}", "big"},
		{"elseif", "{% if false %}a{% elseif inputs.name == 'world' %}b{% else %}c{% endif %}", "b"},
		{"for with loop", "{% for x in inputs.list %}{{ loop.index }}:{{ x }}{% if not loop.last %},{% endif %}{% endfor %}", "0:3,1:1,2:2"},
		{"for over map", "{% for e in m %}{{ e.key }}={{ e.value }};{% endfor %}", "a=1;b=2;"},
		{"for else", "{% for x in [] %}x{% else %}none{% endfor %}", "none"},
		{"for length", "{% for x in range(1, 3) %}{{ loop.length }}{% endfor %}", "333"},
		{"set", "{% set n = inputs.count * 2 %}{{ n }}", "6"},
		{"set in a loop is scoped to the loop", "{% set n = 0 %}{% for i in [1, 2, 3] %}{% set n = n + i %}{% endfor %}{{ n }}", "0"},
		{"set in a loop survives iterations", "{% for i in [1, 2, 3] %}{% set s = (s ?? 0) + i %}{{ s }}{% endfor %}", "136"},
		{"raw", "{% raw %}{{ not rendered }}{% endraw %}", "{{ not rendered }}"},
		{"verbatim", "{% verbatim %}{{ x }}{% endverbatim %}", "{{ x }}"},
		{"comment", "a{# hidden {{ x }} #}b{{ '' }}", "ab"},
		{"whitespace control", "a  {{- 'b' -}}  \n c", "abc"},
		{"whitespace control on tags", "{%- for log in [1, 2] -%}\n  - {{ log }}\n{%- endfor -%}", "- 1- 2"},
		{"no newline trimming", "{{ 'a' }}\nb", "a\nb"},
		// Functions.
		{"range", "{{ range(0, 6, 2) }}", "[0,2,4,6]"},
		{"json function", `{{ json('{"a": [1, 2.5]}').a[1] }}`, "2.5"},
		{"fromJson", `{{ fromJson('{"secretKey": "x"}').secretKey }}`, "x"},
		{"max", "{{ max(1, 5, 3) }}", "5"},
		{"min", "{{ min(4, 2.5, 3) }}", "2.5"},
		{"render recursive", "{{ render(vars.third) }}", "1"},
		{"render not recursive", "{{ render(vars.third, recursive=false) }}", "{{ vars.first }}"},
		{"renderOnce", "{{ renderOnce(vars.third) }}", "{{ vars.first }}"},
		{"now", "{{ now() }}", "2024-12-20T10:30:15.123456Z"},
		{"now with format and zone", "{{ now(format='HH:mm', timeZone='Europe/Paris') }}", "11:30"},
		{"replace in a map", "{{ {'a': 'x-y', 'b': ['-']} | replace({'-': '+'}) }}", `{"a":"x+y","b":["+"]}`},
		{"escapeChar double", `{{ 'say "hi"' | escapeChar('double') }}`, `say \"hi\"`},
		{"escapeChar shell", `{{ "it's" | escapeChar('shell') }}`, `it'\''s`},
		{"randomInt equal bounds", "{{ randomInt(4, 4) }}", "4"},
		{"now formatted", "{{ now() | date('yyyy-MM-dd') }}", "2024-12-20"},
		{"isWeekend", "{{ isWeekend('2026-03-07T10:00:00Z') }} {{ isWeekend(now()) }}", "true false"},
		{"isPublicHoliday", "{{ isPublicHoliday('2026-07-14T11:00:00+02:00', 'FR') }} {{ isPublicHoliday('2026-01-06T09:00:00+01:00', 'DE', 'DE-BY') }} {{ isPublicHoliday('2026-07-15', 'FR') }}", "true true false"},
		{"isPublicHoliday outside rickar/cal", "{{ isPublicHoliday('2026-05-06', 'JP') }} {{ isPublicHoliday('2026-08-17T09:00:00+09:00', 'KR') }} {{ isPublicHoliday('2026-08-10', 'SG') }}", "true true true"},
		{"a list of announced dates in place of a calendar", "{{ '2027-02-08T10:00:00+09:00' | date('yyyy-MM-dd') in ['2027-02-06', '2027-02-08'] }}", "true"},
		{"isDayWeekInMonth", "{{ isDayWeekInMonth('2026-03-28T08:00:00Z', 'SATURDAY', 'LAST') }}", "true"},
		{"dayOfWeek", "{{ dayOfWeek('2026-03-07T10:00:00Z') }}", "SATURDAY"},
		{"day, month and hour", "{{ dayOfMonth('2026-03-07T23:30:00-05:00') }} {{ monthOfYear('2026-03-07T23:30:00-05:00') + 1 }} {{ hourOfDay('2026-03-07T23:30:00-05:00') }}", "7 4 23"},
		// Filters.
		{"upper", "{{ inputs.name | upper }}", "WORLD"},
		{"lower", "{{ 'ABC' | lower }}", "abc"},
		{"title", "{{ 'hello bIG world' | title }}", "Hello BIG World"},
		{"capitalize", "{{ 'hello world' | capitalize }}", "Hello world"},
		{"trim", "{{ '  x  ' | trim }}", "x"},
		{"replace map", "{{ 'I like %this%' | replace({'%this%': 'apples'}) }}", "I like apples"},
		{"replace regexp", "{{ 'a1b22' | replace({'[0-9]+': '#'}, regexp=true) }}", "a#b#"},
		{"split", "{{ 'a,b,,c,,' | split(',') }}", `["a","b","","c"]`},
		{"split limit", "{{ 'a,b,c' | split(',', 2) }}", `["a","b,c"]`},
		{"split regexp", "{{ 'a1b22c' | split('[0-9]+') }}", `["a","b","c"]`},
		{"split without match", "{{ 'abc' | split(',') }}", `["abc"]`},
		{"join", "{{ ['a', 'b'] | join('-') }}", "a-b"},
		{"keys", "{{ m | keys }}", `["a","b"]`},
		{"values", "{{ m | values }}", "[1,2]"},
		{"first", "{{ inputs.list | first }}", "3"},
		{"last", "{{ 'abc' | last }}", "c"},
		{"length", "{{ inputs.list | length }}", "3"},
		{"length of string", "{{ 'héllo' | length }}", "5"},
		{"slugify", "{{ 'Hello World & Co!' | slugify }}", "hello-world-co"},
		{"base64", "{{ 'hello' | base64encode }} {{ 'aGVsbG8=' | base64decode }}", "aGVsbG8= hello"},
		{"sha256", "{{ 'a' | sha256 }}", "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"},
		{"sha1", "{{ 'a' | sha1 }}", "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"},
		{"md5", "{{ 'a' | md5 }}", "0cc175b9c0f1b6a831c399e269772661"},
		{"sha512 length", "{{ 'a' | sha512 | length }}", "128"},
		{"urlencode", "{{ 'a b&c' | urlencode }}", "a+b%26c"},
		{"urldecode", "{{ 'a+b%26c' | urldecode }}", "a b&c"},
		{"toJson", "{{ inputs.name | toJson }}", `"world"`},
		{"json filter", "{{ {'a': [1, true, null]} | json }}", `{"a":[1,true,null]}`},
		{"jq on JSON string", "{{ taskrun.value | jq('.value') }}", `["v1"]`},
		{"jq first", "{{ outputs | jq('.t.value') | first }}", "v"},
		{"jq many", "{{ [1, 2, 3] | jq('.[] | . * 2') }}", "[2,4,6]"},
		{"yaml", "{{ {'a': 1} | yaml }}", "a: 1\n"},
		{"indent", "{{ 'a\nb' | indent(2) }}", "a\n  b"},
		{"nindent", "{{ 'a\nb' | nindent(2) }}", "\n  a\n  b"},
		{"indent keeps trailing line break padded", "{{ 'a\n' | indent(2, prefix='-') }}", "a\n--"},
		{"yaml nested", "{{ {'k': [1, 'b']} | yaml }}", "k:\n  - 1\n  - b\n"},
		{"yaml null", "{{ null | yaml }}", "null"},
		{"number int", "{{ '12' | number + 1 }}", "13"},
		{"number float", "{{ '1.5' | number }}", "1.5"},
		{"number typed", "{{ '12' | number('FLOAT') }}", "12.0"},
		{"numberFormat", "{{ 1234.5678 | numberFormat('#,##0.00') }}", "1,234.57"},
		{"numberformat half even", "{{ 2.5 | numberformat('0') }}", "2"},
		{"abs", "{{ -5 | abs }} {{ -1.5 | abs }}", "5 1.5"},
		{"startsWith", "{{ 'kestra' | startsWith('kes') }}", "true"},
		{"endsWith", "{{ 'kestra' | endsWith('x') }}", "false"},
		{"chunk", "{{ [1, 2, 3, 4, 5] | chunk(2) }}", "[[1,2],[3,4],[5]]"},
		{"distinct", "{{ [1, 2, 1, 3, 2] | distinct }}", "[1,2,3]"},
		{"flatten", "{{ [[1, 2], [3], 4] | flatten }}", "[1,2,3,4]"},
		{"escapeChar", `{{ "it's" | escapeChar('single') }}`, `it\'s`},
		{"string", "{{ 12 | string ~ 'x' }}", "12x"},
		{"string of double", "{{ 1.5 | string }}", "1.5"},
		{"substringBefore", "{{ 'a.b.c' | substringBefore('.') }}", "a"},
		{"substringBeforeLast", "{{ 'a.b.c' | substringBeforeLast('.') }}", "a.b"},
		{"substringAfter", "{{ 'a.b.c' | substringAfter('.') }}", "b.c"},
		{"substringAfterLast", "{{ 'a.b.c' | substringAfterLast('.') }}", "c"},
		{"merge maps", "{{ {'a': 1} | merge({'b': 2}) }}", `{"a":1,"b":2}`},
		{"merge lists", "{{ [1] | merge([2]) }}", "[1,2]"},
		{"sort", "{{ inputs.list | sort }}", "[1,2,3]"},
		{"rsort", "{{ inputs.list | rsort }}", "[3,2,1]"},
		{"reverse", "{{ 'abc' | reverse }}", "cba"},
		{"slice", "{{ [1, 2, 3, 4] | slice(1, 3) }}", "[2,3]"},
		{"abbreviate", "{{ 'this is a long sentence' | abbreviate(7) }}", "this..."},
		{"abbreviate at exact width", "{{ 'hello' | abbreviate(5) }} {{ 'hello' | abbreviate(6) }}", "he... hello"},
		{"filter chain", "{{ ' Hello ' | trim | lower | upper }}", "HELLO"},
		{"filter named argument", "{{ '2024-12-20T10:00:00Z' | date(format='yyyy/MM/dd HH:mm', timeZone='Europe/Paris') }}", "2024/12/20 11:00"},
		// Dates.
		{"date default iso", "{{ execution.startDate | date }}", "2024-12-20T10:00:00.500000Z"},
		{"date pattern", "{{ execution.startDate | date(\"EEEE d MMMM yyyy, hh:mm a\") }}", "Friday 20 December 2024, 10:00 AM"},
		{"date offset", "{{ '2024-12-20T10:00:00Z' | date('yyyy-MM-dd HH:mm XXX', timeZone='America/New_York') }}", "2024-12-20 05:00 -05:00"},
		{"date existingFormat", "{{ '20/12/2024' | date('yyyy-MM-dd', existingFormat='dd/MM/yyyy') }}", "2024-12-20"},
		{"date from epoch", "{{ 0 | date('yyyy-MM-dd HH:mm:ss') }}", "1970-01-01 00:00:00"},
		{"date named format", "{{ execution.startDate | date('sql_seq') }}", "2024-12-20 10:00:00"},
		{"date iso_instant", "{{ execution.startDate | date('iso_instant') }}", "2024-12-20T10:00:00.5Z"},
		{"dateAdd", "{{ '2024-01-31T00:00:00Z' | dateAdd(1, 'MONTHS') }}", "2024-02-29T00:00:00.000000Z"},
		{"dateAdd hours formatted", "{{ '2024-01-31T00:00:00Z' | dateAdd(-2, 'HOURS', 'yyyy-MM-dd HH') }}", "2024-01-30 22"},
		{"timestamp", "{{ '2024-12-20T10:00:00Z' | timestamp }}", "1734688800"},
		{"timestampMilli", "{{ execution.startDate | timestampMilli }}", "1734688800500"},
		{"timestampMicro", "{{ execution.startDate | timestampMicro }}", "1734688800500000"},
		{"timestampNano", "{{ execution.startDate | timestampNano }}", "1734688800500000000"},
		{"date value prints as an Instant", "{{ started }}", "2024-12-20T10:00:00.500Z"},
		{"docs: existingFormat", `{{ "July 24, 2001" | date("yyyy-MM-dd", existingFormat="MMMM dd, yyyy") }}`, "2001-07-24"},
		{"docs: named formats", `{{ "2001-July-4" | date(existingFormat="yyyy-MMMM-d", format="yyyy/MMMM/d") }}`, "2001/July/4"},
		{"docs: now in UTC", `{{ now() | date("yyyy-MM-dd'T'HH:mm:ssX", timeZone="UTC") }}`, "2024-12-20T10:30:15Z"},
		{"docs: dateAdd on now", "{{ now() | dateAdd(-1, 'DAYS') }}", "2024-12-19T10:30:15.123456Z"},
		{"timestamp with zone", "{{ '2024-12-20 10:00:00' | timestamp(existingFormat='yyyy-MM-dd HH:mm:ss', timeZone='Europe/Paris') }}", "1734685200"},
		{"yaml function", "{{ yaml('a: [1, x]').a[1] }}", "x"},
		{"printContext", "{{ printContext() | length > 10 }}", "true"},
		{"uuid shape", "{{ uuid() | length }} {{ uuid() is empty }}", "36 false"},
		{"id shape", "{{ id() | length }}", "22"},
		{"randomInt bounds", "{% for i in range(1, 50) %}{% if randomInt(2, 4) not in [2, 3] %}bad{% endif %}{% endfor %}ok", "ok"},
		// Java-ish method calls.
		{"method", "{{ inputs.name.toUpperCase() }} {{ inputs.list.size() }}", "WORLD 3"},
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

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, tmpl, msg string
		line, col       int
		undefined       bool
	}{
		{"unknown root variable", "{{missingVar}}", `variable "missingVar" is not defined`, 1, 3, true},
		{"unknown attribute", "x\n  {{ inputs.nope }}", `"inputs.nope" is not defined`, 2, 13, true},
		{"attribute of null", "{{ inputs.nothing.x }}", `attribute "x" of null`, 1, 19, true},
		{"unknown function", "{{ nope() }}", `function or macro "nope" does not exist`, 1, 4, false},
		{"unknown filter", "{{ 1 | nope }}", `filter "nope" does not exist`, 1, 8, false},
		{"bad arithmetic", "{{ 'a' * 2 }}", "invalid operands", 1, 8, false},
		{"division by zero", "{{ 1 / 0 }}", "division by zero", 1, 6, false},
		{"ternary evaluates chosen branch", "{{ false ? 'ok' : ko }}", `variable "ko" is not defined`, 1, 19, true},
		{"calendar function without a date", "{{ dayOfWeek() }}", "dayOfWeek() needs a date", 1, 4, false},
		{"holiday without a country", "{{ isPublicHoliday('2026-07-14') }}", "needs a country", 1, 4, false},
	}
	e := testEngine()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.Render(t.Context(), tc.tmpl, testScope())
			require.Error(t, err)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			require.Contains(t, pe.Msg, tc.msg)
			require.Equal(t, tc.line, pe.Line, "line")
			require.Equal(t, tc.col, pe.Column, "column")
			require.Equal(t, tc.undefined, errors.Is(err, ErrUndefined))
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, tmpl, msg string
		line, col       int
	}{
		{"unclosed print", "hello {{ name", `unclosed "{{"`, 1, 14},
		{"unclosed if", "{% if true %}x", "expected {% endif %}", 1, 15},
		{"unknown tag", "a\n{% cache x %}", `unknown tag "cache"`, 2, 4},
		{"bad bracket", "{{ a[1 }}", `unclosed "["`, 1, 8},
		{"unclosed string", "{{ 'abc }}", "unclosed string", 1, 4},
		{"stray endfor", "{% endfor %}", `unexpected tag "endfor"`, 1, 4},
		{"missing operand", "{{ 1 + }}", `unexpected "}}"`, 1, 8},
	}
	e := testEngine()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := e.Validate(tc.tmpl)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			require.Contains(t, pe.Msg, tc.msg)
			require.Equal(t, tc.line, pe.Line, "line")
			require.Equal(t, tc.col, pe.Column, "column")
		})
	}
	require.NoError(t, e.Validate("{{ secret('X') | upper }} {% for x in y %}{{ x }}{% endfor %}"))
}

func TestRenderTyped(t *testing.T) {
	t.Parallel()
	e := testEngine()
	cases := []struct {
		tmpl string
		want any
	}{
		{"{{ inputs.count }}", int64(3)},
		{"{{ inputs.ratio * 2 }}", 3.0},
		{"{{ inputs.list }}", []any{int64(3), int64(1), int64(2)}},
		{"{{ m }}", map[string]any{"a": int64(1), "b": int64(2)}},
		{"{{ true }}", true},
		{"{{ inputs.nothing }}", nil},
		{"n={{ inputs.count }}", "n=3"},
		{"plain", "plain"},
	}
	for _, tc := range cases {
		got, err := e.RenderTyped(t.Context(), tc.tmpl, testScope())
		require.NoError(t, err, tc.tmpl)
		require.Equal(t, tc.want, got, tc.tmpl)
	}
}

func TestRenderValue(t *testing.T) {
	t.Parallel()
	e := testEngine()
	got, err := e.RenderValue(t.Context(), map[string]any{
		"{{ flow.id }}": []any{"{{ inputs.name }}", 1, map[string]any{"k": "{{ task.id }}"}},
		"plain":         "x",
	}, testScope())
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"hello": []any{"world", 1, map[string]any{"k": "t1"}},
		"plain": "x",
	}, got)
}

func TestScopeFuncs(t *testing.T) {
	t.Parallel()
	e := testEngine()
	s := testScope()
	s.Funcs = map[string]Func{
		"secret": func(_ context.Context, a Args) (any, error) {
			name, _ := a.Get(0, "key")
			if name == "my_secret" {
				return `{"secretKey": "s3"}`, nil
			}
			return nil, errors.New("secret not found")
		},
		"errorLogs": func(context.Context, Args) (any, error) {
			return []map[string]any{{"taskId": "t1", "message": "boom"}, {"taskId": "t2", "message": "bang"}}, nil
		},
	}
	got, err := e.Render(t.Context(), "{{ json(secret('my_secret')).secretKey }}", s)
	require.NoError(t, err)
	require.Equal(t, "s3", got)

	got, err = e.Render(t.Context(), "{%- for log in errorLogs() -%}\n- task: {{ log.taskId }}, message: {{ log.message }}\n{%- endfor -%}", s)
	require.NoError(t, err)
	require.Equal(t, "- task: t1, message: boom- task: t2, message: bang", got)

	_, err = e.Render(t.Context(), "{{ secret('other') }}", s)
	require.ErrorContains(t, err, "secret not found")
}

func TestCurrentEachOutput(t *testing.T) {
	t.Parallel()
	s := &Scope{Strict: true, Vars: map[string]any{
		"parents": []any{
			map[string]any{"taskrun": map[string]any{"value": "b"}}, // direct parent
			map[string]any{"taskrun": map[string]any{"value": "a"}}, // outermost
		},
		"taskrun": map[string]any{"value": "c"},
		"outputs": map[string]any{"1-1-1_output": map[string]any{
			"a": map[string]any{"b": map[string]any{"c": map[string]any{"value": "a-b-c"}}},
		}},
	}}
	got, err := testEngine().Render(t.Context(), "return-{{ currentEachOutput(outputs['1-1-1_output']).value }}", s)
	require.NoError(t, err)
	require.Equal(t, "return-a-b-c", got)
}

func TestNonStrict(t *testing.T) {
	t.Parallel()
	got, err := testEngine().Render(t.Context(), "[{{ missing }}][{{ inputs.nope.deeper }}]", &Scope{Vars: testScope().Vars})
	require.NoError(t, err)
	require.Equal(t, "[][]", got)
}

func TestLimits(t *testing.T) {
	t.Parallel()
	e := New(Options{MaxOutput: 100, MaxRange: 50, MaxSteps: 1000, MaxRenderDepth: 3})
	cases := map[string]string{
		"output":    "{% for i in range(1, 40) %}0123456789{% endfor %}",
		"range":     "{{ range(1, 1000) }}",
		"operator":  "{{ 1..1000 }}",
		"steps":     "{% for i in range(1, 40) %}{% for j in range(1, 40) %}{% endfor %}{% endfor %}",
		"recursion": "{{ render(self) }}",
		"sharing":   "{% set l = [1] %}{% for i in range(1, 40) %}{% set l = [l, l] %}{% if loop.last %}{{ l }}{% endif %}{% endfor %}",
		"equality":  "{% set l = [1] %}{% for i in range(1, 40) %}{% set l = [l, l] %}{% if loop.last %}{{ l == l }}{% endif %}{% endfor %}",
		"doubling":  "{% set s = 'ab' %}{% for i in range(1, 40) %}{% set s = s ~ s %}{% endfor %}",
	}
	s := &Scope{Strict: true, Vars: map[string]any{"self": "{{ render(self) }}"}}
	for name, tmpl := range cases {
		_, err := e.Render(t.Context(), tmpl, s)
		require.ErrorIs(t, err, ErrLimit, name)
	}
}

func TestCacheIsBounded(t *testing.T) {
	t.Parallel()
	e := New(Options{CacheSize: 2})
	for _, s := range []string{"{{ 1 }}", "{{ 2 }}", "{{ 3 }}", "{{ 1 }}"} {
		_, err := e.Render(t.Context(), s, nil)
		require.NoError(t, err)
	}
	require.Equal(t, 2, e.order.Len())
	require.Contains(t, e.cache, "{{ 1 }}")
	require.Contains(t, e.cache, "{{ 3 }}")
}

func TestIsTemplate(t *testing.T) {
	t.Parallel()
	require.True(t, IsTemplate("a {{ b }}"))
	require.True(t, IsTemplate("{% if x %}"))
	require.False(t, IsTemplate("plain { text }"))
}
