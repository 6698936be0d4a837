package ordered

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// MarshalJSON writes the entries in order. The values Decode and the flow
// parser make (maps, lists, strings, numbers, booleans) are written here in
// one buffer, byte for byte as encoding/json writes them; other values go
// through encoding/json.
func (m *Map) MarshalJSON() ([]byte, error) {
	return appendJSON(make([]byte, 0, 128), m)
}

func appendJSON(b []byte, v any) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case *Map:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '{')
		for i, k := range x.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			if b, err = appendJSON(b, x.vals[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case string:
		return appendString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			break // encoding/json's error
		}
		// encoding/json's format: like ES6, 'e' only for tiny and huge values.
		format := byte('f')
		if a := math.Abs(x); a != 0 && (a < 1e-6 || a >= 1e21) {
			format = 'e'
		}
		b = strconv.AppendFloat(b, x, format, -1, 64)
		if format == 'e' {
			if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
				b[n-2] = b[n-1] // clean up e-09 to e-9
				b = b[:n-1]
			}
		}
		return b, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, raw...), nil
}

// appendString writes s quoted. Printable ASCII needing no escape is copied;
// anything else is quoted by encoding/json (HTML-safe, invalid UTF-8
// replaced), so the bytes are the same either way.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			raw, _ := json.Marshal(s) // a string always encodes
			return append(b, raw...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// UnmarshalJSON reads a JSON object as Decode does, keeping its order.
func (m *Map) UnmarshalJSON(data []byte) error {
	v, err := Decode(data)
	if err != nil {
		return err
	}
	switch x := v.(type) {
	case *Map:
		*m = *x
	case nil:
		*m = Map{}
	default:
		return fmt.Errorf("json: cannot unmarshal %s into an ordered map", jsonKind(v))
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "bool"
	}
	return "number"
}

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

// Decode parses one JSON value: objects become *Map in the order of their
// keys (a repeated key keeps its first place and its last value, as
// Jackson's LinkedHashMap), arrays []any, integers that fit int64 int64 and
// other numbers float64 (Kestra's Long and Double), strings, bools and nil.
// A malformed document gets encoding/json's error, so messages read the
// same as before order was kept.
func Decode(data []byte) (any, error) {
	d := decoder{data: data}
	d.space()
	v, err := d.value(0)
	if err == nil {
		d.space()
		if d.i < len(d.data) {
			err = errors.New("trailing data")
		}
	}
	if err != nil {
		return nil, stdError(data, err)
	}
	return v, nil
}

// stdError returns encoding/json's description of what is wrong in data,
// or own when encoding/json finds nothing wrong.
func stdError(data []byte, own error) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	return fmt.Errorf("json: %w", own)
}

type decoder struct {
	data []byte
	i    int
	// pairs is a stack of the entries of the objects being read: an object
	// is built once its closing brace is reached, with its exact size, so
	// its key slice and map are allocated once each.
	pairs []pair
	// keys and maps are handed out in chunks to the objects read, so that
	// an object costs one allocation (its Go map) rather than three.
	keys []string
	maps []Map
}

type pair struct {
	k string
	v any
}

var errSyntax = errors.New("invalid JSON")

func (d *decoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("exceeded max depth")
	}
	if d.i >= len(d.data) {
		return nil, errSyntax
	}
	switch c := d.data[d.i]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		return d.str()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return nil, errSyntax
}

func (d *decoder) literal(s string) error {
	if !bytes.HasPrefix(d.data[d.i:], []byte(s)) {
		return errSyntax
	}
	d.i += len(s)
	return nil
}

func (d *decoder) object(depth int) (any, error) {
	d.i++ // {
	d.space()
	if d.i < len(d.data) && d.data[d.i] == '}' {
		d.i++
		return &Map{vals: map[string]any{}}, nil
	}
	start := len(d.pairs)
	defer func() { d.pairs = d.pairs[:start] }()
	for {
		d.space()
		if d.i >= len(d.data) || d.data[d.i] != '"' {
			return nil, errSyntax
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.space()
		if d.i >= len(d.data) || d.data[d.i] != ':' {
			return nil, errSyntax
		}
		d.i++
		d.space()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		d.pairs = append(d.pairs, pair{k, v})
		d.space()
		if d.i >= len(d.data) {
			return nil, errSyntax
		}
		switch d.data[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return d.build(d.pairs[start:]), nil
		default:
			return nil, errSyntax
		}
	}
}

// build makes the Map of an object's entries; a repeated key keeps its
// first place and its last value. Its key slice is capped at its length,
// so a later Set copies it rather than write over a neighbour's keys.
func (d *decoder) build(ps []pair) *Map {
	n := len(ps)
	if len(d.keys)+n > cap(d.keys) {
		d.keys = make([]string, 0, min(max(n, 2*cap(d.keys), 8), max(n, 1024)))
	}
	at := len(d.keys)
	d.keys = d.keys[:at+n]
	if len(d.maps) == cap(d.maps) {
		d.maps = make([]Map, 0, min(max(2*cap(d.maps), 2), 64))
	}
	d.maps = d.maps[:len(d.maps)+1]
	m := &d.maps[len(d.maps)-1]
	m.keys = d.keys[at : at : at+n]
	m.vals = make(map[string]any, n)
	for _, p := range ps {
		m.Set(p.k, p.v)
	}
	return m
}

func (d *decoder) array(depth int) (any, error) {
	d.i++ // [
	out := []any{}
	d.space()
	if d.i < len(d.data) && d.data[d.i] == ']' {
		d.i++
		return out, nil
	}
	for {
		d.space()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		d.space()
		if d.i >= len(d.data) {
			return nil, errSyntax
		}
		switch d.data[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return out, nil
		default:
			return nil, errSyntax
		}
	}
}

// str reads a string. Plain ASCII without escapes is sliced directly;
// anything else is handed to encoding/json, which knows escapes, surrogate
// pairs and invalid UTF-8 (replaced by U+FFFD).
func (d *decoder) str() (string, error) {
	start := d.i
	d.i++ // "
	simple := true
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			d.i++
			if simple {
				return string(d.data[start+1 : d.i-1]), nil
			}
			var s string
			if err := json.Unmarshal(d.data[start:d.i], &s); err != nil {
				return "", err
			}
			return s, nil
		case c == '\\':
			simple = false
			d.i += 2
			continue
		case c < 0x20:
			return "", errSyntax
		case c >= utf8.RuneSelf:
			simple = false
		}
		d.i++
	}
	return "", errSyntax
}

func (d *decoder) number() (any, error) {
	start := d.i
	isFloat := false
	if d.data[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	intStart := d.i
	n := digits()
	if n == 0 || (n > 1 && d.data[intStart] == '0') {
		return nil, errSyntax
	}
	if d.i < len(d.data) && d.data[d.i] == '.' {
		isFloat = true
		d.i++
		if digits() == 0 {
			return nil, errSyntax
		}
	}
	if d.i < len(d.data) && (d.data[d.i] == 'e' || d.data[d.i] == 'E') {
		isFloat = true
		d.i++
		if d.i < len(d.data) && (d.data[d.i] == '+' || d.data[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return nil, errSyntax
		}
	}
	s := string(d.data[start:d.i])
	if !isFloat {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
	}
	// Out of float64's range is ±Inf, as json.Number's Float64 gives it.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, err
	}
	return f, nil
}
