package engine

import (
	"context"

	"github.com/ospreyhq/osprey/flow"
)

// Eval renders expression as task run tr of ex, an execution of f, sees
// it: the execution's outputs, inputs, labels and trigger, the task run's
// own variables, the globals and envs (Kestra's eval, used to debug
// outputs after the fact). It changes nothing. Pass an Engine whose
// Renderer resolves no secrets when the answer leaves the server.
func (e *Engine) Eval(ctx context.Context, f *flow.Flow, ex *flow.Execution, tr *flow.TaskRun, expression string) (string, error) {
	return e.Renderer.Render(ctx, expression, Vars(f, ex, tr, e.Globals, e.Envs))
}
