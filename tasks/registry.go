package tasks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/worker"
)

// Kind says how a type is used.
type Kind int

// The kinds of types.
const (
	KindRunnable Kind = iota + 1
	KindFlowable
	KindTrigger
	KindCondition
)

// Spec describes one type.
type Spec struct {
	Type string // canonical name
	Kind Kind
	// Decode checks a task's properties and returns its implementation: a
	// worker.Runnable or an engine.Flowable.
	Decode func(t *flow.Task) (any, []*flow.Error)
	// Props lists the properties the type takes (for the schema, did-you-mean).
	Props []string
	// CheckTrigger, for a trigger type, validates its properties when a
	// flow is saved.
	CheckTrigger func(t *flow.Trigger) []*flow.Error
}

// Registry maps type names to specs. It is safe for concurrent use once
// built.
type Registry struct {
	specs   map[string]*Spec
	aliases map[string]string
	// azure is how the Azure tasks reach Azure without credentials of
	// their own; set with SetAzure.
	azure AzureHost
}

var (
	_ engine.Types     = (*Registry)(nil)
	_ flow.TypeChecker = (*Registry)(nil)
)

// New returns the registry of Osprey's core types.
func New() *Registry {
	r := &Registry{specs: map[string]*Spec{}, aliases: map[string]string{}}
	for _, s := range coreSpecs() {
		r.specs[s.Type] = s
	}
	for _, s := range azureSpecs(&r.azure) {
		r.specs[s.Type] = s
	}
	for alias, canon := range legacyAliases {
		r.aliases[alias] = canon
	}
	return r
}

// Azure returns what SetAzure set, for the blob.Trigger poller.
func (r *Registry) Azure() *AzureHost { return &r.azure }

// SetAzure gives the Azure tasks the worker's environment and transport,
// for flows that name no credential (the pod's workload identity). Call it
// before the registry is shared.
func (r *Registry) SetAzure(h AzureHost) {
	h.clients = newClientCache()
	r.azure = h
}

// Canonical returns the canonical name of typ (resolving legacy aliases).
func (r *Registry) Canonical(typ string) string {
	if c, ok := r.aliases[typ]; ok {
		return c
	}
	return typ
}

// Spec returns the spec of typ, aliases resolved.
func (r *Registry) Spec(typ string) (*Spec, bool) {
	s, ok := r.specs[r.Canonical(typ)]
	return s, ok
}

// Types lists the canonical type names, sorted.
func (r *Registry) Types() []string {
	out := make([]string, 0, len(r.specs))
	for k := range r.specs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Known reports whether typ is a type Osprey has.
func (r *Registry) Known(typ string) bool {
	_, ok := r.Spec(typ)
	return ok
}

// CheckTask validates a task's type-specific properties.
func (r *Registry) CheckTask(t *flow.Task) []*flow.Error {
	s, ok := r.Spec(t.Type)
	if !ok {
		return []*flow.Error{{Path: "type", Message: fmt.Sprintf("unknown task type %q", t.Type)}}
	}
	if s.Kind != KindRunnable && s.Kind != KindFlowable {
		return []*flow.Error{{Path: "type", Message: fmt.Sprintf("%s is a %s, not a task", t.Type, kindName(s.Kind))}}
	}
	_, errs := s.Decode(t)
	if s.Type == pWorkingDirectory {
		errs = append(errs, r.checkWorkingDirectory(t)...)
	}
	return errs
}

// CheckTrigger validates a trigger's type.
func (r *Registry) CheckTrigger(t *flow.Trigger) []*flow.Error {
	s, ok := r.Spec(t.Type)
	if !ok || s.Kind != KindTrigger {
		return []*flow.Error{{Path: "type", Message: fmt.Sprintf("%s is not a trigger type", t.Type)}}
	}
	if s.CheckTrigger != nil {
		return s.CheckTrigger(t)
	}
	return nil
}

// Flowable implements engine.Types.
func (r *Registry) Flowable(t *flow.Task) (engine.Flowable, error) {
	s, ok := r.Spec(t.Type)
	if !ok {
		return nil, fmt.Errorf("unknown task type %q", t.Type)
	}
	if s.Kind != KindFlowable {
		return nil, nil
	}
	impl, errs := s.Decode(t)
	if len(errs) > 0 {
		return nil, flow.Errors(errs)
	}
	return impl.(engine.Flowable), nil
}

// Runnable returns the runnable implementation of t for a worker.
func (r *Registry) Runnable(t *flow.Task) (worker.Runnable, error) {
	s, ok := r.Spec(t.Type)
	if !ok {
		return nil, fmt.Errorf("unknown task type %q", t.Type)
	}
	if s.Kind != KindRunnable && s.Kind != KindFlowable {
		return nil, fmt.Errorf("%s is not run by a worker", t.Type)
	}
	impl, errs := s.Decode(t)
	if len(errs) > 0 {
		return nil, flow.Errors(errs)
	}
	// A group (WorkingDirectory) is a flowable a worker runs too.
	run, ok := impl.(worker.Runnable)
	if !ok {
		return nil, fmt.Errorf("%s is not run by a worker", t.Type)
	}
	return run, nil
}

func kindName(k Kind) string {
	switch k {
	case KindTrigger:
		return "trigger"
	case KindCondition:
		return "condition"
	case KindFlowable:
		return "flowable task"
	}
	return "task"
}

// legacyAliases maps Kestra's pre-0.17 type names to today's.
var legacyAliases = func() map[string]string {
	m := map[string]string{}
	pairs := map[string]string{
		"io.kestra.core.tasks.log.Log":                  pLog,
		"io.kestra.core.tasks.debugs.Return":            pReturn,
		"io.kestra.core.tasks.debugs.Echo":              pEcho,
		"io.kestra.core.tasks.outputs.OutputValues":     pOutputValues,
		"io.kestra.core.tasks.executions.Fail":          pFail,
		"io.kestra.core.tasks.executions.Labels":        pLabels,
		"io.kestra.core.tasks.flows.Sleep":              pSleep,
		"io.kestra.plugin.fs.http.Request":              pHTTPRequest,
		"io.kestra.plugin.fs.http.Trigger":              pHTTPTrigger,
		"io.kestra.core.tasks.trigger.Toggle":           pToggle,
		"io.kestra.core.tasks.scripts.Bash":             pShell,
		"io.kestra.core.models.triggers.types.Schedule": pSchedule,
		"io.kestra.core.models.triggers.types.Flow":     pFlowTrigger,
		"io.kestra.core.models.triggers.types.Webhook":  pWebhook,
	}
	for _, n := range []string{"Sequential", "Parallel", "If", "Switch", "ForEach", "EachSequential", "EachParallel", "Subflow", "Flow", "Pause", "AllowFailure", "Dag", "WaitFor"} {
		pairs["io.kestra.core.tasks.flows."+n] = "io.kestra.plugin.core.flow." + n
	}
	pairs["io.kestra.core.tasks.flows.WorkingDirectory"] = pWorkingDirectory
	pairs["io.kestra.core.tasks.flows.Worker"] = pWorkingDirectory
	pairs["io.kestra.plugin.fs.http.Download"] = "io.kestra.plugin.core.http.Download"
	pairs["io.kestra.core.tasks.log.Fetch"] = "io.kestra.plugin.core.log.Fetch"
	pairs["io.kestra.core.tasks.flows.ForEachItem"] = pForEachItem
	pairs["io.kestra.core.tasks.storages.Purge"], pairs["io.kestra.plugin.core.storage.Purge"] = pPurgeExecutions, pPurgeExecutions
	for _, n := range []string{"Concat", "Split", "Size", "Delete", "PurgeCurrentExecutionFiles", "LocalFiles"} {
		pairs["io.kestra.core.tasks.storages."+n] = "io.kestra.plugin.core.storage." + n
	}
	for _, n := range conditionNames {
		pairs["io.kestra.core.models.conditions.types."+n] = "io.kestra.plugin.core.condition." + n
	}
	// Kestra renamed WaitFor to LoopUntil; the properties are the same.
	pairs["io.kestra.plugin.core.flow.LoopUntil"] = "io.kestra.plugin.core.flow.WaitFor"
	for k, v := range pairs {
		m[k] = v
	}
	return m
}()

const (
	pLog          = "io.kestra.plugin.core.log.Log"
	pReturn       = "io.kestra.plugin.core.debug.Return"
	pEcho         = "io.kestra.plugin.core.debug.Echo"
	pOutputValues = "io.kestra.plugin.core.output.OutputValues"
	pFail         = "io.kestra.plugin.core.execution.Fail"
	pLabels       = "io.kestra.plugin.core.execution.Labels"
	pSleep        = "io.kestra.plugin.core.flow.Sleep"
	pHTTPRequest  = "io.kestra.plugin.core.http.Request"
	pShell        = "io.kestra.plugin.scripts.shell.Commands"
	pSchedule     = "io.kestra.plugin.core.trigger.Schedule"
	pScheduleOn   = "io.kestra.plugin.core.trigger.ScheduleOnDates"
	pFlowTrigger  = "io.kestra.plugin.core.trigger.Flow"
	pWebhook      = "io.kestra.plugin.core.trigger.Webhook"
)

var conditionNames = []string{
	"ExecutionFlow", "ExecutionStatus", "ExecutionNamespace", "ExecutionLabels", "ExecutionOutputs",
	"ExpressionCondition", "MultipleCondition", "FlowCondition", "FlowNamespaceCondition",
	"DateTimeBetween", "DayWeek", "DayWeekInMonth", "Not", "Or", "PublicHoliday", "TimeBetween", "Weekend",
}

// IsCondition reports whether typ names a condition type.
func IsCondition(typ string) bool {
	return strings.HasPrefix(typ, "io.kestra.plugin.core.condition.") || strings.HasPrefix(typ, "io.kestra.core.models.conditions.types.")
}
