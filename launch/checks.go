package launch

import (
	"fmt"
	"strings"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
)

// Checks evaluates f's checks against ex, a new execution with its inputs
// typed, as Kestra's API does before it creates an execution
// (ExecutionController#createExecution; Kestra 1.2+): a check whose
// condition renders false (or cannot be rendered) fails, and the most
// restrictive behavior among the failed ones decides. BLOCK_EXECUTION
// refuses the execution (an error naming every failed check, which the API
// answers with 422), FAIL_EXECUTION leaves it FAILED, CREATE_EXECUTION
// changes nothing. Executions started by triggers and subflows are not
// checked, as in Kestra.
func (l *Launcher) Checks(f *flow.Flow, ex *flow.Execution) error {
	if len(f.Checks) == 0 || l.Evaluate == nil {
		return nil
	}
	var failed []string
	behavior := ""
	for _, c := range f.Checks {
		out, err := l.Evaluate(f, ex, c.Condition)
		if err == nil && engine.Truthy(out) {
			continue
		}
		msg := c.Message
		if err != nil {
			msg = fmt.Sprintf("%s (the condition could not be evaluated: %v)", msg, err)
		}
		failed = append(failed, msg)
		behavior = stricter(behavior, c.Behavior)
	}
	switch behavior {
	case flow.CheckBlock:
		return flow.Errors{{Path: "checks", Message: "Flow execution blocked: one or more condition checks evaluated to false. Failed checks: " + strings.Join(failed, ", ")}}
	case flow.CheckFail:
		ex.RefuseAtCreation("Flow execution failed because one or more condition checks evaluated to false. Failed checks: "+strings.Join(failed, ", "), l.now())
	}
	return nil
}

// stricter returns the more restrictive of two check behaviors
// (Check#resolveBehavior: BLOCK_EXECUTION, then FAIL_EXECUTION, then
// CREATE_EXECUTION).
func stricter(a, b string) string {
	rank := map[string]int{"": 0, flow.CheckCreate: 1, flow.CheckFail: 2, flow.CheckBlock: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}
