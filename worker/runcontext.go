package worker

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/taskproc"
)

// Runnable is a task a worker runs. Run returns the task's outputs; an
// error fails the attempt with its message (masked before it is stored).
type Runnable interface {
	Run(ctx context.Context, rc *RunContext) (map[string]any, error)
}

// Renderer renders expressions for a task run, with per-evaluation
// functions (secret()) bound by the worker.
type Renderer interface {
	Render(ctx context.Context, tmpl string, vars map[string]any) (string, error)
	RenderTyped(ctx context.Context, tmpl string, vars map[string]any) (any, error)
	RenderValue(ctx context.Context, v any, vars map[string]any) (any, error)
}

// RunContext is what a running task sees: its definition, its task run,
// the expression variables, a logger whose lines become the execution's
// log, and a scratch directory.
type RunContext struct {
	Task     *flow.Task
	TaskRun  *flow.TaskRun
	Attempt  int
	Vars     map[string]any
	TmpDir   string
	WorkerID string
	// KV is the store's key-value entries, for the kv tasks.
	KV store.KVStore
	// Files is the store's namespace files, for script tasks'
	// namespaceFiles.
	Files store.FileStore
	// Storage is internal storage, for tasks that read or write files
	// (kestra:/// URIs); nil where there is none.
	Storage storage.Storage
	// Logs is the store's execution logs, for log.Fetch.
	Logs store.LogStore
	// Flows and Triggers are the store's flows and trigger states, for
	// core.trigger.Toggle.
	Flows    store.FlowStore
	Triggers store.TriggerStore
	// Executions is the store's executions, read and deleted (never
	// written: only the executor writes an execution) by the purge and
	// resume tasks, and read by ForEachItem's merge of its subflows'
	// outputs.
	Executions store.ExecutionStore
	// Commands sends commands to other executions, for
	// core.execution.Resume; nil where the worker was given none.
	Commands Commands

	renderer  Renderer
	processes *taskproc.Runner
	logs      *logBuffer
	labels    []flow.Label
	mask      func(string) string
	env       []string

	metricsMu sync.Mutex
	metrics   []flow.Metric
}

// Processes is the runner of task processes (script tasks): the server's
// deny list applied. Nil means the default policy.
func (rc *RunContext) Processes() *taskproc.Runner { return rc.processes }

// TaskEnv is the NAME=value variables the worker adds to the task run's
// processes (its Azure identity endpoint), before the task's own env.
func (rc *RunContext) TaskEnv() []string { return rc.env }

// Render renders tmpl with the task run's variables.
func (rc *RunContext) Render(ctx context.Context, tmpl string) (string, error) {
	return rc.renderer.Render(ctx, tmpl, rc.Vars)
}

// RenderTyped renders tmpl keeping the type of a lone expression.
func (rc *RunContext) RenderTyped(ctx context.Context, tmpl string) (any, error) {
	return rc.renderer.RenderTyped(ctx, tmpl, rc.Vars)
}

// RenderValue renders every string in v (maps and lists included).
func (rc *RunContext) RenderValue(ctx context.Context, v any) (any, error) {
	return rc.renderer.RenderValue(ctx, v, rc.Vars)
}

// Log adds a line to the execution's log at level (TRACE, DEBUG, INFO,
// WARN, ERROR). Secret values are masked before the line is kept.
func (rc *RunContext) Log(level, msg string) {
	if rank(level) < rank(rc.Task.LogLevel) {
		return // below the task's logLevel threshold
	}
	if rc.mask != nil {
		msg = rc.mask(msg)
	}
	rc.logs.add(flow.LogEntry{
		Namespace:     rc.TaskRun.Namespace,
		FlowID:        rc.TaskRun.FlowID,
		TaskID:        rc.TaskRun.TaskID,
		ExecutionID:   rc.TaskRun.ExecutionID,
		TaskRunID:     rc.TaskRun.ID,
		AttemptNumber: rc.Attempt - 1,
		Timestamp:     time.Now().UTC(),
		Level:         normLevel(level),
		Thread:        rc.WorkerID,
		Message:       msg,
	})
}

// HoldsSecret reports whether s contains a secret this task run resolved
// (or one of its encodings), for tasks that would store s where masking
// cannot reach.
func (rc *RunContext) HoldsSecret(s string) bool {
	return rc.mask != nil && rc.mask(s) != s
}

// SetLabels asks the executor to set execution labels (the Labels task).
func (rc *RunContext) SetLabels(ls []flow.Label) { rc.labels = append(rc.labels, ls...) }

// Metric records a metric of the attempt (a script's counter or timer).
// Safe for concurrent use: a script's stdout and stderr are read at once.
func (rc *RunContext) Metric(m flow.Metric) {
	rc.metricsMu.Lock()
	defer rc.metricsMu.Unlock()
	if m.Timestamp.IsZero() {
		m.Timestamp = time.Now().UTC()
	}
	rc.metrics = append(rc.metrics, m)
}

// rank orders levels; an empty threshold lets everything through.
func rank(l string) int {
	switch normLevel(l) {
	case "TRACE":
		if l == "" {
			return 0
		}
		return 1
	case "DEBUG":
		return 2
	case "INFO":
		if l == "" {
			return 0
		}
		return 3
	case "WARN":
		return 4
	}
	return 5
}

func normLevel(l string) string {
	switch strings.ToUpper(l) {
	case "TRACE":
		return "TRACE"
	case "DEBUG":
		return "DEBUG"
	case "WARN", "WARNING":
		return "WARN"
	case "ERROR":
		return "ERROR"
	}
	return "INFO"
}

// logBuffer collects a task run's log lines until the worker flushes them.
// A task run's log is capped: a task that prints without end must not
// exhaust the worker's memory or the store.
const (
	maxLogLines   = 50_000
	maxLogBytes   = 32 << 20
	maxLineLength = 64 << 10
)

type logBuffer struct {
	mu        sync.Mutex
	entries   []flow.LogEntry
	lines     int
	bytes     int
	truncated bool
	file      *logFile // logToFile: lines go there instead
}

func (b *logBuffer) add(e flow.LogEntry) {
	if len(e.Message) > maxLineLength {
		e.Message = e.Message[:maxLineLength] + "… (line truncated)"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.file != nil {
		b.file.write(e)
		return
	}
	if b.lines >= maxLogLines || b.bytes >= maxLogBytes {
		if !b.truncated {
			b.truncated = true
			e.Level = "WARN"
			e.Message = "log truncated: this task run printed more than the worker keeps (50,000 lines or 32 MiB)"
			b.entries = append(b.entries, e)
		}
		return
	}
	b.lines++
	b.bytes += len(e.Message)
	b.entries = append(b.entries, e)
}

func (b *logBuffer) take() []flow.LogEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.entries
	b.entries = nil
	return out
}

// maskedMetrics returns the recorded metrics with secret values masked in
// names and tags: they are stored with the execution.
func (rc *RunContext) maskedMetrics(mask func(string) string) []flow.Metric {
	rc.metricsMu.Lock()
	defer rc.metricsMu.Unlock()
	out := make([]flow.Metric, 0, len(rc.metrics))
	for _, m := range rc.metrics {
		m.Name = mask(m.Name)
		if len(m.Tags) > 0 {
			tags := make(map[string]string, len(m.Tags))
			for k, v := range m.Tags {
				tags[mask(k)] = mask(v)
			}
			m.Tags = tags
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
