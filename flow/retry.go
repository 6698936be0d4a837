package flow

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// retryKeys lists the properties of each of Kestra's retry policies; the
// first five are common to all.
var retryKeys = map[string][]string{
	"constant":    {"type", "maxAttempt", "maxDuration", "warningOnRetry", "behavior", "interval"},
	"exponential": {"type", "maxAttempt", "maxDuration", "warningOnRetry", "behavior", "interval", "maxInterval", "delayFactor"},
	"random":      {"type", "maxAttempt", "maxDuration", "warningOnRetry", "behavior", "minInterval", "maxInterval"},
}

// retryRequired lists what each policy cannot do without.
var retryRequired = map[string][]string{
	"constant":    {"interval"},
	"exponential": {"interval", "maxInterval"},
	"random":      {"minInterval", "maxInterval"},
}

var retryDurations = []string{"interval", "maxInterval", "minInterval", "maxDuration"}

// retry reads a task's or the flow's retry policy and checks it as Kestra's
// AbstractRetry and its constant, exponential and random policies do.
func (p *parser) retry(path string, at, v *yaml.Node, rel string, pos map[string]Position) map[string]any {
	m := p.mappingAt(path, at, v, rel, pos)
	if m == nil {
		return nil
	}
	keyN := map[string]*yaml.Node{}
	for _, kv := range p.pairs(path, v) {
		keyN[kv.Key] = kv.KeyN
	}
	typ, _ := m["type"].(string)
	known, ok := retryKeys[typ]
	switch {
	case m["type"] == nil:
		p.errorf(path, at, "retry needs a type: constant, exponential or random")
		return m
	case !ok:
		msg := fmt.Sprintf("unknown retry type %s", quoted(m["type"]))
		if s := suggest(fmt.Sprint(m["type"]), sortedKeys(retryKeys)); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else {
			msg += "; use constant, exponential or random"
		}
		p.errorf(joinKey(path, "type"), keyN["type"], "%s", msg)
		return m
	}
	for _, k := range sortedKeys(m) {
		kpath := joinKey(path, k)
		switch {
		case !slices.Contains(known, k):
			p.unknownKey(path, keyN[k], k, known, typ+" retry")
		case k == "maxAttempt":
			if n, isInt := asInt(m[k]); !isInt && !isExpression(m[k]) || isInt && n < 1 {
				p.errorf(kpath, keyN[k], "maxAttempt must be an integer of at least 1, not %s", quoted(m[k]))
			}
		case k == "warningOnRetry":
			if _, isBool := m[k].(bool); !isBool && m[k] != "true" && m[k] != "false" {
				p.errorf(kpath, keyN[k], "warningOnRetry must be a boolean (true or false), not %s", quoted(m[k]))
			}
		case k == "behavior":
			if b := fmt.Sprint(m[k]); b != "RETRY_FAILED_TASK" && b != "CREATE_NEW_EXECUTION" {
				p.errorf(kpath, keyN[k], "retry behavior %q must be RETRY_FAILED_TASK or CREATE_NEW_EXECUTION", b)
			}
		case slices.Contains(retryDurations, k):
			if msg := checkDuration(m[k]); msg != "" {
				p.errorf(kpath, keyN[k], "%s %s", k, msg)
			}
		}
	}
	for _, k := range retryRequired[typ] {
		if _, ok := m[k]; !ok {
			p.errorf(path, at, "a %s retry needs %s", typ, k)
		}
	}
	return m
}

// checkDuration explains why v is not a duration Kestra reads, or returns
// "". Expressions are left to run time; numbers are seconds, as Jackson
// reads them.
func checkDuration(v any) string {
	switch v := v.(type) {
	case nil, int, float64:
		return ""
	case string:
		if isExpression(v) {
			return ""
		}
		if _, err := ParseDuration(strings.ToUpper(v)); err != nil {
			return fmt.Sprintf("%q is not a duration: write it as ISO-8601, e.g. PT30S, PT5M or P1D", v)
		}
		return ""
	}
	return fmt.Sprintf("must be a duration such as PT30S, not %s", quoted(v))
}

// quoted renders a decoded value for a message: strings quoted.
func quoted(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// asInt reads an integer, or its decimal text as Jackson does.
func asInt(v any) (int, bool) {
	switch v := v.(type) {
	case int:
		return v, true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		return n, err == nil
	}
	return 0, false
}

func isExpression(v any) bool {
	s, ok := v.(string)
	return ok && strings.Contains(s, "{{")
}
