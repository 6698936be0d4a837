package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
)

// start begins the case as its test does and returns the view of the
// execution under test (nil exec when none was created).
func (cr *caseRun) start(ctx context.Context) (*view, error) {
	v := &view{values: map[string]string{}}
	s := cr.c.Start
	switch s.Kind {
	case "manual":
		if seq := cr.listenerSequence(); seq != "" {
			// The test ran the listener's whole sequence (flow-a, then
			// this flow): replay it, and look at this flow's last run.
			if err := cr.runSources(ctx, v, seq); err != nil {
				return nil, err
			}
			all, err := cr.sys.Executions(ctx, cr.fe.Namespace, cr.fe.ID)
			if err != nil || len(all) == 0 {
				return nil, fmt.Errorf("no execution of %s after %q", cr.fe.File, seq)
			}
			v.exec = all[len(all)-1]
			v.values[cr.fe.ID] = v.exec.ID
			return v, nil
		}
		inputs := inputsOf(s.Inputs)
		var labels []flow.Label
		for k, val := range s.ExecutionLabels {
			labels = append(labels, flow.Label{Key: k, Value: val})
		}
		parsed := s.InputMode == "parsed"
		ex, err := cr.sys.Start(ctx, cr.fe.Namespace, cr.fe.ID, inputs, parsed, labels)
		if err != nil {
			return nil, fmt.Errorf("start: %w", err)
		}
		v.exec = ex
		v.values[cr.fe.ID] = ex.ID
		if strings.Contains(s.Note, "execution 1 is started") {
			if _, err := cr.waitFor(ctx, ex.ID, func(e *flow.Execution) bool {
				return e.State.Current == flow.StateRunning || e.Settled()
			}); err != nil {
				return nil, fmt.Errorf("execution 1: %w", err)
			}
			if _, err := cr.sys.Start(ctx, cr.fe.Namespace, cr.fe.ID, inputs, parsed, labels); err != nil {
				return nil, fmt.Errorf("start execution 2: %w", err)
			}
		}
		return v, nil
	case "subflow":
		root := cr.rootOf(s.Parent)
		if root == "" {
			return nil, fmt.Errorf("parent %q: %w", s.Parent, errUnsupported)
		}
		ns, id, _ := cr.flowOf(root)
		if !cr.loaded(root) {
			if err := cr.sys.Load(ctx, []string{cr.sources[root]}); err != nil {
				return nil, fmt.Errorf("load parent %s: %w", root, err)
			}
		}
		pex, err := cr.sys.Start(ctx, ns, id, s.InputsFromParent, false, cr.parentLabels(root, s.InputsFromParent))
		if err != nil {
			return nil, fmt.Errorf("start parent %s: %w", root, err)
		}
		v.values[id] = pex.ID
		v.values["parent"] = pex.ID
		if _, err := cr.waitFor(ctx, pex.ID, func(e *flow.Execution) bool { return e.Settled() }); err != nil {
			return nil, fmt.Errorf("parent %s: %w", root, err)
		}
		v.exec = cr.waitNew(ctx, cr.fe.Namespace, cr.fe.ID, nil, 5*time.Second)
		cr.recordAll(ctx, v)
		return v, nil
	case "flow-trigger":
		if err := cr.runSources(ctx, v, s.SourceFlow); err != nil {
			return nil, err
		}
		v.exec = cr.waitNew(ctx, cr.fe.Namespace, cr.fe.ID, nil, 15*time.Second)
		cr.recordAll(ctx, v)
		return v, nil
	case "webhook":
		if s.Request == nil {
			return nil, fmt.Errorf("webhook case without a request")
		}
		var body []byte
		ct := ""
		if s.Request.JSONBody != nil {
			body, _ = json.Marshal(s.Request.JSONBody)
			ct = "application/json"
		} else if s.Request.Body != nil {
			body = []byte(*s.Request.Body)
		}
		status, resp, err := cr.sys.HTTP(ctx, s.Request.Method, s.Request.Path, ct, body)
		if err != nil {
			return nil, fmt.Errorf("webhook: %w", err)
		}
		v.status, v.body = status, resp
		m, ex := decodeExecution(resp)
		v.response = m
		if ex != nil {
			v.exec = ex
			v.values[cr.fe.ID] = ex.ID
		}
		return v, nil
	}
	return nil, fmt.Errorf("start kind %q: %w", s.Kind, errUnsupported)
}

// listenerSequence returns the source sequence of a Flow-trigger listener
// this case's related executions name, when that sequence runs another
// flow before this one ("flow-a then flow-b" for flow-b's case).
func (cr *caseRun) listenerSequence() string {
	for _, r := range cr.c.Related {
		for _, fe := range cr.all {
			if fe.File != r.Flow {
				continue
			}
			for _, c := range fe.Cases {
				src := c.Start.SourceFlow
				if c.Start.Kind != "flow-trigger" || !strings.Contains(src, " then ") {
					continue
				}
				name := strings.TrimSuffix(strings.TrimSuffix(cr.fe.File, ".yaml"), ".yml")
				if strings.Contains(src, name) && !strings.HasPrefix(strings.TrimSpace(src), name) {
					return src
				}
			}
		}
	}
	return ""
}

// rootOf finds the corpus flow to run manually so that the flow named by
// parent (a file, or a sentence naming one) runs: a subflow-only parent
// is itself started by its own parent.
func (cr *caseRun) rootOf(parent string) string {
	names := reFile.FindAllString(parent, -1)
	for _, name := range names {
		if _, ok := cr.sources[name]; ok && cr.loaded(name) {
			return cr.climb(name, 0)
		}
	}
	for _, name := range names {
		if _, ok := cr.sources[name]; ok {
			return name
		}
	}
	return ""
}

// parentLabels returns the execution labels the parent's own case starts
// with for the same inputs: the subflow case is the same Kestra test.
func (cr *caseRun) parentLabels(root string, inputs map[string]any) []flow.Label {
	for _, fe := range cr.all {
		if fe.File != root {
			continue
		}
		for _, c := range fe.Cases {
			if c.Start.Kind == "manual" && same(inputsOf(c.Start.Inputs), inputs) {
				var out []flow.Label
				for k, v := range c.Start.ExecutionLabels {
					out = append(out, flow.Label{Key: k, Value: v})
				}
				return out
			}
		}
	}
	return nil
}

func (cr *caseRun) loaded(name string) bool {
	for _, lf := range cr.c.LoadedFlows {
		if lf == name || strings.HasPrefix(lf, "ALL of") {
			return true
		}
	}
	return name == cr.fe.File
}

// climb follows subflow-only flows up to one that is started manually.
func (cr *caseRun) climb(name string, depth int) string {
	if depth > 5 {
		return name
	}
	// A flow is subflow-only when no loaded flow... the corpus says so:
	// subflow-child is called by subflow-parent.
	for _, lf := range cr.c.LoadedFlows {
		src, ok := cr.sources[lf]
		if !ok || lf == name {
			continue
		}
		_, id, _ := cr.flowOf(name)
		if strings.Contains(src, "flowId: "+id) && cr.subflowOnly(name) {
			return cr.climb(lf, depth+1)
		}
	}
	return name
}

func (cr *caseRun) subflowOnly(name string) bool {
	return subflowOnly[name]
}

// subflowOnly lists the corpus flows that only ever run as subflows.
var subflowOnly = map[string]bool{
	"subflow-child.yaml":                true,
	"subflow-grand-child.yaml":          true,
	"for-each-item-subflow-failed.yaml": true,
}

var reSource = regexp.MustCompile(`([A-Za-z0-9_.-]+?)(?:\.ya?ml)?(\s*\(run twice\))?$`)

// runSources runs the flows a Flow-trigger case names, in order.
func (cr *caseRun) runSources(ctx context.Context, v *view, desc string) error {
	for _, part := range strings.Split(desc, " then ") {
		part = strings.TrimSpace(part)
		var file string
		runs := 1
		if strings.HasPrefix(part, "any SUCCESS execution in") {
			ns := strings.TrimSpace(strings.TrimPrefix(part, "any SUCCESS execution in"))
			for _, lf := range cr.c.LoadedFlows {
				fns, _, ok := cr.flowOf(lf)
				if ok && fns == ns && lf != cr.fe.File && !strings.Contains(cr.sources[lf], "io.kestra.plugin.core.trigger.Flow") {
					file = lf
					break
				}
			}
		} else if m := reSource.FindStringSubmatch(part); m != nil {
			for _, cand := range []string{m[1] + ".yaml", m[1] + ".yml", m[1]} {
				if _, ok := cr.sources[cand]; ok {
					file = cand
					break
				}
			}
			if m[2] != "" {
				runs = 2
			}
		}
		if file == "" {
			return fmt.Errorf("source flow %q: %w", part, errUnsupported)
		}
		ns, id, _ := cr.flowOf(file)
		for i := 0; i < runs; i++ {
			ex, err := cr.sys.Start(ctx, ns, id, nil, true, nil)
			if err != nil {
				return fmt.Errorf("run %s: %w", file, err)
			}
			if _, ok := v.values[id]; !ok {
				v.values[id] = ex.ID
			}
			if _, err := cr.waitFor(ctx, ex.ID, func(e *flow.Execution) bool { return e.Settled() }); err != nil {
				return fmt.Errorf("run %s: %w", file, err)
			}
		}
	}
	return nil
}

// recordAll notes the first execution of every loaded flow, for value_of.
func (cr *caseRun) recordAll(ctx context.Context, v *view) {
	for _, lf := range cr.c.LoadedFlows {
		ns, id, ok := cr.flowOf(lf)
		if !ok {
			continue
		}
		if _, done := v.values[id]; done {
			continue
		}
		if all, err := cr.sys.Executions(ctx, ns, id); err == nil && len(all) > 0 {
			v.values[id] = all[0].ID
		}
	}
	if v.exec != nil {
		if _, ok := v.values[cr.fe.ID]; !ok {
			v.values[cr.fe.ID] = v.exec.ID
		}
	}
}

// act performs one of the case's actions.
func (cr *caseRun) act(ctx context.Context, v *view, a string) error {
	switch {
	case strings.HasPrefix(a, "run "):
		return nil // the flow-trigger start already ran the named flows
	case strings.Contains(a, "restart"):
		ex, err := cr.waitFor(ctx, v.exec.ID, func(e *flow.Execution) bool { return e.Settled() })
		if err != nil {
			return err
		}
		v.exec = ex
		return cr.sys.Restart(ctx, ex.ID)
	case strings.Contains(a, "resume") || strings.Contains(a, "to RUNNING"):
		return cr.sys.Resume(ctx, v.exec.ID, nil)
	}
	return errUnsupported
}
