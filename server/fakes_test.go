package server

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// setState moves an execution to st as an executor step would: read,
// change, save at the read version.
func setState(ctx context.Context, st store.Store, id string, state flow.State) error {
	e, v, err := st.Executions().Get(ctx, id)
	if err != nil {
		return err
	}
	e.State.Set(state, time.Now())
	_, err = st.Executions().Save(ctx, store.SaveParams{Execution: e, Version: v})
	return err
}

// fakeRunner stores a CREATED execution, as the engine's runner does, and
// refuses a missing required input (as flow.Errors, like the launcher) and
// a non-integer INT input (as *InputError). With finish set it runs the execution
// to SUCCESS in the background, logging one line.
type fakeRunner struct {
	st     store.Store
	finish bool
	// step is how long each state of a finishing execution lasts
	// (default 20 ms).
	step time.Duration
	// ownIDs ignores StartParams.ExecutionID, as a runner may.
	ownIDs bool
	// endAtOnce stores the execution's end before Start returns (what it
	// returns is still CREATED): an end that may precede a wait.
	endAtOnce bool
	mu        sync.Mutex
	killed    []string
	last      StartParams
}

func (r *fakeRunner) Start(ctx context.Context, p StartParams) (*flow.Execution, error) {
	var problems flow.Errors
	for _, in := range p.Flow.Inputs {
		if _, ok := p.Inputs[in.ID]; !ok && in.IsRequired() {
			problems = append(problems, &flow.Error{Path: "inputs." + in.ID, Message: fmt.Sprintf("input %q: missing required input", in.ID)})
		}
		if v, ok := p.Inputs[in.ID].(string); ok && in.Type == "INT" && strings.Trim(v, "0123456789") != "" {
			return nil, &InputError{Input: in.ID, Message: fmt.Sprintf("%q is not an integer", v)}
		}
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.last = p
	r.mu.Unlock()
	now := time.Now()
	e := &flow.Execution{
		ID: uuid.NewString(), Namespace: p.Flow.Namespace, FlowID: p.Flow.ID, FlowRevision: p.Flow.Revision,
		Inputs: p.Inputs, Labels: p.Labels, State: flow.NewStateInfo(flow.StateCreated, now),
		Metadata: &flow.ExecutionMetadata{AttemptNumber: 1, OriginalCreatedDate: &now},
	}
	if p.ExecutionID != "" && !r.ownIDs {
		e.ID = p.ExecutionID
	}
	e.OriginalID = e.ID // as launch.Start
	if err := r.st.Executions().Create(ctx, e); err != nil {
		return nil, err
	}
	if r.endAtOnce {
		if err := setState(ctx, r.st, e.ID, flow.StateSuccess); err != nil {
			return nil, err
		}
		return e, nil
	}
	if r.finish {
		step := r.step
		if step == 0 {
			step = 20 * time.Millisecond
		}
		go func() {
			ctx := context.WithoutCancel(ctx)
			time.Sleep(step)
			_ = setState(ctx, r.st, e.ID, flow.StateRunning)
			_ = r.st.Logs().Append(ctx, []flow.LogEntry{{
				ExecutionID: e.ID, Namespace: e.Namespace, FlowID: e.FlowID, TaskID: "hello",
				Level: "INFO", Message: "hello from " + e.FlowID, Timestamp: time.Now(),
			}})
			time.Sleep(step)
			_ = setState(ctx, r.st, e.ID, flow.StateSuccess)
		}()
	}
	return e, nil
}

func (r *fakeRunner) Kill(ctx context.Context, id string) error {
	r.mu.Lock()
	r.killed = append(r.killed, id)
	r.mu.Unlock()
	return setState(ctx, r.st, id, flow.StateKilling)
}

// fakeParse is a small stand-in for flow.Parse: id, namespace, disabled,
// inputs and tasks (with nested tasks), positioned errors for a syntax
// error, a missing id or namespace, and a task type outside io.kestra.
func fakeParse(src []byte) (*flow.Flow, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(src)).Decode(&doc); err != nil {
		return nil, flow.Errors{{Line: 1, Column: 1, Message: "invalid YAML: " + err.Error()}}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, flow.Errors{{Line: 1, Column: 1, Message: "a flow must be a YAML mapping"}}
	}
	root := doc.Content[0]
	f := &flow.Flow{}
	var errs flow.Errors
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "id":
			f.ID = v.Value
		case "namespace":
			f.Namespace = v.Value
		case "disabled":
			f.Disabled = v.Value == "true"
		case "inputs":
			for _, n := range v.Content {
				var in flow.Input
				if err := n.Decode(&in); err != nil {
					return nil, err
				}
				f.Inputs = append(f.Inputs, &in)
			}
		case "tasks":
			f.Tasks = fakeTasks(v, "tasks", &errs)
		}
	}
	if f.ID == "" {
		errs = append(errs, &flow.Error{Path: "id", Line: root.Line, Column: root.Column, Message: "missing required property"})
	}
	if f.Namespace == "" {
		errs = append(errs, &flow.Error{Path: "namespace", Line: root.Line, Column: root.Column, Message: "missing required property"})
	}
	if err := errs.Err(); err != nil {
		return f, err
	}
	return f, nil
}

func fakeTasks(seq *yaml.Node, path string, errs *flow.Errors) []*flow.Task {
	var out []*flow.Task
	for i, n := range seq.Content {
		t := &flow.Task{Props: map[string]any{}, Path: fmt.Sprintf("%s[%d]", path, i)}
		for j := 0; j+1 < len(n.Content); j += 2 {
			k, v := n.Content[j], n.Content[j+1]
			switch k.Value {
			case "id":
				t.ID = v.Value
			case "type":
				t.Type = v.Value
				if !strings.HasPrefix(v.Value, "io.kestra.") {
					*errs = append(*errs, &flow.Error{Path: t.Path + ".type", Line: v.Line, Column: v.Column, Message: "unknown task type " + v.Value})
				}
			case "tasks":
				t.Children = map[string][]*flow.Task{"tasks": fakeTasks(v, t.Path+".tasks", errs)}
			default:
				var x any
				_ = v.Decode(&x)
				t.Props[k.Value] = x
			}
		}
		out = append(out, t)
	}
	return out
}
