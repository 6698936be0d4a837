package trigger

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// The save-time checks of Flow and Webhook triggers and of the conditions
// every trigger takes. They mirror Kestra's plugin validation: a property
// the type does not have is refused with a "did you mean", a required one
// must be there, and values must have the type the property takes (a
// known state, a day of the week, an HH:mm time, an ISO 8601 duration).
// A string holding an expression ({{ … }}) is accepted wherever a value
// is, since it is only known when the trigger is evaluated. Paths are
// relative to the trigger ("conditions[1].in"), so the flow parser places
// each error on the offending key's line and column.

// commonProps are the properties every Kestra trigger takes besides id,
// type, description and disabled (which the flow parser reads itself).
var commonProps = []string{"conditions", "stopAfter", "workerGroup", "logLevel", "logToFile", "failOnTriggerError", "minLogLevel"}

// kind is the shape a property's value must have.
type kind int

const (
	kAny kind = iota
	kString
	kBool
	kMap
	kStates        // a list of execution states
	kLabels        // a map, or a list of {key, value}
	kTriggerLabels // kLabels without Kestra's system.* keys
	kDuration      // an ISO 8601 duration
	kTime          // HH:mm[:ss], optionally with an offset
	kDateTime      // an ISO 8601 date-time with an offset
	kDay           // MONDAY … SUNDAY
	kEnum          // one of prop.enum, case-insensitive
	kConditions    // a list of conditions
	kCondMap       // a map of named conditions
)

type prop struct {
	kind     kind
	required bool
	enum     []string
}

var (
	str0   = prop{kind: kString}
	reqStr = prop{kind: kString, required: true}
	bool0  = prop{kind: kBool}
	states = prop{kind: kStates}
)

// knownStates are Kestra's execution and task-run states.
var knownStates = []string{
	"CREATED", "SUBMITTED", "QUEUED", "RUNNING", "PAUSED", "RESTARTED", "KILLING", "SUCCESS", "WARNING", "FAILED",
	"KILLED", "CANCELLED", "RETRYING", "RETRIED", "SKIPPED", "BREAKPOINT", "RESUBMITTED",
}

var days = []string{"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"}

// conditionProps lists each condition's properties (besides type), by the
// short name Kind gives, as Kestra's condition classes declare them.
var conditionProps = map[string]map[string]prop{
	"ExecutionStatus":    {"in": states, "notIn": states},
	"HasRetryAttempt":    {"in": states, "notIn": states},
	"ExecutionFlow":      {"namespace": reqStr, "flowId": reqStr},
	"Flow":               {"namespace": reqStr, "flowId": reqStr},
	"ExecutionNamespace": {"namespace": reqStr, "comparison": {kind: kEnum, enum: []string{"EQUALS", "PREFIX", "SUFFIX"}}, "prefix": bool0},
	"FlowNamespace":      {"namespace": reqStr, "prefix": bool0},
	"ExecutionLabels":    {"labels": {kind: kLabels, required: true}},
	"ExecutionOutputs":   {"expression": reqStr},
	"Expression":         {"expression": reqStr},
	"MultipleCondition": {
		"id": str0, "window": {kind: kDuration}, "windowAdvance": {kind: kDuration}, "resetOnSuccess": bool0,
		"timeSLA": {kind: kMap}, "sla": {kind: kMap}, "conditions": {kind: kCondMap, required: true},
	},
	"DateTimeBetween": {"date": str0, "after": {kind: kDateTime}, "before": {kind: kDateTime}},
	"TimeBetween":     {"date": str0, "after": {kind: kTime}, "before": {kind: kTime}},
	"DayWeek":         {"date": str0, "dayOfWeek": {kind: kDay, required: true}},
	"DayWeekInMonth": {
		"date": str0, "dayOfWeek": {kind: kDay, required: true},
		"dayInMonth": {kind: kEnum, required: true, enum: []string{"FIRST", "SECOND", "THIRD", "FOURTH", "LAST"}},
	},
	"Weekend":       {"date": str0},
	"PublicHoliday": {"date": str0, "country": str0, "subDivision": str0},
	"Not":           {"conditions": {kind: kConditions, required: true}},
	"Or":            {"conditions": {kind: kConditions, required: true}},
}

var webhookProps = map[string]prop{
	"key": reqStr, "inputs": {kind: kMap}, "wait": bool0, "returnOutputs": bool0,
}

// webhookNotYet are Webhook properties of newer Kestra releases Osprey does
// not implement: refused with that reason rather than as unknown.
var webhookNotYet = []string{"responseContentType", "responseCode", "fetchType", "when"}

var flowTriggerProps = map[string]prop{
	"inputs": {kind: kMap}, "states": states, "preconditions": {kind: kMap},
}

var (
	upstreamProps = map[string]prop{"namespace": reqStr, "flowId": str0, "states": states, "labels": {kind: kLabels}}
	whereProps    = map[string]prop{"id": reqStr, "operand": {kind: kEnum, enum: []string{"AND", "OR"}}, "filters": {kind: kAny, required: true}}
	filterProps   = map[string]prop{
		"field": {kind: kEnum, required: true, enum: []string{"FLOW_ID", "NAMESPACE", "STATE", "EXPRESSION"}},
		"type": {kind: kEnum, required: true, enum: []string{
			"EQUAL_TO", "NOT_EQUAL_TO", "IS_NULL", "IS_NOT_NULL", "IS_TRUE", "IS_FALSE",
			"STARTS_WITH", "ENDS_WITH", "CONTAINS", "REGEX", "IN", "NOT_IN",
		}},
		"value": {kind: kAny}, "values": {kind: kAny},
	}
	timeWindowProps = map[string]prop{
		"type":          {kind: kEnum, enum: []string{windowDuration, windowSliding, windowDeadline, windowDaily}},
		"window":        {kind: kDuration},
		"windowAdvance": {kind: kDuration},
		"startTime":     {kind: kTime},
		"endTime":       {kind: kTime},
		"deadline":      {kind: kTime},
	}
	preconditionProps = map[string]prop{
		"id": str0, "flows": {kind: kAny}, "where": {kind: kAny}, "timeWindow": {kind: kMap}, "resetOnSuccess": bool0,
	}
)

// CheckWebhook validates a Webhook trigger's properties when its flow is
// saved.
func CheckWebhook(t *flow.Trigger) []*flow.Error {
	c := &checker{}
	c.props("", t.Type, t.Props, withCommon(webhookProps), webhookNotYet)
	if k, ok := t.Props["key"].(string); ok && len(k) > 256 {
		c.add("key", "key is %d characters; Kestra allows at most 256", len(k))
	}
	c.conditions("conditions", t.Props["conditions"], false)
	return c.errs
}

// CheckFlowTrigger validates a Flow trigger's properties, its conditions
// and its preconditions when its flow is saved.
func CheckFlowTrigger(t *flow.Trigger) []*flow.Error {
	c := &checker{}
	c.props("", t.Type, t.Props, withCommon(flowTriggerProps), nil)
	c.conditions("conditions", t.Props["conditions"], false)
	if pre, ok := ordered.AsMap(t.Props["preconditions"]); ok {
		c.preconditions("preconditions", pre)
	}
	return c.errs
}

var (
	scheduleProps = map[string]prop{
		"cron": {kind: kAny}, "withSeconds": bool0, "timezone": str0, "inputs": {kind: kMap},
		"lateMaximumDelay": {kind: kAny}, "recoverMissedSchedules": {kind: kAny},
		"scheduleConditions": {kind: kAny}, "backfill": {kind: kMap},
	}
	scheduleOnDatesProps = map[string]prop{
		"dates": {kind: kAny}, "timezone": str0, "inputs": {kind: kMap}, "recoverMissedSchedules": {kind: kAny},
	}
)

// CheckScheduleProps refuses the properties a Schedule or ScheduleOnDates
// trigger does not have and checks its conditions (and scheduleConditions,
// Kestra's older name for them); package schedule checks the values of
// the properties the scheduler reads (cron, timezone, dates, …).
func CheckScheduleProps(t *flow.Trigger) []*flow.Error {
	c := &checker{}
	known := scheduleProps
	if Kind(t.Type) == KindScheduleOnDates {
		known = scheduleOnDatesProps
	}
	c.props("", t.Type, t.Props, withCommon(known), nil)
	c.conditions("conditions", t.Props["conditions"], false)
	c.conditions("scheduleConditions", t.Props["scheduleConditions"], false)
	return c.errs
}

// CheckConditions validates a trigger's conditions list (at path, e.g.
// "conditions"); the scheduler's triggers use it for theirs.
func CheckConditions(path string, v any) []*flow.Error {
	c := &checker{}
	c.conditions(path, v, false)
	return c.errs
}

func withCommon(m map[string]prop) map[string]prop {
	out := make(map[string]prop, len(m)+len(commonProps))
	for _, k := range commonProps {
		out[k] = prop{kind: kAny}
	}
	out["conditions"] = prop{kind: kAny} // checked by conditions
	out["labels"] = prop{kind: kTriggerLabels}
	for k, v := range m {
		out[k] = v
	}
	return out
}

type checker struct{ errs []*flow.Error }

func (c *checker) add(path, format string, args ...any) {
	c.errs = append(c.errs, &flow.Error{Path: path, Message: fmt.Sprintf(format, args...)})
}

// props checks a mapping's keys and values against known; what names the
// owner in messages. notYet lists Kestra properties Osprey refuses.
func (c *checker) props(path, what string, m map[string]any, known map[string]prop, notYet []string) {
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range sortedKeys(m) {
		p, ok := known[k]
		kpath := joinKey(path, k)
		switch {
		case slices.Contains(notYet, k):
			c.add(kpath, "property %q of %s is not supported by Osprey yet", k, what)
			continue
		case !ok:
			msg := fmt.Sprintf("unknown property %q for %s", k, what)
			if s := flow.Suggest(k, names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				msg += "; it takes " + strings.Join(names, ", ")
			}
			c.add(kpath, "%s", msg)
			continue
		}
		c.value(kpath, k, m[k], p)
	}
	for _, k := range names {
		if v, ok := m[k]; known[k].required && (!ok || v == nil || v == "") {
			c.add(path, "%s needs %s", what, k)
		}
	}
}

// value checks one property's value against its kind.
func (c *checker) value(path, name string, v any, p prop) {
	if v == nil {
		return
	}
	if s, ok := v.(string); ok && strings.Contains(s, "{{") {
		return // an expression, known only when evaluated
	}
	switch p.kind {
	case kString:
		switch v.(type) {
		case string, int64, int, float64, bool: // Kestra reads scalars as text
		default:
			c.add(path, "%s must be a string", name)
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			c.add(path, "%s must be true or false", name)
		}
	case kMap:
		if _, ok := ordered.AsMap(v); !ok {
			c.add(path, "%s must be a mapping", name)
		}
	case kLabels:
		c.labels(path, name, v)
	case kTriggerLabels:
		c.labels(path, name, v)
		c.noSystemLabels(path, v)
	case kStates:
		list, ok := v.([]any)
		at := func(i int) string { return joinIndex(path, i) }
		if s, isStr := v.(string); isStr {
			list, ok, at = []any{s}, true, func(int) string { return path }
		}
		if !ok {
			c.add(path, "%s must be a list of states, e.g. [SUCCESS, WARNING]", name)
			return
		}
		for i, e := range list {
			s, _ := e.(string)
			if strings.Contains(s, "{{") {
				continue
			}
			if !slices.Contains(knownStates, s) {
				c.bad(at(i), fmt.Sprintf("%s: %v is not a state", name, e), strings.ToUpper(s), knownStates)
			}
		}
	case kDuration:
		s, _ := v.(string)
		if _, err := flow.ParseDuration(s); err != nil || s == "" {
			c.add(path, "%s %v is not an ISO 8601 duration such as PT1H", name, v)
		}
	case kTime:
		s, _ := v.(string)
		if _, err := parseBound(s, "15:04:05"); err != nil {
			c.add(path, "%s %v is not a time of day: write HH:mm or HH:mm:ss, optionally with an offset (10:00:00+02:00)", name, v)
		}
	case kDateTime:
		s, _ := v.(string)
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			c.add(path, "%s %v is not an ISO 8601 date-time with an offset, such as 2024-01-31T10:00:00Z", name, v)
		}
	case kDay:
		c.enum(path, name, v, days)
	case kEnum:
		c.enum(path, name, v, p.enum)
	case kConditions:
		c.conditions(path, v, true)
	case kCondMap:
		m, ok := ordered.AsMap(v)
		if !ok || len(m) == 0 {
			c.add(path, "%s must be a mapping of named conditions", name)
			return
		}
		for _, k := range sortedKeys(m) {
			c.condition(joinKey(path, k), m[k])
		}
	}
}

func (c *checker) enum(path, name string, v any, allowed []string) {
	s, _ := v.(string)
	for _, a := range allowed {
		if strings.EqualFold(a, s) {
			return
		}
	}
	c.bad(path, fmt.Sprintf("%s %v is not one of %s", name, v, strings.Join(allowed, ", ")), strings.ToUpper(s), allowed)
}

// bad adds msg with a "did you mean" when one of known is close to word.
func (c *checker) bad(path, msg, word string, known []string) {
	if s := flow.Suggest(word, known); s != "" && word != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	c.add(path, "%s", msg)
}

func (c *checker) labels(path, name string, v any) {
	if _, ok := ordered.AsMap(v); ok {
		return
	}
	list, ok := v.([]any)
	if !ok {
		c.add(path, "%s must be a mapping, or a list of {key, value}", name)
		return
	}
	for i, e := range list {
		m, ok := ordered.AsMap(e)
		if !ok {
			c.add(joinIndex(path, i), "a label must be a mapping with key and value")
			continue
		}
		c.props(joinIndex(path, i), "a label", m, map[string]prop{"key": reqStr, "value": {kind: kAny, required: true}}, nil)
	}
}

// noSystemLabels refuses system.* label keys: Kestra sets those itself.
func (c *checker) noSystemLabels(path string, v any) {
	bad := func(p, k string) {
		if strings.HasPrefix(k, "system.") {
			c.add(p, "label %q: system.* labels are set by Kestra and Osprey, not by a trigger", k)
		}
	}
	if m, ok := v.(*ordered.Map); ok {
		for k := range m.All() {
			bad(joinKey(path, k), k)
		}
	}
	if list, ok := v.([]any); ok {
		for i, e := range list {
			if m, ok := ordered.AsMap(e); ok {
				bad(joinIndex(path, i), str(m["key"]))
			}
		}
	}
}

// conditions checks a list of conditions; nonEmpty for Or and Not.
func (c *checker) conditions(path string, v any, nonEmpty bool) {
	if v == nil {
		if nonEmpty {
			c.add(path, "conditions must list at least one condition")
		}
		return
	}
	list, ok := v.([]any)
	if !ok {
		c.add(path, "conditions must be a list of conditions, each a mapping with a type")
		return
	}
	if nonEmpty && len(list) == 0 {
		c.add(path, "conditions must list at least one condition")
	}
	for i, e := range list {
		c.condition(joinIndex(path, i), e)
	}
}

// conditionTypes are the condition types' current names, for "did you mean".
var conditionTypes = func() []string {
	out := make([]string, 0, len(conditionProps))
	for k := range conditionProps {
		out = append(out, "io.kestra.plugin.core.condition."+k)
	}
	slices.Sort(out)
	return out
}()

// condition checks one condition: a mapping with a known type and that
// type's properties.
func (c *checker) condition(path string, v any) {
	m, ok := ordered.AsMap(v)
	if !ok {
		c.add(path, "a condition must be a mapping with a type")
		return
	}
	typ, _ := m["type"].(string)
	if typ == "" {
		c.add(path, "a condition needs a type, e.g. io.kestra.plugin.core.condition.ExecutionStatus")
		return
	}
	props, known := conditionProps[Kind(typ)]
	if !known || !(strings.HasPrefix(typ, "io.kestra.plugin.core.condition.") || strings.HasPrefix(typ, "io.kestra.core.models.conditions.types.")) {
		c.bad(joinKey(path, "type"), fmt.Sprintf("unknown condition type %q", typ), typ, conditionTypes)
		if last := c.errs[len(c.errs)-1]; !strings.Contains(last.Message, "did you mean") {
			last.Message += "; use one of " + strings.Join(conditionTypes, ", ")
		}
		return
	}
	withType := map[string]prop{"type": {kind: kAny}}
	for k, p := range props {
		withType[k] = p
	}
	c.props(path, "condition "+Kind(typ), m, withType, nil)
}

// preconditions checks a Flow trigger's preconditions block.
func (c *checker) preconditions(path string, pre map[string]any) {
	c.props(path, "preconditions", pre, preconditionProps, nil)
	c.items(joinKey(path, "flows"), pre["flows"], "an upstream flow", upstreamProps, nil)
	c.items(joinKey(path, "where"), pre["where"], "a where filter", whereProps, func(p string, m map[string]any) {
		c.items(joinKey(p, "filters"), m["filters"], "a filter", filterProps, nil)
	})
	if tw, ok := ordered.AsMap(pre["timeWindow"]); ok {
		tp := joinKey(path, "timeWindow")
		c.props(tp, "timeWindow", tw, timeWindowProps, nil)
		switch strings.ToUpper(str(tw["type"])) {
		case windowDeadline:
			if tw["deadline"] == nil {
				c.add(tp, "a %s timeWindow needs deadline (HH:mm:ss)", windowDeadline)
			}
		case windowDaily:
			for _, k := range []string{"startTime", "endTime"} {
				if tw[k] == nil {
					c.add(tp, "a %s timeWindow needs %s (HH:mm:ss)", windowDaily, k)
				}
			}
		}
	}
}

// items checks a list of mappings, each against known, then each with more.
func (c *checker) items(path string, v any, what string, known map[string]prop, more func(string, map[string]any)) {
	if v == nil {
		return
	}
	list, ok := v.([]any)
	if !ok {
		c.add(path, "%s must be a list", path[strings.LastIndexAny(path, ".")+1:])
		return
	}
	for i, e := range list {
		ip := joinIndex(path, i)
		m, ok := ordered.AsMap(e)
		if !ok {
			c.add(ip, "%s must be a mapping", what)
			continue
		}
		c.props(ip, what, m, known, nil)
		if more != nil {
			more(ip, m)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// joinKey and joinIndex build paths as the flow parser does, so that it
// finds each error's position.
func joinKey(path, key string) string {
	if !plainKey(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func plainKey(key string) bool {
	for i, c := range []byte(key) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '$':
		case i > 0 && (c >= '0' && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return key != ""
}
