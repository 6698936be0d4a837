package flow

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// Check is one of a flow's checks (Kestra 1.2+): a condition the inputs
// must meet before an execution is created, the message shown when they do
// not, and what happens then. Kestra 2.0 renames condition to when and
// keeps condition as an alias; both are read.
type Check struct {
	Condition string `json:"when"` // Kestra 2.0's name; condition is read too
	Message   string `json:"message"`
	Style     string `json:"style,omitempty"`    // ERROR, SUCCESS, WARNING, INFO (default)
	Behavior  string `json:"behavior,omitempty"` // BLOCK_EXECUTION (default), FAIL_EXECUTION, CREATE_EXECUTION
}

// The check behaviors, most restrictive first: when several checks fail,
// the most restrictive one decides.
const (
	CheckBlock  = "BLOCK_EXECUTION"
	CheckFail   = "FAIL_EXECUTION"
	CheckCreate = "CREATE_EXECUTION"
)

var checkKeys = []string{"condition", "when", "message", "style", "behavior"}

func (p *parser) checks(path string, at, v *yaml.Node) []*Check {
	var out []*Check
	for _, it := range p.mappings(path, at, v, "a check must be a mapping with condition and message") {
		c := &Check{Style: "INFO", Behavior: CheckBlock}
		for _, kv := range p.pairs(it.path, it.node) {
			val := p.deref(kv.Value)
			if val == nil {
				continue
			}
			kpath := joinKey(it.path, kv.Key)
			switch kv.Key {
			case "condition", "when":
				c.Condition = p.str(kpath, kv.KeyN, val)
			case "message":
				c.Message = p.str(kpath, kv.KeyN, val)
			case "style":
				c.Style = strings.ToUpper(p.str(kpath, kv.KeyN, val))
				switch c.Style {
				case "ERROR", "SUCCESS", "WARNING", "INFO":
				default:
					p.errorf(kpath, kv.KeyN, "check style %q must be ERROR, SUCCESS, WARNING or INFO", val.Value)
				}
			case "behavior":
				c.Behavior = strings.ToUpper(p.str(kpath, kv.KeyN, val))
				switch c.Behavior {
				case CheckBlock, CheckFail, CheckCreate:
				default:
					p.errorf(kpath, kv.KeyN, "check behavior %q must be BLOCK_EXECUTION, FAIL_EXECUTION or CREATE_EXECUTION", val.Value)
				}
			default:
				p.unknownKey(it.path, kv.KeyN, kv.Key, checkKeys, "check")
			}
		}
		if strings.TrimSpace(c.Condition) == "" && !p.hasErrorUnder(joinKey(it.path, "condition")) && !p.hasErrorUnder(joinKey(it.path, "when")) {
			p.errorf(joinKey(it.path, "condition"), it.node, "a check needs a condition (when)")
		}
		if c.Message == "" && !p.hasErrorUnder(joinKey(it.path, "message")) {
			p.errorf(joinKey(it.path, "message"), it.node, "a check needs a message")
		}
		out = append(out, c)
	}
	return out
}
