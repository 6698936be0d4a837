package flow_test

import (
	"slices"

	"github.com/ospreyhq/osprey/flow"
)

// corpusTypes is a TypeChecker that knows the task and trigger types of the
// Kestra corpus and checks one property of Log, the way the real checker in
// the tasks package reports: relative paths and no positions.
type corpusTypes struct{}

var _ flow.TypeChecker = corpusTypes{}
var _ flow.TypeLister = corpusTypes{}

var knownTypes = []string{
	"io.kestra.core.tasks.executions.Fail",
	"io.kestra.core.tasks.log.Log",
	"io.kestra.core.tasks.flows.Switch",
	"io.kestra.core.tasks.flows.Dag",
	"io.kestra.plugin.core.debug.Echo",
	"io.kestra.plugin.core.debug.Return",
	"io.kestra.plugin.core.execution.Fail",
	"io.kestra.plugin.core.execution.Labels",
	"io.kestra.plugin.core.flow.AllowFailure",
	"io.kestra.plugin.core.flow.Dag",
	"io.kestra.plugin.core.flow.EachParallel",
	"io.kestra.plugin.core.flow.EachSequential",
	"io.kestra.plugin.core.flow.ForEach",
	"io.kestra.plugin.core.flow.If",
	"io.kestra.plugin.core.flow.Parallel",
	"io.kestra.plugin.core.flow.Pause",
	"io.kestra.plugin.core.flow.Sequential",
	"io.kestra.plugin.core.flow.Sleep",
	"io.kestra.plugin.core.flow.Subflow",
	"io.kestra.plugin.core.flow.Switch",
	"io.kestra.plugin.core.flow.WaitFor",
	"io.kestra.plugin.core.log.Log",
	"io.kestra.plugin.core.output.OutputValues",
	"io.kestra.plugin.core.trigger.Flow",
	"io.kestra.plugin.core.trigger.Schedule",
	"io.kestra.plugin.core.trigger.Webhook",
}

func (corpusTypes) Known(typ string) bool { return slices.Contains(knownTypes, typ) }

func (corpusTypes) Types() []string { return knownTypes }

func (corpusTypes) CheckTask(t *flow.Task) []*flow.Error {
	if t.Type != "io.kestra.plugin.core.log.Log" && t.Type != "io.kestra.core.tasks.log.Log" {
		return nil
	}
	switch m := t.Props["message"].(type) {
	case nil:
		return []*flow.Error{{Message: "Log needs a message"}}
	case string:
	case []any:
		for i, v := range m {
			if _, ok := v.(string); !ok {
				return []*flow.Error{{Path: "message[" + string(rune('0'+i)) + "]", Message: "each message must be a string"}}
			}
		}
	default:
		return []*flow.Error{{Path: "message", Message: "message must be a string or a list of strings"}}
	}
	return nil
}

func (corpusTypes) CheckTrigger(t *flow.Trigger) []*flow.Error {
	if t.Type == "io.kestra.plugin.core.trigger.Schedule" {
		if _, ok := t.Props["cron"].(string); !ok {
			return []*flow.Error{{Path: "cron", Message: "Schedule needs a cron expression"}}
		}
	}
	return nil
}
