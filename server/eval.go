package server

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/ospreyhq/osprey/flow"
)

// Evaluator renders an expression as a task run of a stored execution
// sees it: its outputs, inputs, labels, trigger, the task run's own
// variables (Kestra's eval, the UI's "debug outputs"). A Runner that also
// implements it enables POST …/actions/eval/{taskRunId}; without it the
// route answers 501. It must not resolve secret(): an API answer never
// carries a secret's value.
type Evaluator interface {
	// Eval renders expression for task run tr of ex (nil: the execution
	// alone, no taskrun variables). An error is the expression's (unknown
	// variable, syntax): it is the answer, not a failure of the request.
	Eval(ctx context.Context, ex *flow.Execution, tr *flow.TaskRun, expression string) (string, error)
}

// maxExpressionBytes bounds an expression sent to eval.
const maxExpressionBytes = 64 << 10

// evalResult is Kestra's ExecutionController.EvalResult: the rendered
// result, or the error.
type evalResult struct {
	Result     *string `json:"result,omitempty"`
	Error      string  `json:"error,omitempty"`
	StackTrace string  `json:"stackTrace,omitempty"`
}

// evalExpression renders the body (text/plain) in the context of a task
// run (Kestra's evalTaskRunExpression) or, without {taskRunId}, of the
// execution (evalExpression). A bad expression is a 200 with error, as
// Kestra answers; an unknown execution or task run a 404.
func (s *Server) evalExpression(w http.ResponseWriter, r *http.Request) error {
	ev, ok := s.opts.Runner.(Evaluator)
	if !ok {
		return Errorf(http.StatusNotImplemented, "this server cannot evaluate expressions")
	}
	e, err := s.loadExecution(r)
	if err != nil {
		return err
	}
	var tr *flow.TaskRun
	if id := r.PathValue("taskRunId"); id != "" {
		if tr = e.TaskRunByID(id); tr == nil {
			return Errorf(http.StatusNotFound, fmt.Sprintf("task run %s is not in execution %s", id, e.ID))
		}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxExpressionBytes+1))
	if err != nil {
		return fmt.Errorf("read expression: %w", err)
	}
	if len(b) > maxExpressionBytes {
		return Errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("an expression is at most %d KiB", maxExpressionBytes>>10))
	}
	out, err := ev.Eval(r.Context(), e, tr, string(b))
	if err != nil {
		// Kestra answers a failed expression with 200 and the error in the body.
		writeJSON(w, http.StatusOK, evalResult{Error: err.Error()})
		return nil //nolint:nilerr // the error is the answer's body, as in Kestra
	}
	writeJSON(w, http.StatusOK, evalResult{Result: &out})
	return nil
}

// evalOrWebhookPattern is the pattern evalAndWebhookRoutes mounts.
const evalOrWebhookPattern = "POST /executions/{a}/{b}/{c}/{d}"

// evalAndWebhookRoutes mounts Kestra 2.0's eval
// (/executions/{executionId}/actions/eval/{taskRunId}) and, with
// triggers, the POST webhook (/executions/webhook/{namespace}/{id}/{key})
// on one pattern: Go's mux refuses the two apart, since both match
// /executions/webhook/actions/eval/x, and neither is more specific. The
// webhook wins that path, as it is the older route. Eval is behind basic
// auth, the webhook is public (its key is its credential).
func (s *Server) evalAndWebhookRoutes() {
	var eval http.Handler = s.limitBody(s.adapt(s.evalExpression))
	if s.opts.BasicAuth != nil {
		eval = basicAuth(*s.opts.BasicAuth, s.logins)(eval)
	}
	var hook http.Handler
	if s.opts.Triggers != nil {
		hook = s.limitBody(s.adapt(checkNamespace(s.webhook)))
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, b, c, d := r.PathValue("a"), r.PathValue("b"), r.PathValue("c"), r.PathValue("d")
		switch {
		case a == "webhook" && hook != nil:
			r.SetPathValue("namespace", b)
			r.SetPathValue("id", c)
			r.SetPathValue("key", d)
			hook.ServeHTTP(w, r)
		case b == "actions" && c == "eval":
			r.SetPathValue("executionId", a)
			r.SetPathValue("taskRunId", d)
			eval.ServeHTTP(w, r)
		default:
			writeJSON(w, http.StatusNotFound, errorBody{Message: "no such endpoint: POST " + r.URL.Path})
		}
	})
	method, path, _ := cutPattern(evalOrWebhookPattern)
	for _, p := range apiPrefixes {
		s.api.Handle(method+" "+p+path, h)
	}
	s.served = append(s.served, evalOrWebhookPattern)
}
