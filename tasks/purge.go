package tasks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/worker"
)

// Kestra's purge tasks: core.execution.PurgeExecutions (legacy
// core.storage.Purge), core.log.PurgeLogs and core.kv.PurgeKV. They delete
// what a filter selects and report how much.
//
// A purge reaches only the running flow's namespace and its children: left
// out, namespace means that tree (where Kestra means every namespace); named,
// it must lie in it. Kestra Enterprise checks a purge against its allowed
// namespaces; Osprey has no such grant for purges, so a flow cannot empty
// another team's history.

const (
	pPurgeExecutions = "io.kestra.plugin.core.execution.PurgeExecutions"
	pPurgeLogs       = "io.kestra.plugin.core.log.PurgeLogs"
	pPurgeKV         = "io.kestra.plugin.core.kv.PurgeKV"
)

// purgeSpecs lists them.
func purgeSpecs() []*Spec {
	return []*Spec{
		runnable[PurgeExecutions](pPurgeExecutions, []string{"namespace", "flowId", "startDate", "endDate", "states",
			"purgeExecution", "purgeLog", "purgeMetric", "purgeStorage"}, func(t *flow.Task, x *PurgeExecutions) []*flow.Error {
			errs := required(t, "endDate", x.EndDate != "")
			for _, s := range x.States {
				if !slices.Contains(kestraStates, s) {
					errs = append(errs, taskErr(t, "states", fmt.Sprintf("unknown state %q; states are %s", s, joinStates(kestraStates))))
				}
			}
			return errs
		}),
		runnable[PurgeLogs](pPurgeLogs, []string{"namespace", "flowId", "logLevels", "startDate", "endDate"}, func(t *flow.Task, x *PurgeLogs) []*flow.Error {
			errs := required(t, "endDate", x.EndDate != "")
			for _, l := range x.LogLevels {
				if !slices.Contains(logLevels, l) {
					errs = append(errs, taskErr(t, "logLevels", fmt.Sprintf("unknown level %q; levels are %s", l, strings.Join(logLevels, ", "))))
				}
			}
			return errs
		}),
		runnable[PurgeKV](pPurgeKV, []string{"namespaces", "namespacePattern", "keyPattern", "expiredOnly", "includeChildNamespaces", "behavior"}, func(t *flow.Task, x *PurgeKV) []*flow.Error {
			if len(x.Namespaces) > 0 && x.NamespacePattern != "" {
				return []*flow.Error{taskErr(t, "", "Properties `namespaces` and `namespacePattern` can't be used at the same time — use one or the other")}
			}
			if x.Behavior != nil && x.Behavior.Type != "" && !strings.EqualFold(x.Behavior.Type, "key") {
				return []*flow.Error{taskErr(t, "behavior.type", fmt.Sprintf("unknown behavior type %q: Osprey purges by key (type: key)", x.Behavior.Type))}
			}
			return nil
		}),
	}
}

// kestraStates are the states a purge may filter on.
var kestraStates = []flow.State{flow.StateCreated, flow.StateQueued, flow.StateRunning, flow.StatePaused,
	flow.StateRestarted, flow.StateKilling, flow.StateSuccess, flow.StateWarning, flow.StateFailed, flow.StateKilled,
	flow.StateCancelled, flow.StateRetrying, flow.StateRetried, flow.StateSkipped, flow.StateBreakpoint, flow.StateResubmitted}

var logLevels = []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR"}

func joinStates(ss []flow.State) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}

// purgeScope renders a purge's namespace and flowId and checks the
// namespace lies in the running flow's tree. Without a flowId the store
// takes the namespace's children too, Kestra's rule.
func purgeScope(ctx context.Context, rc *worker.RunContext, nsTmpl, flowTmpl string) (ns, flowID string, err error) {
	own := flowNamespace(rc)
	ns = own
	if nsTmpl != "" {
		if ns, err = rc.Render(ctx, nsTmpl); err != nil {
			return "", "", fmt.Errorf("namespace: %w", err)
		}
		if err := withinNamespace(own, ns); err != nil {
			return "", "", err
		}
	}
	if flowTmpl != "" {
		if flowID, err = rc.Render(ctx, flowTmpl); err != nil {
			return "", "", fmt.Errorf("flowId: %w", err)
		}
	}
	return ns, flowID, nil
}

// flowNamespace is the running flow's namespace.
func flowNamespace(rc *worker.RunContext) string {
	f, _ := rc.Vars["flow"].(map[string]any)
	ns, _ := f["namespace"].(string)
	return ns
}

// withinNamespace refuses a namespace outside own's tree.
func withinNamespace(own, ns string) error {
	if ns == own || strings.HasPrefix(ns, own+".") {
		return nil
	}
	return fmt.Errorf("namespace %s is outside this flow's namespace %s: a purge task reaches only its own namespace and its children; run it from a flow of %s (or a parent of it)", ns, own, ns)
}

// purgeDate renders a date property (Kestra's ZonedDateTime: an ISO-8601
// date-time with an offset, an optional [zone] after it).
func purgeDate(ctx context.Context, rc *worker.RunContext, prop, tmpl string) (*time.Time, error) {
	if tmpl == "" {
		return nil, nil
	}
	s, err := rc.Render(ctx, tmpl)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prop, err)
	}
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '['); i > 0 && strings.HasSuffix(s, "]") {
		s = s[:i]
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, fmt.Errorf("%s: %q is not an ISO-8601 date-time with an offset, e.g. 2024-01-31T00:00:00Z or {{ now() | dateAdd(-1, 'MONTHS') }}", prop, s)
}

// PurgeExecutions deletes ended executions and, as asked, their logs,
// metrics and files in internal storage (core.execution.PurgeExecutions).
// An execution is selected, as Kestra's repository selects it, when it
// started at or after startDate and ended at or before endDate: running
// executions (the purging one included) have no end and are never purged.
//
// Osprey keeps an execution's metrics inside it and its logs only while it
// exists: purgeExecution takes both with it, whatever purgeLog and
// purgeMetric say; metricsCount counts the metrics it took.
type PurgeExecutions struct {
	Namespace      string       `json:"namespace"`
	FlowID         string       `json:"flowId"`
	StartDate      string       `json:"startDate"`
	EndDate        string       `json:"endDate"`
	States         []flow.State `json:"states"`
	PurgeExecution *bool        `json:"purgeExecution"`
	PurgeLog       *bool        `json:"purgeLog"`
	PurgeMetric    *bool        `json:"purgeMetric"`
	PurgeStorage   *bool        `json:"purgeStorage"`
}

// purgePage is how many executions one search reads.
const purgePage = 200

// Run implements worker.Runnable.
func (x *PurgeExecutions) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	if rc.Executions == nil || rc.Logs == nil {
		return nil, errors.New("PurgeExecutions: this worker has no access to executions")
	}
	ns, flowID, err := purgeScope(ctx, rc, x.Namespace, x.FlowID)
	if err != nil {
		return nil, err
	}
	from, err := purgeDate(ctx, rc, "startDate", x.StartDate)
	if err != nil {
		return nil, err
	}
	to, err := purgeDate(ctx, rc, "endDate", x.EndDate)
	if err != nil {
		return nil, err
	}
	chosen, err := x.selectExecutions(ctx, rc.Executions, ns, flowID, from, to)
	if err != nil {
		return nil, err
	}
	var executions, logs, files, metrics int
	for _, ex := range chosen {
		if isSet(x.PurgeLog) {
			n, err := rc.Logs.Purge(ctx, store.LogPurgeParams{ExecutionID: ex.id})
			if err != nil {
				return nil, err
			}
			logs += n
		}
		if isSet(x.PurgeStorage) && rc.Storage != nil {
			n, err := rc.Storage.DeleteTree(ctx, storage.ExecutionPath(ex.namespace, ex.flowID, ex.id))
			if err != nil {
				return nil, fmt.Errorf("delete the files of execution %s: %w", ex.id, err)
			}
			files += n
		}
		if isSet(x.PurgeExecution) {
			if err := rc.Executions.Delete(ctx, ex.id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			executions++
			if isSet(x.PurgeMetric) {
				metrics += ex.metrics
			}
		}
	}
	rc.Log("INFO", fmt.Sprintf("purged %d executions, %d log lines, %d files, %d metrics", executions, logs, files, metrics))
	return map[string]any{"executionsCount": executions, "logsCount": logs, "storagesCount": files, "metricsCount": metrics}, nil
}

// selectExecutions reads, page by page, the executions the purge selects.
// The store searches on the start date; the end date is checked here.
func (x *PurgeExecutions) selectExecutions(ctx context.Context, st store.ExecutionStore, ns, flowID string, from, to *time.Time) ([]purged, error) {
	var out []purged
	for page := 1; ; page++ {
		list, _, err := st.Search(ctx, store.ExecutionQuery{Namespace: ns, FlowID: flowID, States: x.States, From: from, To: to, Page: page, Size: purgePage})
		if err != nil {
			return nil, fmt.Errorf("search executions of %s: %w", ns, err)
		}
		for _, ex := range list {
			end := ex.State.EndDate
			switch {
			case flowID != "" && ex.Namespace != ns: // a flow names its namespace exactly
			case !ex.State.Current.IsTerminal() || end == nil:
			case to != nil && end.After(*to):
			default:
				out = append(out, purged{id: ex.ID, namespace: ex.Namespace, flowID: ex.FlowID, metrics: countMetrics(ex)})
			}
		}
		if len(list) < purgePage {
			return out, nil
		}
	}
}

// purged is what a purge keeps of an execution it selected: not the whole
// document, so a purge of many executions holds little in memory.
type purged struct {
	id, namespace, flowID string
	metrics               int
}

// countMetrics counts the metrics an execution's task runs reported.
func countMetrics(ex *flow.Execution) int {
	n := 0
	for _, tr := range ex.TaskRunList {
		for _, a := range tr.Attempts {
			n += len(a.Metrics)
		}
	}
	return n
}

// isSet reads an optional boolean that defaults to true.
func isSet(b *bool) bool { return b == nil || *b }

// PurgeLogs deletes log lines, of executions and of triggers, in bulk
// (core.log.PurgeLogs): those at or before endDate (and at or after
// startDate), of the namespace's tree or of one flow, of the logLevels
// given (all by default). outputs.count says how many.
type PurgeLogs struct {
	Namespace string   `json:"namespace"`
	FlowID    string   `json:"flowId"`
	LogLevels []string `json:"logLevels"`
	StartDate string   `json:"startDate"`
	EndDate   string   `json:"endDate"`
}

// Run implements worker.Runnable.
func (x *PurgeLogs) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	if rc.Logs == nil {
		return nil, errors.New("PurgeLogs: this worker has no access to logs")
	}
	ns, flowID, err := purgeScope(ctx, rc, x.Namespace, x.FlowID)
	if err != nil {
		return nil, err
	}
	from, err := purgeDate(ctx, rc, "startDate", x.StartDate)
	if err != nil {
		return nil, err
	}
	to, err := purgeDate(ctx, rc, "endDate", x.EndDate)
	if err != nil {
		return nil, err
	}
	n, err := rc.Logs.Purge(ctx, store.LogPurgeParams{Namespace: ns, FlowID: flowID, Levels: x.LogLevels, From: from, To: to})
	if err != nil {
		return nil, err
	}
	return map[string]any{"count": n}, nil
}

// PurgeKV deletes key-value entries (core.kv.PurgeKV): by default the
// expired ones of the flow's namespace and its children; namespaces or a
// namespacePattern choose others inside that tree, keyPattern (a wildcard
// pattern: * and ?) filters keys, expiredOnly: false takes live entries
// too. outputs.size says how many.
type PurgeKV struct {
	Namespaces             []string         `json:"namespaces"`
	NamespacePattern       string           `json:"namespacePattern"`
	KeyPattern             string           `json:"keyPattern"`
	ExpiredOnly            *bool            `json:"expiredOnly"`
	IncludeChildNamespaces *bool            `json:"includeChildNamespaces"`
	Behavior               *kvPurgeBehavior `json:"behavior"`
}

// kvPurgeBehavior is newer Kestra's behavior property ({type: key,
// expiredOnly}); expiredOnly at the top wins, as in Kestra.
type kvPurgeBehavior struct {
	Type        string `json:"type"`
	ExpiredOnly *bool  `json:"expiredOnly"`
}

// Run implements worker.Runnable.
func (x *PurgeKV) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	if rc.KV == nil {
		return nil, errors.New("PurgeKV: no key-value store is available to this worker")
	}
	own := flowNamespace(rc)
	expired := true
	if x.ExpiredOnly != nil {
		expired = *x.ExpiredOnly
	} else if x.Behavior != nil && x.Behavior.ExpiredOnly != nil {
		expired = *x.Behavior.ExpiredOnly
	}
	keyPattern, err := rc.Render(ctx, x.KeyPattern)
	if err != nil {
		return nil, fmt.Errorf("keyPattern: %w", err)
	}
	nsPattern, err := rc.Render(ctx, x.NamespacePattern)
	if err != nil {
		return nil, fmt.Errorf("namespacePattern: %w", err)
	}
	var targets []store.KVPurgeParams
	now := time.Now().UTC()
	base := store.KVPurgeParams{ExpiredOnly: expired, Now: now, Children: isSet(x.IncludeChildNamespaces)}
	switch {
	case nsPattern != "":
		// the pattern picks among the namespaces of the flow's tree
		p := base
		p.Namespace, p.Children = own, true
		p.Match = func(ns, key string) bool {
			return wildcard(nsPattern, ns) && (keyPattern == "" || wildcard(keyPattern, key))
		}
		targets = append(targets, p)
	case len(x.Namespaces) > 0:
		for _, tmpl := range x.Namespaces {
			ns, err := rc.Render(ctx, tmpl)
			if err != nil {
				return nil, fmt.Errorf("namespaces: %w", err)
			}
			if err := withinNamespace(own, ns); err != nil {
				return nil, err
			}
			p := base
			p.Namespace = ns
			targets = append(targets, p)
		}
	default:
		p := base
		p.Namespace = own
		targets = append(targets, p)
	}
	total := 0
	for _, p := range targets {
		if p.Match == nil && keyPattern != "" {
			p.Match = func(_, key string) bool { return wildcard(keyPattern, key) }
		}
		n, err := rc.KV.Purge(ctx, p)
		if err != nil {
			return nil, err
		}
		total += n
	}
	rc.Log("INFO", fmt.Sprintf("purged %d keys", total))
	return map[string]any{"size": total}, nil
}

// wildcard matches s against a pattern where * is any run of characters
// and ? any one character, case-sensitively (Kestra's wildcardMatch).
func wildcard(pattern, s string) bool {
	p, r := []rune(pattern), []rune(s)
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(r) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == r[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi, mark = star+1, mark+1
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

var (
	_ worker.Runnable = (*PurgeExecutions)(nil)
	_ worker.Runnable = (*PurgeLogs)(nil)
	_ worker.Runnable = (*PurgeKV)(nil)
)
