package mask

import (
	"context"
	"log/slog"
)

// Handler wraps an slog.Handler so that the process's own log lines never
// carry a secret the Masker knows: the message and every string-like
// attribute (including errors and values that format themselves) are
// masked before the inner handler sees them.
type Handler struct {
	inner slog.Handler
	m     *Masker
}

// NewHandler returns a Handler masking with m.
func NewHandler(inner slog.Handler, m *Masker) *Handler { return &Handler{inner: inner, m: m} }

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if h.m.Empty() {
		return h.inner.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, h.m.Mask(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.inner.Handle(ctx, out)
}

func (h *Handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.m.Mask(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		out := make([]any, len(attrs))
		for i, g := range attrs {
			out[i] = h.attr(g)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.m.Mask(x.Error()))
		default:
			return slog.String(a.Key, h.m.Mask(v.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// WithAttrs implements slog.Handler; attributes are masked as they are
// added, with the secrets known then (later ones are caught per record).
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = h.attr(a)
	}
	return &Handler{inner: h.inner.WithAttrs(out), m: h.m}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{inner: h.inner.WithGroup(name), m: h.m}
}
