package tasks_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/tasks"
)

// TestTriggerPropertiesChecked saves flows whose Flow, Webhook and Schedule
// triggers carry valid and invalid properties and conditions: a valid one
// parses, an invalid one is refused with the message, the path and the
// line and column of the offending key (or of the item missing a key).
func TestTriggerPropertiesChecked(t *testing.T) {
	t.Parallel()
	reg := tasks.New()
	const head = "id: f\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\ntriggers:\n" // the first trigger starts on line 8
	cases := []struct {
		name     string
		triggers string
		path     string // "" for a valid flow
		line     int
		column   int
		msg      string
	}{
		{name: "webhook valid", triggers: `
  - id: w
    type: io.kestra.plugin.core.trigger.Webhook
    key: abc
    wait: true
    returnOutputs: true
    inputs: {a: 1}`},
		{name: "legacy webhook name", triggers: `
  - id: w
    type: io.kestra.core.models.triggers.types.Webhook
    key: abc`},
		{name: "webhook unknown property", triggers: `
  - id: w
    type: io.kestra.plugin.core.trigger.Webhook
    key: abc
    returnOutput: true`, path: "triggers[0].returnOutput", line: 11, column: 5,
			msg: `unknown property "returnOutput" for io.kestra.plugin.core.trigger.Webhook; did you mean "returnOutputs"?`},
		{name: "webhook without key", triggers: `
  - id: w
    type: io.kestra.plugin.core.trigger.Webhook
    wait: true`, path: "triggers[0]", line: 8, column: 5, msg: "io.kestra.plugin.core.trigger.Webhook needs key"},
		{name: "webhook wait not a boolean", triggers: `
  - id: w
    type: io.kestra.plugin.core.trigger.Webhook
    key: abc
    wait: sometimes`, path: "triggers[0].wait", line: 11, column: 5, msg: "wait must be true or false"},
		{name: "webhook property of newer Kestra", triggers: `
  - id: w
    type: io.kestra.plugin.core.trigger.Webhook
    key: abc
    responseCode: 201`, path: "triggers[0].responseCode", line: 11, column: 5, msg: "not supported by Osprey yet"},
		{name: "flow trigger valid", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    inputs: {from: "{{ trigger.executionId }}"}
    stopAfter: [FAILED]
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionStatus
        in: [SUCCESS, WARNING]
        notIn: ["{{ vars.skip }}"]
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: company.team
        flowId: upstream
      - type: io.kestra.core.models.conditions.types.ExecutionNamespaceCondition
        namespace: company
        comparison: PREFIX
      - type: io.kestra.plugin.core.condition.ExpressionCondition
        expression: "{{ true }}"
      - type: io.kestra.plugin.core.condition.DayWeek
        dayOfWeek: MONDAY
      - type: io.kestra.plugin.core.condition.DayWeekInMonth
        dayOfWeek: friday
        dayInMonth: LAST
      - type: io.kestra.plugin.core.condition.TimeBetween
        after: "08:00:00"
        before: "18:30+02:00"
      - type: io.kestra.plugin.core.condition.DateTimeBetween
        after: "2024-01-01T00:00:00Z"
      - type: io.kestra.plugin.core.condition.ExecutionLabels
        labels: [{key: team, value: data}]
      - type: io.kestra.plugin.core.condition.Not
        conditions:
          - type: io.kestra.plugin.core.condition.Weekend
      - id: both
        type: io.kestra.plugin.core.condition.MultipleCondition
        window: PT12H
        conditions:
          flow-a:
            type: io.kestra.plugin.core.condition.ExecutionFlowCondition
            namespace: company.team
            flowId: a`},
		{name: "flow trigger preconditions valid", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      id: pre
      flows:
        - namespace: company.team
          flowId: a
          states: [SUCCESS]
      where:
        - id: team
          operand: OR
          filters:
            - field: NAMESPACE
              type: STARTS_WITH
              value: company
      timeWindow:
        type: DAILY_TIME_WINDOW
        startTime: "06:00:00"
        endTime: "12:00:00"`},
		{name: "flow trigger unknown property", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    precondition: {}`, path: "triggers[0].precondition", line: 10, column: 5,
			msg: `unknown property "precondition" for io.kestra.plugin.core.trigger.Flow; did you mean "preconditions"?`},
		{name: "unknown state", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionStatus
        in: [SUCCESS, FAILLED]`, path: "triggers[0].conditions[0].in[1]", line: 12, column: 23,
			msg: `in: FAILLED is not a state; did you mean "FAILED"?`},
		{name: "condition unknown property", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionStatus
        notin: [FAILED]`, path: "triggers[0].conditions[0].notin", line: 12, column: 9,
			msg: `unknown property "notin" for condition ExecutionStatus; did you mean "notIn"?`},
		{name: "ExecutionFlow needs flowId", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: company.team`, path: "triggers[0].conditions[0]", line: 11, column: 9,
			msg: "condition ExecutionFlow needs flowId"},
		{name: "unknown condition type", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionStatuses`, path: "triggers[0].conditions[0].type", line: 11, column: 9,
			msg: `unknown condition type "io.kestra.plugin.core.condition.ExecutionStatuses"; did you mean "io.kestra.plugin.core.condition.ExecutionStatus"?`},
		{name: "DayWeek bad day", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.DayWeek
        dayOfWeek: MODNAY`, path: "triggers[0].conditions[0].dayOfWeek", line: 12, column: 9,
			msg: `dayOfWeek MODNAY is not one of MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY; did you mean "MONDAY"?`},
		{name: "TimeBetween bad time", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.TimeBetween
        after: "8 o'clock"`, path: "triggers[0].conditions[0].after", line: 12, column: 9,
			msg: "after 8 o'clock is not a time of day"},
		{name: "DateTimeBetween without offset", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.DateTimeBetween
        before: "2024-01-01 10:00"`, path: "triggers[0].conditions[0].before", line: 12, column: 9,
			msg: "is not an ISO 8601 date-time with an offset"},
		{name: "Expression needs expression", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.Expression`, path: "triggers[0].conditions[0]", line: 11, column: 9,
			msg: "condition Expression needs expression"},
		{name: "Or needs conditions", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.Or
        conditions: []`, path: "triggers[0].conditions[0].conditions", line: 12, column: 9,
			msg: "conditions must list at least one condition"},
		{name: "nested condition in MultipleCondition", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - id: m
        type: io.kestra.plugin.core.condition.MultipleCondition
        conditions:
          a:
            type: io.kestra.plugin.core.condition.ExecutionFlow
            namespce: company
            flowId: a`, path: "triggers[0].conditions[0].conditions.a.namespce", line: 16, column: 13,
			msg: `unknown property "namespce" for condition ExecutionFlow; did you mean "namespace"?`},
		{name: "conditions not a list", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      type: io.kestra.plugin.core.condition.ExecutionStatus`, path: "triggers[0].conditions", line: 10, column: 5,
			msg: "conditions must be a list of conditions"},
		{name: "upstream flow needs namespace", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      flows:
        - flowId: a`, path: "triggers[0].preconditions.flows[0]", line: 12, column: 11,
			msg: "an upstream flow needs namespace"},
		{name: "filter unknown type", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      where:
        - id: w
          filters:
            - field: NAMESPACE
              type: EQUALS_TO
              value: company`, path: "triggers[0].preconditions.where[0].filters[0].type", line: 15, column: 15,
			msg: `did you mean "EQUAL_TO"?`},
		{name: "deadline window needs deadline", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      timeWindow:
        type: DAILY_TIME_DEADLINE`, path: "triggers[0].preconditions.timeWindow", line: 11, column: 7,
			msg: "a DAILY_TIME_DEADLINE timeWindow needs deadline"},
		{name: "schedule conditions checked", triggers: `
  - id: s
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 * * * *"
    conditions:
      - type: io.kestra.plugin.core.condition.DayWeek`, path: "triggers[0].conditions[0]", line: 12, column: 9,
			msg: "condition DayWeek needs dayOfWeek"},
		{name: "schedule legacy scheduleConditions valid", triggers: `
  - id: s
    type: io.kestra.core.models.triggers.types.Schedule
    cron: "0 * * * *"
    scheduleConditions:
      - type: io.kestra.core.models.conditions.types.DayWeekCondition
        dayOfWeek: MONDAY`},
		{name: "schedule unknown property", triggers: `
  - id: s
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 * * * *"
    timzone: Europe/Paris`, path: "triggers[0].timzone", line: 11, column: 5,
			msg: `unknown property "timzone" for io.kestra.plugin.core.trigger.Schedule; did you mean "timezone"?`},
		{name: "ScheduleOnDates takes no cron", triggers: `
  - id: s
    type: io.kestra.plugin.core.trigger.ScheduleOnDates
    dates: ["2030-01-01T10:00:00Z"]
    cron: "0 * * * *"`, path: "triggers[0].cron", line: 11, column: 5,
			msg: `unknown property "cron" for io.kestra.plugin.core.trigger.ScheduleOnDates`},
		{name: "trigger labels as a map and a list", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    labels: {team: data}
  - id: w
    type: io.kestra.plugin.core.trigger.Webhook
    key: abc
    labels:
      - key: source
        value: "{{ trigger.body.source }}"`},
		{name: "trigger system label refused", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    labels:
      - key: system.correlationId
        value: x`, path: "triggers[0].labels[0]", line: 11, column: 9,
			msg: `label "system.correlationId": system.* labels are set by Kestra and Osprey, not by a trigger`},
		{name: "trigger label without value", triggers: `
  - id: ft
    type: io.kestra.plugin.core.trigger.Flow
    labels:
      - key: team`, path: "triggers[0].labels[0]", line: 11, column: 9,
			msg: "a label needs value"},
		{name: "http trigger conditions checked", triggers: `
  - id: h
    type: io.kestra.plugin.core.http.Trigger
    uri: http://localhost:1/
    conditions:
      - type: io.kestra.plugin.core.condition.Weekend
        dat: "{{ trigger.date }}"`, path: "triggers[0].conditions[0].dat", line: 13, column: 9,
			msg: `unknown property "dat" for condition Weekend; did you mean "date"?`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := flow.Parse([]byte(head+strings.TrimPrefix(tc.triggers, "\n")+"\n"), flow.ParseOptions{Types: reg})
			if tc.path == "" {
				require.NoError(t, err)
				return
			}
			var errs flow.Errors
			require.True(t, errors.As(err, &errs), "want flow.Errors, got %v", err)
			for _, e := range errs {
				if e.Path == tc.path {
					require.Contains(t, e.Message, tc.msg)
					require.Equal(t, [2]int{tc.line, tc.column}, [2]int{e.Line, e.Column}, "position of %s", e)
					return
				}
			}
			t.Fatalf("no error at %s; got %v", tc.path, err)
		})
	}
}
