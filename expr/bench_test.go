package expr

import (
	"context"
	"testing"
)

// BenchmarkRenderCached measures a typical task property once its template
// is in the cache: two lookups and a filter.
func BenchmarkRenderCached(b *testing.B) {
	e := New(Options{})
	s := &Scope{Strict: true, Vars: map[string]any{
		"outputs": map[string]any{"t": map[string]any{"value": "hello"}},
		"inputs":  map[string]any{"name": "world"},
	}}
	const tmpl = "{{ outputs.t.value }} {{ inputs.name | upper }}"
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		out, err := e.Render(ctx, tmpl, s)
		if err != nil || out != "hello WORLD" {
			b.Fatal(out, err)
		}
	}
}

// BenchmarkRenderPlain is the fast path for strings without expressions.
func BenchmarkRenderPlain(b *testing.B) {
	e := New(Options{})
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.Render(ctx, "a plain property value without expressions", nil); err != nil {
			b.Fatal(err)
		}
	}
}
