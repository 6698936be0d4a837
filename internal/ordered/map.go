// Package ordered holds Map, the string-keyed map Osprey uses for the maps
// users write (flow YAML, JSON read by expressions, map literals): it keeps
// the keys in the order they were first set, as Kestra's Jackson
// (LinkedHashMap) does, so that `toJson`, `keys`, a for loop and the API
// show a map's keys as the user wrote them.
//
// Why our own type rather than github.com/wk8/go-ordered-map/v2 (the
// best-kept library for this): that map keeps order only at its top level
// (its UnmarshalJSON decodes nested objects into plain Go maps), decodes
// numbers as float64 where Kestra has Long and Double, and keeps a linked
// list element per entry. Map is a key slice beside a Go map, so a lookup
// is one map access, the plain map can be handed to code that only reads
// it (Plain), and decoding keeps order at every depth (Decode).
package ordered

import (
	"iter"
	"maps"
	"slices"
)

// Map is a map from string to any that remembers insertion order. Setting a
// key that exists keeps its place, as LinkedHashMap.put does. The zero value
// is an empty map ready to use; a nil *Map reads as empty. A Map is not safe
// for concurrent writes.
type Map struct {
	keys []string
	vals map[string]any
}

// New returns an empty map with room for n entries.
func New(n int) *Map {
	return &Map{keys: make([]string, 0, n), vals: make(map[string]any, n)}
}

// FromMap returns m as a Map with its keys sorted (a Go map has no order
// to keep). It shares no storage with m.
func FromMap(m map[string]any) *Map {
	out := New(len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out.keys = append(out.keys, k)
		out.vals[k] = m[k]
	}
	return out
}

// Len returns the number of entries.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.keys)
}

// Get returns the value of k and whether k is set.
func (m *Map) Get(k string) (any, bool) {
	if m == nil {
		return nil, false
	}
	v, ok := m.vals[k]
	return v, ok
}

// Set sets k to v; a new key goes last, an existing one keeps its place.
func (m *Map) Set(k string, v any) {
	if m.vals == nil {
		m.vals = map[string]any{}
	}
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

// Delete removes k.
func (m *Map) Delete(k string) {
	if m == nil {
		return
	}
	if _, ok := m.vals[k]; !ok {
		return
	}
	delete(m.vals, k)
	m.keys = slices.DeleteFunc(m.keys, func(s string) bool { return s == k })
}

// Keys returns the keys in order. The slice is the map's own: read it, do
// not change it.
func (m *Map) Keys() []string {
	if m == nil {
		return nil
	}
	return m.keys
}

// All iterates over the entries in order.
func (m *Map) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		if m == nil {
			return
		}
		for _, k := range m.keys {
			if !yield(k, m.vals[k]) {
				return
			}
		}
	}
}

// Plain returns the entries as a Go map without copying: the map itself,
// for code that only reads it and needs no order. Changing it breaks m.
func (m *Map) Plain() map[string]any {
	if m == nil {
		return nil
	}
	if m.vals == nil {
		m.vals = map[string]any{}
	}
	return m.vals
}

// Clone returns a shallow copy of m.
func (m *Map) Clone() *Map {
	if m == nil {
		return nil
	}
	return &Map{keys: slices.Clone(m.keys), vals: maps.Clone(m.vals)}
}

// AsMap returns the entries of v when v is a map[string]any or a *Map, for
// code that reads a user's map by key and needs no order. The result is
// shared with v: read it, do not change it.
func AsMap(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case *Map:
		if x == nil {
			return nil, false
		}
		return x.Plain(), true
	}
	return nil, false
}

// Plain returns v with every *Map inside it (at any depth) replaced by a
// map[string]any, for code that walks a user's value and knows only Go
// maps. Containers holding no *Map are returned as they are, not copied.
func Plain(v any) any {
	p, _ := plain(v)
	return p
}

// plain is Plain that also reports whether it rebuilt v.
func plain(v any) (any, bool) {
	switch x := v.(type) {
	case *Map:
		if x == nil {
			return map[string]any(nil), true
		}
		out := make(map[string]any, len(x.keys))
		for k, e := range x.vals {
			out[k], _ = plain(e)
		}
		return out, true
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			if p, changed := plain(e); changed {
				if out == nil {
					out = maps.Clone(x)
				}
				out[k] = p
			}
		}
		if out == nil {
			return x, false
		}
		return out, true
	case []any:
		var out []any
		for i, e := range x {
			if p, changed := plain(e); changed {
				if out == nil {
					out = slices.Clone(x)
				}
				out[i] = p
			}
		}
		if out == nil {
			return x, false
		}
		return out, true
	}
	return v, false
}
