package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/worker"
)

// pResume is io.kestra.plugin.core.execution.Resume: resume a PAUSED
// execution, with onResume inputs.
const pResume = "io.kestra.plugin.core.execution.Resume"

// Resume resumes a paused execution: the one executionId names, or the
// current one. The task never touches that execution: it sends a resume
// command through the store (worker.Commands), checked at once against the
// stored execution, and the executor applies it, as the API's resume does.
//
// As Kestra's: namespace and flowId go together and only with executionId;
// with both, the execution must belong to that flow. Without them Osprey
// also requires the execution to be in the running flow's namespace (any
// flow of it), where Kestra OSS resumes whatever id it is given: naming the
// namespace keeps a cross-namespace resume explicit, the reason Kestra
// gives for the properties.
type Resume struct {
	Namespace   string         `json:"namespace"`
	FlowID      string         `json:"flowId"`
	ExecutionID string         `json:"executionId"`
	Inputs      map[string]any `json:"inputs"`
}

var resumeProps = []string{"namespace", "flowId", "executionId", "inputs"}

// Run implements worker.Runnable.
func (x *Resume) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	if rc.Commands == nil || rc.Executions == nil {
		return nil, errors.New("Resume: this worker cannot send commands to executions")
	}
	id, ns, flowID, err := x.target(ctx, rc)
	if err != nil {
		return nil, err
	}
	ex, _, err := rc.Executions.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("No execution found for execution id %s: %w", id, err)
	}
	if ex.Namespace != ns || (flowID != "" && ex.FlowID != flowID) {
		want := "namespace " + ns
		if flowID != "" {
			want = "flow " + ns + "." + flowID
		}
		return nil, fmt.Errorf("execution %s belongs to %s.%s, not to %s: set namespace and flowId to the execution's to resume it", id, ex.Namespace, ex.FlowID, want)
	}
	var inputs map[string]any
	if x.Inputs != nil {
		v, err := rc.RenderValue(ctx, x.Inputs)
		if err != nil {
			return nil, fmt.Errorf("inputs: %w", err)
		}
		inputs, _ = ordered.AsMap(v)
		// the inputs become the other execution's outputs, which its
		// masker knows nothing of
		if raw, err := json.Marshal(inputs); err == nil && rc.HoldsSecret(string(raw)) {
			return nil, errors.New("inputs hold a secret, and they become the resumed execution's outputs in clear: call secret() in the resumed flow instead")
		}
	}
	if err := rc.Commands.Resume(ctx, id, inputs); err != nil {
		return nil, fmt.Errorf("resume execution %s: %w", id, err)
	}
	rc.Log("INFO", fmt.Sprintf("resume sent to execution %s (%s.%s)", id, ex.Namespace, ex.FlowID))
	return nil, nil
}

// target resolves which execution to resume and the namespace (and flow,
// when named) it must belong to, with Kestra's rules on the properties.
func (x *Resume) target(ctx context.Context, rc *worker.RunContext) (id, ns, flowID string, err error) {
	f, _ := rc.Vars["flow"].(map[string]any)
	ns, _ = f["namespace"].(string)
	if x.ExecutionID == "" {
		if x.Namespace != "" || x.FlowID != "" {
			return "", "", "", errors.New("`namespace` and `flowId` should only be set when `executionId` is set")
		}
		e, _ := rc.Vars["execution"].(map[string]any)
		id, _ = e["id"].(string)
		return id, ns, "", nil
	}
	if id, err = rc.Render(ctx, x.ExecutionID); err != nil {
		return "", "", "", fmt.Errorf("executionId: %w", err)
	}
	if (x.Namespace == "") != (x.FlowID == "") {
		return "", "", "", errors.New("Both `namespace` and `flowId` must be set when `executionId` is set")
	}
	if x.Namespace != "" {
		if ns, err = rc.Render(ctx, x.Namespace); err != nil {
			return "", "", "", fmt.Errorf("namespace: %w", err)
		}
		if flowID, err = rc.Render(ctx, x.FlowID); err != nil {
			return "", "", "", fmt.Errorf("flowId: %w", err)
		}
	}
	if id == "" {
		return "", "", "", errors.New("executionId rendered empty")
	}
	return id, ns, flowID, nil
}

func resumeSpec() *Spec { return runnable[Resume](pResume, resumeProps, nil) }

var _ worker.Runnable = (*Resume)(nil)
