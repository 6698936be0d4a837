package flow

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// SLA is one of a flow's service-level agreements (Kestra 0.20+): what an
// execution must meet, and what happens when it does not.
//
// MAX_DURATION is violated when the execution still runs Duration after it
// was created; EXECUTION_ASSERTION when Assert renders false on a step of
// the running execution (Kestra evaluates it on every change of a running
// execution, ExecutorService#handleExecutionChangedSLA). Behavior FAIL ends
// the execution FAILED, CANCEL ends it CANCELLED, NONE leaves it running;
// in every case Labels are added to the execution and a WARN line says
// which SLA was violated and why.
type SLA struct {
	ID       string  `json:"id"`
	Type     string  `json:"type"`               // MAX_DURATION, EXECUTION_ASSERTION
	Behavior string  `json:"behavior"`           // FAIL, CANCEL, NONE
	Duration string  `json:"duration,omitempty"` // MAX_DURATION: ISO-8601
	Assert   string  `json:"assert,omitempty"`   // EXECUTION_ASSERTION: an expression
	Labels   []Label `json:"labels,omitempty"`
}

// The SLA types and behaviors Kestra knows.
const (
	SLAMaxDuration        = "MAX_DURATION"
	SLAExecutionAssertion = "EXECUTION_ASSERTION"
	SLAFail               = "FAIL"
	SLACancel             = "CANCEL"
	SLANone               = "NONE"
)

var slaKeys = []string{"id", "type", "behavior", "labels", "duration", "assert"}

// slas reads the flow's sla list, checking what Kestra's model requires:
// an id, a known type and behavior, the type's own property, and no
// system.* label.
func (p *parser) slas(path string, at, v *yaml.Node) []*SLA {
	var out []*SLA
	for _, it := range p.mappings(path, at, v, "an SLA must be a mapping with id, type and behavior") {
		s := &SLA{}
		for _, kv := range p.pairs(it.path, it.node) {
			val := p.deref(kv.Value)
			if val == nil {
				continue
			}
			kpath := joinKey(it.path, kv.Key)
			switch kv.Key {
			case "id":
				s.ID = p.str(kpath, kv.KeyN, val)
			case "type":
				s.Type = strings.ToUpper(p.str(kpath, kv.KeyN, val))
				if s.Type != SLAMaxDuration && s.Type != SLAExecutionAssertion {
					p.errorf(kpath, kv.KeyN, "SLA type %q must be MAX_DURATION or EXECUTION_ASSERTION", val.Value)
				}
			case "behavior":
				s.Behavior = strings.ToUpper(p.str(kpath, kv.KeyN, val))
				if s.Behavior != SLAFail && s.Behavior != SLACancel && s.Behavior != SLANone {
					p.errorf(kpath, kv.KeyN, "SLA behavior %q must be FAIL, CANCEL or NONE", val.Value)
				}
			case "duration":
				s.Duration = p.str(kpath, kv.KeyN, val)
				if _, err := ParseDuration(s.Duration); s.Duration != "" && err != nil {
					p.errorf(kpath, kv.KeyN, "SLA duration: %v", err)
				}
			case "assert":
				s.Assert = p.str(kpath, kv.KeyN, val)
			case "labels":
				s.Labels = p.labels(kpath, kv.KeyN, val)
			default:
				p.unknownKey(it.path, kv.KeyN, kv.Key, slaKeys, "SLA")
			}
		}
		if s.ID == "" && !p.hasErrorUnder(joinKey(it.path, "id")) {
			p.errorf(joinKey(it.path, "id"), it.node, "an SLA needs an id")
		}
		if s.Type == "" && !p.hasErrorUnder(joinKey(it.path, "type")) {
			p.errorf(joinKey(it.path, "type"), it.node, "an SLA needs a type: MAX_DURATION or EXECUTION_ASSERTION")
		}
		if s.Behavior == "" && !p.hasErrorUnder(joinKey(it.path, "behavior")) {
			p.errorf(joinKey(it.path, "behavior"), it.node, "an SLA needs a behavior: FAIL, CANCEL or NONE")
		}
		switch {
		case s.Type == SLAMaxDuration && s.Duration == "" && !p.hasErrorUnder(joinKey(it.path, "duration")):
			p.errorf(joinKey(it.path, "duration"), it.node, "a MAX_DURATION SLA needs a duration (ISO-8601, e.g. PT1H)")
		case s.Type == SLAExecutionAssertion && strings.TrimSpace(s.Assert) == "" && !p.hasErrorUnder(joinKey(it.path, "assert")):
			p.errorf(joinKey(it.path, "assert"), it.node, "an EXECUTION_ASSERTION SLA needs an assert expression")
		}
		out = append(out, s)
	}
	return out
}
