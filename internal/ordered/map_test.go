package ordered

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Kestra reads JSON and YAML maps into Jackson's LinkedHashMap: keys come
// back in the order written, at every depth, and a repeated key keeps its
// first place with its last value.
func TestDecodeKeepsOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string // re-encoded
	}{
		{"flat", `{"b":1,"a":2,"c":3}`, `{"b":1,"a":2,"c":3}`},
		{"nested", `{"z":{"y":1,"x":[{"q":1,"p":2}]},"a":null}`, `{"z":{"y":1,"x":[{"q":1,"p":2}]},"a":null}`},
		{"repeated key", `{"b":1,"a":2,"b":3}`, `{"b":3,"a":2}`},
		{"spaces", " { \"b\" : [ 1 , 2.5 ] ,\n\"a\":true } ", `{"b":[1,2.5],"a":true}`},
		{"escapes", `{"\u00e9t\u00e9":"l\"a\\b\n","ü":"x"}`, `{"été":"l\"a\\b\n","ü":"x"}`},
		{"empty", `{}`, `{}`},
		{"scalar", `"s"`, `"s"`},
		{"array", `[{"b":1,"a":2},[]]`, `[{"b":1,"a":2},[]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := Decode([]byte(tt.in))
			if err != nil {
				t.Fatalf("Decode(%s): %v", tt.in, err)
			}
			got, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("round trip of %s = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// Numbers decode as Kestra's Long and Double: an integer that fits stays an
// int64, anything with a fraction, an exponent or beyond int64 is a float64.
func TestDecodeNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want any
	}{
		{"1", int64(1)},
		{"-42", int64(-42)},
		{"1.0", 1.0},
		{"1e3", 1000.0},
		{"-0.5E-1", -0.05},
		{"9223372036854775807", int64(math.MaxInt64)},
		{"9223372036854775808", 9223372036854775808.0},
		{"1e400", math.Inf(1)},
	}
	for _, tt := range tests {
		got, err := Decode([]byte(tt.in))
		if err != nil {
			t.Fatalf("Decode(%s): %v", tt.in, err)
		}
		if got != tt.want {
			t.Errorf("Decode(%s) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

// A malformed document is refused with encoding/json's own message.
func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{``, `{`, `{"a"}`, `{"a":1,}`, `[1,]`, `01`, `1.`, `-`, `tru`, `"a`, "\"a\x01\"", `{"a":1} x`, `{a:1}`, `1e`, `[1 2]`} {
		_, err := Decode([]byte(in))
		if err == nil {
			t.Errorf("Decode(%q) = nil error", in)
			continue
		}
		var v any
		if std := json.Unmarshal([]byte(in), &v); std == nil || std.Error() != err.Error() {
			t.Errorf("Decode(%q) error %q, encoding/json says %v", in, err, std)
		}
	}
	deep := strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2)
	if _, err := Decode([]byte(deep)); err == nil {
		t.Error("Decode of a too deep document = nil error")
	}
}

func TestMapSetDeleteKeepPlaces(t *testing.T) {
	t.Parallel()
	var m Map
	m.Set("b", 1)
	m.Set("a", 2)
	m.Set("c", 3)
	m.Set("b", 4) // keeps its place
	m.Delete("a")
	m.Delete("missing")
	if got := strings.Join(m.Keys(), ","); got != "b,c" {
		t.Errorf("keys = %s, want b,c", got)
	}
	if v, ok := m.Get("b"); !ok || v != 4 {
		t.Errorf("Get(b) = %v, %v", v, ok)
	}
	var keys []string
	for k := range m.All() {
		keys = append(keys, k)
	}
	if strings.Join(keys, ",") != "b,c" {
		t.Errorf("All keys = %v", keys)
	}
	c := m.Clone()
	c.Set("z", 0)
	if m.Len() != 2 || c.Len() != 3 {
		t.Errorf("Clone shares entries: %d, %d", m.Len(), c.Len())
	}
	var nilMap *Map
	if nilMap.Len() != 0 || nilMap.Keys() != nil {
		t.Error("a nil Map does not read as empty")
	}
	if b, _ := json.Marshal(nilMap); string(b) != "null" {
		t.Errorf("nil Map marshals as %s", b)
	}
}

func TestFromMapSortsAndPlainUndoes(t *testing.T) {
	t.Parallel()
	m := FromMap(map[string]any{"b": 1, "a": map[string]any{"y": 1}, "c": 3})
	if got := strings.Join(m.Keys(), ","); got != "a,b,c" {
		t.Errorf("FromMap keys = %s, want a,b,c", got)
	}
	inner := New(1)
	inner.Set("k", []any{New(0)})
	outer := map[string]any{"x": inner, "y": []any{1}}
	want := map[string]any{"x": map[string]any{"k": []any{map[string]any{}}}, "y": []any{1}}
	if got := Plain(outer); !reflect.DeepEqual(got, want) {
		t.Errorf("Plain = %#v, want %#v", got, want)
	}
	untouched := map[string]any{"a": []any{1, "x"}}
	if got := Plain(untouched); reflect.ValueOf(got).Pointer() != reflect.ValueOf(untouched).Pointer() {
		t.Error("Plain copied a map that holds no ordered map")
	}
	if _, ok := outer["x"].(*Map); !ok {
		t.Error("Plain changed its input")
	}
	if p, ok := AsMap(inner); !ok || len(p) != 1 {
		t.Errorf("AsMap(*Map) = %v, %v", p, ok)
	}
	if _, ok := AsMap("x"); ok {
		t.Error("AsMap of a string is a map")
	}
}

func TestUnmarshalInStruct(t *testing.T) {
	t.Parallel()
	var s struct {
		Values *Map `json:"values"`
	}
	if err := json.Unmarshal([]byte(`{"values":{"b":{"d":1,"c":2},"a":[1]}}`), &s); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(s)
	if string(b) != `{"values":{"b":{"d":1,"c":2},"a":[1]}}` {
		t.Errorf("struct round trip = %s", b)
	}
	if err := json.Unmarshal([]byte(`{"values":[1]}`), &s); err == nil {
		t.Error("an array read into a Map gave no error")
	}
}

// MarshalJSON writes what encoding/json writes for the same values as Go
// maps, byte for byte, so the store and the API see no other difference.
func TestMarshalMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	values := []any{
		nil, true, false, 0, -7, int64(math.MaxInt64), 1.5, math.Copysign(0, -1), 1e-7, 1e21, 123456789.125, 1e20, 5e-324,
		"", "plain", `q"uote\back`, "<html>&amp;", "tab\tnew\nline\x01", "été 😀", "bad \xff utf8", "\u2028",
		[]any{}, []any(nil), []any{1, "a", nil}, map[string]any{"b": 1, "a": []any{2}}, int32(3), []string{"x"},
	}
	for _, v := range values {
		m := New(1)
		m.Set("k", v)
		got, err := json.Marshal(m)
		require.NoError(t, err)
		want, err := json.Marshal(map[string]any{"k": v})
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%#v", v)
	}
	m := New(1)
	m.Set("k", math.NaN())
	_, err := json.Marshal(m)
	require.Error(t, err, "NaN has no JSON form")
}
