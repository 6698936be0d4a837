package flow

import "context"

type execCtxKey struct{}

// WithExecution returns ctx carrying the in-memory execution a step is
// advancing, so that expression functions evaluated during the step
// (tasksWithState()) see it rather than the last saved copy.
func WithExecution(ctx context.Context, ex *Execution) context.Context {
	return context.WithValue(ctx, execCtxKey{}, ex)
}

// ExecutionFrom returns the execution ctx carries, or nil.
func ExecutionFrom(ctx context.Context) *Execution {
	ex, _ := ctx.Value(execCtxKey{}).(*Execution)
	return ex
}
