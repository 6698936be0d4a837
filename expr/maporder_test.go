package expr

import (
	"testing"

	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/stretchr/testify/require"
)

// TestMapOrder checks that a map the user wrote keeps its keys in the order
// written through every surface of the evaluator. Kestra reads YAML and JSON
// into Jackson's LinkedHashMap, so `toJson` (JsonFilter writes the map as it
// iterates), `keys` (KeysFilter returns keySet()), `values`, a for loop
// (Pebble's ForNode walks entrySet()) and `fromJson` (JacksonMapper into
// Object.class) all see that order. A map built by Osprey itself (a Go map,
// here `plain`) has no order and reads with its keys sorted.
func TestMapOrder(t *testing.T) {
	t.Parallel()
	yamlMap := ordered.New(3) // what flow YAML `{zeta: 1, alpha: {y: 2, x: 3}, mid: [..]}` decodes to
	inner := ordered.New(2)
	inner.Set("y", 2)
	inner.Set("x", 3)
	yamlMap.Set("zeta", 1)
	yamlMap.Set("alpha", inner)
	yamlMap.Set("mid", []any{"m"})
	scope := &Scope{Strict: true, Vars: map[string]any{
		"vars":  yamlMap,
		"plain": map[string]any{"b": 1, "a": 2},
		"text":  `{"b":1,"a":{"d":true,"c":null},"list":[{"z":1,"y":2}]}`,
		"yml":   "b: 1\na:\n  d: x\n  c: 2.5\n",
	}}
	tests := []struct {
		name, tmpl, want string
	}{
		{"toJson of a YAML map", `{{ vars | toJson }}`, `{"zeta":1,"alpha":{"y":2,"x":3},"mid":["m"]}`},
		{"printing a YAML map", `{{ vars.alpha }}`, `{"y":2,"x":3}`},
		{"keys", `{{ vars | keys }}`, `["zeta","alpha","mid"]`},
		{"keySet", `{{ vars.keySet() }}`, `["zeta","alpha","mid"]`},
		{"values", `{{ vars.alpha | values }}`, `[2,3]`},
		{"first and last", `{{ vars.alpha | first }}{{ vars.alpha | last }}`, `23`},
		{"for over entries", `{% for e in vars %}{{ e.key }};{% endfor %}`, `zeta;alpha;mid;`},
		{"string concatenation", `{{ "" ~ vars.alpha }}`, `{y=2, x=3}`},
		{"fromJson round trip", `{{ fromJson(text) | toJson }}`, `{"b":1,"a":{"d":true,"c":null},"list":[{"z":1,"y":2}]}`},
		{"json function", `{{ json(text) | keys }}`, `["b","a","list"]`},
		{"map literal", `{{ {"b": 1, "a": 2, "c": {"z": 0, "y": 1}} | toJson }}`, `{"b":1,"a":2,"c":{"z":0,"y":1}}`},
		{"merge keeps the first map's places", `{{ {"b": 1, "a": 2} | merge({"c": 3, "a": 4}) | toJson }}`, `{"b":1,"a":4,"c":3}`},
		{"replace pairs in order", `{{ "ab" | replace({"a": "b", "b": "c"}) }}`, `cc`},
		{"member access", `{{ vars.alpha.x }} {{ vars['zeta'] }}`, `3 1`},
		{"length and truthiness", `{{ vars | length }} {{ vars ? 'y' : 'n' }} {{ {} ? 'y' : 'n' }}`, `3 y n`},
		{"is map, is empty", `{{ vars is map }} {{ {} is empty }}`, `true true`},
		{"contains a key", `{{ vars contains 'mid' }}`, `true`},
		{"default keeps the map", `{{ vars.alpha | default({}) | toJson }}`, `{"y":2,"x":3}`},
		{"equality ignores order, as Map.equals", `{{ {"a": 1, "b": 2} == {"b": 2, "a": 1} }} {{ plain == {"a": 2, "b": 1} }}`, `true true`},
		{"a Go map stays sorted", `{{ plain | toJson }} {{ plain | keys }}`, `{"a":2,"b":1} ["a","b"]`},
		{"yaml filter", `{{ {"zeta": 1, "alpha": {"q": 2, "p": 3}} | yaml }}`, "zeta: 1\nalpha:\n  q: 2\n  p: 3\n"},
		{"fromYaml", `{{ fromYaml(yml) | toJson }}`, `{"b":1,"a":{"d":"x","c":2.5}}`},
		// gojq knows only Go maps: jq's results come back with sorted keys.
		{"jq sorts", `{{ {"b": 1, "a": 2} | jq('.') | first | toJson }}`, `{"a":2,"b":1}`},
	}
	e := testEngine()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := e.Render(t.Context(), tt.tmpl, scope)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestRenderValueKeepsOrder: rendering a task's properties (Kestra's
// render(Map)) keeps the order of a user's map, keys rendered in place.
func TestRenderValueKeepsOrder(t *testing.T) {
	t.Parallel()
	m := ordered.New(3)
	m.Set("z", "{{ 1 + 1 }}")
	m.Set("{{ 'k' }}", []any{"x"})
	m.Set("a", ordered.New(0))
	got, err := testEngine().RenderValue(t.Context(), m, &Scope{Strict: true})
	require.NoError(t, err)
	out, ok := got.(*ordered.Map)
	require.True(t, ok, "got %T", got)
	require.Equal(t, []string{"z", "k", "a"}, out.Keys())
	v, _ := out.Get("z")
	require.Equal(t, "2", v)
}

// TestRenderTypedMapLiteral: a map literal reaches the caller as an ordered
// map, so a task's output written as `{{ {...} }}` keeps its order.
func TestRenderTypedMapLiteral(t *testing.T) {
	t.Parallel()
	v, err := testEngine().RenderTyped(t.Context(), `{{ {"b": 1, "a": 2} }}`, &Scope{Strict: true})
	require.NoError(t, err)
	m, ok := v.(*ordered.Map)
	require.True(t, ok, "got %T", v)
	require.Equal(t, []string{"b", "a"}, m.Keys())
}
