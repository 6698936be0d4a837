package flow

import (
	"time"
)

// Label is a key/value label of a flow or an execution, as Kestra lists them.
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ExecutionTrigger records what started an execution (a schedule, a webhook,
// a flow trigger), as Kestra's ExecutionTrigger does.
type ExecutionTrigger struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Variables map[string]any `json:"variables,omitempty"`
}

// ExecutionMetadata holds bookkeeping Kestra keeps on an execution.
type ExecutionMetadata struct {
	AttemptNumber       int        `json:"attemptNumber"`
	OriginalCreatedDate *time.Time `json:"originalCreatedDate,omitempty"`
}

// Execution is one run of a flow revision. Its JSON form is Kestra's.
type Execution struct {
	ID           string             `json:"id"`
	TenantID     string             `json:"tenantId,omitempty"`
	Namespace    string             `json:"namespace"`
	FlowID       string             `json:"flowId"`
	FlowRevision int                `json:"flowRevision"`
	Inputs       map[string]any     `json:"inputs,omitempty"`
	Outputs      map[string]any     `json:"outputs,omitempty"`
	Labels       []Label            `json:"labels,omitempty"`
	Variables    map[string]any     `json:"variables,omitempty"`
	State        StateInfo          `json:"state"`
	TaskRunList  []*TaskRun         `json:"taskRunList,omitempty"`
	ParentID     string             `json:"parentId,omitempty"`
	OriginalID   string             `json:"originalId,omitempty"`
	Trigger      *ExecutionTrigger  `json:"trigger,omitempty"`
	ScheduleDate *time.Time         `json:"scheduleDate,omitempty"`
	Metadata     *ExecutionMetadata `json:"metadata,omitempty"`
	Deleted      bool               `json:"deleted"`
	// Error is Osprey's: a short reason when the execution failed before or
	// outside any task (bad input, missing subflow). Never holds a secret.
	Error string `json:"error,omitempty"`
	// SLAViolated lists the flow's SLAs (by position and id, "0:maxDuration")
	// this execution violated, so each is acted on once; Osprey's
	// addition.
	SLAViolated []string `json:"slaViolated,omitempty"`
}

// RefuseAtCreation marks an execution not yet stored as failed from the
// start (Kestra's FAIL_EXECUTION checks): CREATED then FAILED at once, with
// the reason. A stored execution changes state only through the executor.
func (e *Execution) RefuseAtCreation(reason string, at time.Time) {
	e.State.Set(StateFailed, at)
	e.Error = reason
}

// TaskRunAttempt is one attempt of a task run (retries add attempts).
type TaskRunAttempt struct {
	State StateInfo `json:"state"`
	// WorkerID names the worker that ran the attempt; Osprey's addition.
	WorkerID string `json:"workerId,omitempty"`
	// Metrics are what the attempt reported (a script's
	// ::{"metrics":[…]}:: lines), in the form of Kestra's attempt metrics.
	Metrics []Metric `json:"metrics,omitempty"`
	// LogFile is the kestra:/// URI of the attempt's log lines when its
	// task has logToFile, as Kestra's attempt names it.
	LogFile string `json:"logFile,omitempty"`
}

// Metric is one metric entry of a task run attempt: a counter adds Value,
// a timer records Value seconds. Its JSON form is Kestra's
// AbstractMetricEntry (type "counter" or "timer").
type Metric struct {
	Name      string            `json:"name"`
	Type      string            `json:"type"`
	Value     float64           `json:"value"`
	Tags      map[string]string `json:"tags,omitempty"`
	Timestamp time.Time         `json:"timestamp"`
}

// TaskRun is the run of one task inside an execution; loops create one per
// iteration value. Its JSON form is Kestra's.
type TaskRun struct {
	ID              string           `json:"id"`
	ExecutionID     string           `json:"executionId"`
	Namespace       string           `json:"namespace"`
	FlowID          string           `json:"flowId"`
	TaskID          string           `json:"taskId"`
	ParentTaskRunID string           `json:"parentTaskRunId,omitempty"`
	Value           string           `json:"value,omitempty"`
	Attempts        []TaskRunAttempt `json:"attempts,omitempty"`
	Outputs         map[string]any   `json:"outputs,omitempty"`
	State           StateInfo        `json:"state"`
	Iteration       *int             `json:"iteration,omitempty"`
	// Items holds a flowable task's resolved iteration values (ForEach),
	// so they are computed once; Osprey's addition.
	Items []string `json:"items,omitempty"`
	// Error is the message that failed the task run, masked.
	Error string `json:"error,omitempty"`
	// RetryAt is when the next attempt is due while a retry waits;
	// Osprey's addition.
	RetryAt *time.Time `json:"retryAt,omitempty"`
}

// Settled reports whether the execution is over for whoever waits on it:
// it has its final state and every task run has ended too, the
// afterExecution tasks included, which run once the execution has its
// final state (Kestra's "terminated with afterExecution"). A subflow's
// parent, a ?wait=true and a follow wait for this, not for the state.
func (e *Execution) Settled() bool {
	if !e.State.Current.IsTerminal() {
		return false
	}
	for _, tr := range e.TaskRunList {
		if !tr.State.Current.IsTerminal() {
			return false
		}
	}
	return true
}

// TaskRunByID returns the task run with that id, or nil.
func (e *Execution) TaskRunByID(id string) *TaskRun {
	for _, tr := range e.TaskRunList {
		if tr.ID == id {
			return tr
		}
	}
	return nil
}

// TaskRunsByTaskID returns the task runs of task id, in creation order.
func (e *Execution) TaskRunsByTaskID(id string) []*TaskRun {
	var out []*TaskRun
	for _, tr := range e.TaskRunList {
		if tr.TaskID == id {
			out = append(out, tr)
		}
	}
	return out
}

// Children returns the direct children of the task run parentID ("" for the
// top level), in creation order.
func (e *Execution) Children(parentID string) []*TaskRun {
	var out []*TaskRun
	for _, tr := range e.TaskRunList {
		if tr.ParentTaskRunID == parentID {
			out = append(out, tr)
		}
	}
	return out
}

// Parents returns the chain of ancestors of tr, nearest first.
func (e *Execution) Parents(tr *TaskRun) []*TaskRun {
	var out []*TaskRun
	for tr != nil && tr.ParentTaskRunID != "" {
		tr = e.TaskRunByID(tr.ParentTaskRunID)
		if tr != nil {
			out = append(out, tr)
		}
	}
	return out
}

// LogEntry is one line of an execution's log, as Kestra's LogEntry.
type LogEntry struct {
	// Seq orders entries and lets readers resume a follow; Osprey's addition.
	Seq           int64     `json:"-"`
	TenantID      string    `json:"tenantId,omitempty"`
	Namespace     string    `json:"namespace"`
	FlowID        string    `json:"flowId"`
	TaskID        string    `json:"taskId,omitempty"`
	ExecutionID   string    `json:"executionId"`
	TaskRunID     string    `json:"taskRunId,omitempty"`
	AttemptNumber int       `json:"attemptNumber"`
	TriggerID     string    `json:"triggerId,omitempty"`
	Timestamp     time.Time `json:"timestamp"`
	Level         string    `json:"level"`
	Thread        string    `json:"thread,omitempty"`
	Message       string    `json:"message"`
}
