package flow

import "github.com/ospreyhq/osprey/internal/ordered"

// Position is a place in a YAML source, 1-based.
type Position struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Flow is a parsed flow definition. Source keeps the YAML as the user wrote
// it: Kestra returns it unchanged and so do we.
type Flow struct {
	ID             string           `json:"id"`
	Namespace      string           `json:"namespace"`
	Revision       int              `json:"revision"`
	TenantID       string           `json:"tenantId,omitempty"`
	Description    string           `json:"description,omitempty"`
	Labels         []Label          `json:"labels,omitempty"`
	Inputs         []*Input         `json:"inputs,omitempty"`
	Variables      *ordered.Map     `json:"variables,omitempty"`
	Tasks          []*Task          `json:"tasks"`
	Errors         []*Task          `json:"errors,omitempty"`
	Finally        []*Task          `json:"finally,omitempty"`
	AfterExecution []*Task          `json:"afterExecution,omitempty"`
	Outputs        []*Output        `json:"outputs,omitempty"`
	Triggers       []*Trigger       `json:"triggers,omitempty"`
	PluginDefaults []*PluginDefault `json:"pluginDefaults,omitempty"`
	Concurrency    *Concurrency     `json:"concurrency,omitempty"`
	Retry          map[string]any   `json:"retry,omitempty"`
	SLA            []*SLA           `json:"sla,omitempty"`
	Checks         []*Check         `json:"checks,omitempty"`
	Disabled       bool             `json:"disabled"`
	Deleted        bool             `json:"deleted"`
	Source         string           `json:"-"`
	// Warnings are what the parser accepted but will not honour, for
	// the validate endpoint's warnings (listeners, dropped by Kestra).
	Warnings []string `json:"-"`
}

// UID is the flow's identity across revisions: "namespace.id" is not unique
// enough (ids may contain dots), so the pair is joined with a separator that
// neither may contain.
func (f *Flow) UID() string { return f.Namespace + "|" + f.ID }

// Task is one task of a flow: the properties every task has, the raw
// type-specific properties, and the child task lists of flowable tasks
// (tasks, errors, finally, then, else, cases, defaults, and Dag's entries),
// parsed so that every nested task keeps its position.
type Task struct {
	ID           string         `json:"id"`
	Type         string         `json:"type"`
	Description  string         `json:"description,omitempty"`
	Disabled     bool           `json:"disabled,omitempty"`
	AllowFailure bool           `json:"allowFailure,omitempty"`
	AllowWarning bool           `json:"allowWarning,omitempty"`
	RunIf        string         `json:"runIf,omitempty"`
	Timeout      string         `json:"timeout,omitempty"`
	LogLevel     string         `json:"logLevel,omitempty"`
	Retry        map[string]any `json:"retry,omitempty"`
	WorkerGroup  map[string]any `json:"workerGroup,omitempty"`

	// LogToFile sends the task's log lines to a file in internal storage,
	// named by its attempt's logFile, instead of the execution's log.
	LogToFile bool `json:"logToFile,omitempty"`

	// Props holds every other property, as decoded from YAML (maps,
	// slices, strings, numbers, booleans), child task lists excluded.
	Props map[string]any `json:"-"`

	// Children maps a property name (tasks, errors, finally, then, else,
	// defaults) to the tasks it lists.
	Children map[string][]*Task `json:"-"`
	// Cases holds Switch's cases: value → tasks.
	Cases map[string][]*Task `json:"-"`
	// DagTasks holds Dag's entries in order.
	DagTasks []*DagTask `json:"-"`

	Pos     Position            `json:"-"`
	PropPos map[string]Position `json:"-"`
	// Path is where the task sits in the flow, e.g. "tasks[1].then[0]".
	Path string `json:"-"`
}

// DagTask is one entry of a Dag task: a task and the ids it depends on.
type DagTask struct {
	Task      *Task    `json:"task"`
	DependsOn []string `json:"dependsOn,omitempty"`
}

// Input declares one flow input.
type Input struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
	Required    *bool  `json:"required,omitempty"`
	Defaults    any    `json:"defaults,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	// Props holds the type-specific properties: values, validator, min,
	// max, after, before, itemType, allowCustomValue, …
	Props map[string]any `json:"-"`
	Pos   Position       `json:"-"`
}

// IsRequired reports Kestra's default: inputs are required unless they say
// otherwise.
func (in *Input) IsRequired() bool { return in.Required == nil || *in.Required }

// Output declares one typed flow output.
type Output struct {
	ID          string   `json:"id"`
	Type        string   `json:"type"`
	Value       any      `json:"value"`
	Description string   `json:"description,omitempty"`
	Required    *bool    `json:"required,omitempty"`
	Pos         Position `json:"-"`
}

// Trigger is one trigger of a flow; Props holds its type-specific properties
// (cron, key, conditions, …).
type Trigger struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	Description string         `json:"description,omitempty"`
	Disabled    bool           `json:"disabled,omitempty"`
	Props       map[string]any `json:"-"`
	Pos         Position       `json:"-"`
}

// PluginDefault gives default property values to every task of a type.
type PluginDefault struct {
	Type   string         `json:"type"`
	Forced bool           `json:"forced,omitempty"`
	Values map[string]any `json:"values"`
}

// Concurrency limits how many executions of a flow run at once.
type Concurrency struct {
	Limit    int    `json:"limit"`
	Behavior string `json:"behavior,omitempty"` // QUEUE (default), CANCEL, FAIL
}

// AllTasks returns every task of the flow, nested ones included, depth first.
func (f *Flow) AllTasks() []*Task {
	var out []*Task
	var walk func([]*Task)
	walk = func(ts []*Task) {
		for _, t := range ts {
			out = append(out, t)
			walk(t.ChildTasks())
		}
	}
	walk(f.Tasks)
	walk(f.Errors)
	walk(f.Finally)
	walk(f.AfterExecution)
	return out
}

// ChildTasks returns every task directly nested in t.
func (t *Task) ChildTasks() []*Task {
	var out []*Task
	for _, k := range childKeys {
		out = append(out, t.Children[k]...)
	}
	for _, k := range sortedKeys(t.Cases) {
		out = append(out, t.Cases[k]...)
	}
	for _, d := range t.DagTasks {
		out = append(out, d.Task)
	}
	return out
}

// FindTask returns the task with id anywhere in the flow, or nil.
func (f *Flow) FindTask(id string) *Task {
	for _, t := range f.AllTasks() {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// childKeys are the properties that hold task lists, in a stable order.
var childKeys = []string{"tasks", "then", "else", "defaults", "errors", "finally"}

// ChildKeys lists the property names whose values are task lists.
func ChildKeys() []string { return append([]string(nil), childKeys...) }
