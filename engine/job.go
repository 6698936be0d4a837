package engine

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// The two messages between executor and worker live here, side by side,
// because both sides import engine: a job's Payload goes out, a Result
// comes back.

// Payload is what a job carries to a worker.
type Payload struct {
	Namespace string         `json:"namespace"`
	FlowID    string         `json:"flowId"`
	Revision  int            `json:"revision"`
	TaskID    string         `json:"taskId"`
	TaskRun   *flow.TaskRun  `json:"taskRun"`
	Attempt   int            `json:"attempt"`
	Vars      map[string]any `json:"vars"`
	// Children, for a group (WorkingDirectory), are the task runs the
	// worker runs one after the other in the group's directory.
	Children []GroupChild `json:"children,omitempty"`
}

// JobID names the job of one attempt of a task run.
func JobID(taskRunID string, attempt int) string {
	return taskRunID + "-" + strconv.Itoa(attempt)
}

// Result is what a worker reports for one attempt of a task run.
type Result struct {
	TaskRunID string `json:"taskRunId"`
	// TaskID names a group child's task (Children).
	TaskID   string         `json:"taskId,omitempty"`
	Attempt  int            `json:"attempt"`
	State    flow.State     `json:"state"`
	Outputs  map[string]any `json:"outputs,omitempty"`
	Error    string         `json:"error,omitempty"`
	Started  time.Time      `json:"started"`
	Ended    time.Time      `json:"ended"`
	WorkerID string         `json:"workerId,omitempty"`
	// Lost counts earlier runs of this attempt that ended with no result
	// (their worker died, or handed the job back while stopping); each is
	// recorded as a RESUBMITTED attempt before this one.
	Lost int `json:"lost,omitempty"`
	// Labels are execution labels a task (Labels) asks to set.
	Labels []flow.Label `json:"labels,omitempty"`
	// Metrics are the attempt's metrics, kept on its attempt.
	Metrics []flow.Metric `json:"metrics,omitempty"`
	// Children are a group job's children that ran, in order.
	Children []Result `json:"children,omitempty"`
	// Retried are a group child's failed attempts before this one (the
	// worker retried it in the group's directory).
	Retried []Result `json:"retried,omitempty"`
	// LogFile is the attempt's log file (a task with logToFile).
	LogFile string `json:"logFile,omitempty"`
}

// UnmarshalJSON reads a payload keeping the order of the user's maps in its
// vars (flow.Document), so a worker renders `toJson` as Kestra does.
func (p *Payload) UnmarshalJSON(b []byte) error {
	type plain Payload
	aux := struct {
		*plain
		Vars flow.Document `json:"vars"`
	}{plain: (*plain)(p)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	p.Vars = frame(aux.Vars)
	return nil
}

// frame turns back into Go maps the maps vars builds itself (flow,
// execution, taskrun, outputs by task, parents, …), which decoding made
// ordered; the user's values below them keep their order, and so does
// `vars`, the flow's variables as written.
func frame(v map[string]any) map[string]any {
	for k, e := range v {
		switch x := e.(type) {
		case *ordered.Map:
			if k == "vars" {
				continue
			}
			v[k] = x.Plain()
		case []any: // parents
			for i, p := range x {
				if pm, ok := p.(*ordered.Map); ok {
					m := pm.Plain()
					if tr, ok := m["taskrun"].(*ordered.Map); ok {
						m["taskrun"] = tr.Plain()
					}
					x[i] = m
				}
			}
		}
	}
	if p, ok := v["parent"].(map[string]any); ok {
		if tr, ok := p["taskrun"].(*ordered.Map); ok {
			p["taskrun"] = tr.Plain()
		}
	}
	return v
}

// UnmarshalJSON reads a result keeping the order of its outputs' maps.
func (r *Result) UnmarshalJSON(b []byte) error {
	type plain Result
	aux := struct {
		*plain
		Outputs flow.Document `json:"outputs,omitempty"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	r.Outputs = aux.Outputs
	return nil
}
