package mask

import "context"

type ctxKey struct{}

// NewContext returns ctx carrying m, so that code resolving secrets deep
// inside a call (the secret() function during an executor step) can teach
// the caller's masker.
func NewContext(ctx context.Context, m *Masker) context.Context {
	return context.WithValue(ctx, ctxKey{}, m)
}

// FromContext returns the masker ctx carries, or nil.
func FromContext(ctx context.Context) *Masker {
	m, _ := ctx.Value(ctxKey{}).(*Masker)
	return m
}
