package tasks

import (
	"fmt"
	"time"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

type pauseProps struct {
	Delay         string `json:"delay"`
	Timeout       string `json:"timeout"`
	PauseDuration string `json:"pauseDuration"`
	Behavior      string `json:"behavior"`
	OnResume      []any  `json:"onResume"`
}

// pause stops the execution until it is resumed from the API, its delay
// has passed, or its timeout ends it.
type pause struct {
	t *flow.Task
	p pauseProps
}

// OwnTimeout implements engine.OwnTimeout: a Pause's timeout is how long
// it waits for a resume, not a limit the engine enforces.
func (pause) OwnTimeout() bool { return true }

func (f pause) Resolve(s *engine.Scope, p *flow.TaskRun) (engine.Outcome, error) {
	delay, err := optDuration(s, p, f.p.Delay)
	if err != nil {
		return engine.Outcome{}, fmt.Errorf("delay: %w", err)
	}
	// timeout is a property every task has, so the parser keeps it on the
	// task itself; pauseDuration is its older name.
	timeout, err := optDuration(s, p, firstNonEmpty(firstNonEmpty(f.p.Timeout, f.t.Timeout), f.p.PauseDuration))
	if err != nil {
		return engine.Outcome{}, fmt.Errorf("timeout: %w", err)
	}
	switch {
	case p.State.Current == flow.StateRunning && !p.State.Has(flow.StatePaused):
		s.SetState(p, flow.StatePaused)
		if delay > 0 {
			s.WakeAt(s.Now().Add(delay))
		} else if timeout > 0 {
			s.WakeAt(s.Now().Add(timeout))
		}
		return engine.Outcome{}, nil
	case p.State.Current == flow.StatePaused:
		pausedAt := lastDate(p.State, flow.StatePaused)
		if delay > 0 {
			if due := pausedAt.Add(delay); s.Now().Before(due) {
				s.WakeAt(due)
				return engine.Outcome{}, nil
			}
			s.SetState(p, flow.StateRunning)
			break
		}
		if timeout > 0 {
			if due := pausedAt.Add(timeout); s.Now().Before(due) {
				s.WakeAt(due)
				return engine.Outcome{}, nil
			}
			switch f.p.Behavior {
			case "RESUME":
				s.SetState(p, flow.StateRunning)
			case "WARN":
				return engine.Outcome{Done: true, State: flow.StateWarning}, nil
			case "CANCEL":
				return engine.Outcome{Done: true, State: flow.StateCancelled}, nil
			default:
				p.Error = fmt.Sprintf("paused for more than %s without being resumed", timeout)
				return engine.Outcome{Done: true, State: flow.StateFailed}, nil
			}
			break
		}
		return engine.Outcome{}, nil
	}
	c := f.t.Children
	if len(c["tasks"]) > 0 {
		return s.Sequential(p, c["tasks"], c["errors"], c["finally"]), nil
	}
	return engine.Outcome{Done: true, State: flow.StateSuccess}, nil
}

func optDuration(s *engine.Scope, p *flow.TaskRun, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	out, err := s.Render(p, v)
	if err != nil {
		return 0, err
	}
	return flow.ParseDuration(out)
}

func lastDate(si flow.StateInfo, st flow.State) time.Time {
	for i := len(si.Histories) - 1; i >= 0; i-- {
		if si.Histories[i].State == st {
			return si.Histories[i].Date
		}
	}
	return time.Time{}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

type waitForProps struct {
	Condition        any    `json:"condition"`
	MaxIterations    any    `json:"maxIterations"`
	MaxDuration      string `json:"maxDuration"`
	FailOnMaxReached bool   `json:"failOnMaxReached"`
	CheckFrequency   struct {
		Interval      string `json:"interval"`
		MaxIterations any    `json:"maxIterations"`
		MaxDuration   string `json:"maxDuration"`
	} `json:"checkFrequency"`
}

// waitFor runs its tasks again and again until its condition holds.
type waitFor struct {
	t *flow.Task
	p waitForProps
}

func (f waitFor) Resolve(s *engine.Scope, p *flow.TaskRun) (engine.Outcome, error) {
	iter := 0
	switch n := p.Outputs["iterationCount"].(type) {
	case int:
		iter = n
	case int64:
		iter = int(n)
	case float64:
		iter = int(n)
	}
	if p.RetryAt != nil {
		if s.Now().Before(*p.RetryAt) {
			s.WakeAt(*p.RetryAt)
			return engine.Outcome{}, nil
		}
		p.RetryAt = nil
		iter++
		s.SetOutputs(p, map[string]any{"iterationCount": iter})
	}
	if p.Outputs == nil {
		s.SetOutputs(p, map[string]any{"iterationCount": iter})
	}
	cur := iter
	c := f.t.Children
	out := s.List(p, p.Value, &cur, c["tasks"], c["errors"], c["finally"], 1)
	if !out.Done {
		return out, nil
	}
	if out.State == flow.StateFailed || out.State == flow.StateKilled {
		return out, nil
	}
	cond, err := s.Render(p, str(f.p.Condition))
	if err != nil {
		return engine.Outcome{}, fmt.Errorf("condition: %w", err)
	}
	if engine.Truthy(cond) {
		return out, nil
	}
	maxIter, err := renderInt(s, p, firstNonNil(f.p.CheckFrequency.MaxIterations, f.p.MaxIterations), 100)
	if err != nil {
		return engine.Outcome{}, fmt.Errorf("maxIterations: %w", err)
	}
	maxDur, err := optDuration(s, p, firstNonEmpty(firstNonEmpty(f.p.CheckFrequency.MaxDuration, f.p.MaxDuration), "PT1H"))
	if err != nil {
		return engine.Outcome{}, fmt.Errorf("maxDuration: %w", err)
	}
	started := p.State.Histories[0].Date
	if iter+1 >= maxIter || s.Now().Sub(started) >= maxDur {
		st := flow.StateSuccess
		if f.p.FailOnMaxReached {
			st = flow.StateFailed
			p.Error = fmt.Sprintf("condition still false after %d iterations", iter+1)
		}
		return engine.Outcome{Done: true, State: st}, nil
	}
	interval, err := optDuration(s, p, firstNonEmpty(f.p.CheckFrequency.Interval, "PT1S"))
	if err != nil {
		return engine.Outcome{}, fmt.Errorf("interval: %w", err)
	}
	next := s.Now().Add(interval)
	p.RetryAt = &next
	s.WakeAt(next)
	return engine.Outcome{}, nil
}

func firstNonNil(a, b any) any {
	if a != nil {
		return a
	}
	return b
}

type subflowProps struct {
	Namespace      string         `json:"namespace"`
	FlowID         string         `json:"flowId"`
	Revision       any            `json:"revision"`
	Inputs         map[string]any `json:"inputs"`
	Labels         any            `json:"labels"`
	Wait           *bool          `json:"wait"`
	TransmitFailed *bool          `json:"transmitFailed"`
	InheritLabels  bool           `json:"inheritLabels"`
	ScheduleDate   any            `json:"scheduleDate"`
	Outputs        map[string]any `json:"outputs"`
}

// subflow starts an execution of another flow and, unless wait is false,
// ends with it.
type subflow struct {
	t *flow.Task
	p subflowProps
}

func (f subflow) Resolve(s *engine.Scope, p *flow.TaskRun) (engine.Outcome, error) {
	wait := f.p.Wait == nil || *f.p.Wait
	transmit := f.p.TransmitFailed == nil || *f.p.TransmitFailed
	childID, _ := p.Outputs["executionId"].(string)
	if childID == "" {
		ns, err := s.Render(p, f.p.Namespace)
		if err != nil {
			return engine.Outcome{}, fmt.Errorf("namespace: %w", err)
		}
		id, err := s.Render(p, f.p.FlowID)
		if err != nil {
			return engine.Outcome{}, fmt.Errorf("flowId: %w", err)
		}
		inputs := map[string]any{}
		if f.p.Inputs != nil {
			v, err := s.RenderValue(p, map[string]any(f.p.Inputs))
			if err != nil {
				return engine.Outcome{}, fmt.Errorf("inputs: %w", err)
			}
			inputs = v.(map[string]any)
		}
		var labels []flow.Label
		ex := s.Execution()
		if f.p.InheritLabels {
			for _, l := range ex.Labels {
				if l.Key != correlationLabel {
					labels = append(labels, l)
				}
			}
		}
		for _, l := range ex.Labels {
			if l.Key == correlationLabel && !hasLabel(labels, correlationLabel) {
				labels = append(labels, l)
			}
		}
		if f.p.Labels != nil {
			v, err := s.RenderValue(p, f.p.Labels)
			if err != nil {
				return engine.Outcome{}, fmt.Errorf("labels: %w", err)
			}
			labels = append(labels, toLabels(v)...)
		}
		var at *time.Time
		if f.p.ScheduleDate != nil {
			v, err := s.Render(p, fmt.Sprint(f.p.ScheduleDate))
			if err != nil {
				return engine.Outcome{}, fmt.Errorf("scheduleDate: %w", err)
			}
			d, err := flow.ParseDateTime(v, nil)
			if err != nil {
				return engine.Outcome{}, fmt.Errorf("scheduleDate: %w", err)
			}
			at = &d
		}
		rev, _ := f.p.Revision.(float64)
		child, err := s.StartExecution(engine.StartRequest{
			Namespace: ns, FlowID: id, Revision: int(rev), Inputs: inputs, Labels: labels, ParentID: ex.ID, ScheduleDate: at,
			Trigger: &flow.ExecutionTrigger{
				ID:   f.t.ID,
				Type: "io.kestra.plugin.core.flow.Subflow",
				Variables: map[string]any{
					"executionId":  ex.ID,
					"namespace":    ex.Namespace,
					"flowId":       ex.FlowID,
					"flowRevision": ex.FlowRevision,
					"taskRunId":    p.ID,
				},
			},
		})
		if err != nil {
			return engine.Outcome{}, err
		}
		s.SetOutputs(p, map[string]any{"executionId": child.ID})
		if !wait {
			return engine.Outcome{Done: true, State: flow.StateSuccess}, nil
		}
		childID = child.ID
	}
	child := s.Related(childID)
	if child == nil || !child.Settled() {
		// Settled, not only ended: as in Kestra, the parent waits for
		// the child's afterExecution tasks too.
		return engine.Outcome{}, nil
	}
	outs := map[string]any{"executionId": child.ID, "state": string(child.State.Current)}
	if child.Outputs != nil {
		outs["outputs"] = child.Outputs
	}
	if len(f.p.Outputs) > 0 {
		// the legacy Flow/Subflow `outputs`: expressions on the child
		vars := engine.Vars(&flow.Flow{ID: child.FlowID, Namespace: child.Namespace, Revision: child.FlowRevision}, child, nil, nil, nil)
		rendered := map[string]any{}
		for k, expr := range f.p.Outputs {
			v, err := s.RenderWith(vars, expr)
			if err != nil {
				s.SetOutputs(p, outs)
				s.AddAttempt(p, flow.StateFailed)
				return engine.Outcome{}, fmt.Errorf("outputs.%s: %w", k, err)
			}
			rendered[k] = v
		}
		outs["outputs"] = rendered
	}
	s.SetOutputs(p, outs)
	st := subflowState(child.State.Current, transmit)
	s.AddAttempt(p, st)
	if st == flow.StateFailed {
		p.Error = fmt.Sprintf("subflow execution %s ended %s", child.ID, child.State.Current)
	}
	return engine.Outcome{Done: true, State: st}, nil
}

// subflowState is the state a Subflow task run ends in for its child's.
func subflowState(child flow.State, transmit bool) flow.State {
	switch {
	case child == flow.StateSuccess:
		return flow.StateSuccess
	case child == flow.StateWarning:
		return flow.StateWarning
	case !transmit:
		return flow.StateSuccess
	case child == flow.StateKilled || child == flow.StateCancelled:
		return flow.StateKilled
	}
	return flow.StateFailed
}

// correlationLabel ties every execution of a subflow chain to its root.
const correlationLabel = "system.correlationId"

func hasLabel(ls []flow.Label, key string) bool {
	for _, l := range ls {
		if l.Key == key {
			return true
		}
	}
	return false
}

func toLabels(v any) []flow.Label {
	var out []flow.Label
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			out = append(out, flow.Label{Key: k, Value: str(v[k])})
		}
	case *ordered.Map:
		for k, e := range v.All() {
			out = append(out, flow.Label{Key: k, Value: str(e)})
		}
	case []any:
		for _, item := range v {
			if m, ok := ordered.AsMap(item); ok {
				out = append(out, flow.Label{Key: str(m["key"]), Value: str(m["value"])})
			}
		}
	}
	return out
}
