package engine

import (
	"strconv"
	"time"

	"github.com/ospreyhq/osprey/flow"
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
