package tasks

import (
	"maps"
	"slices"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/schedule"
)

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// coreSpecs lists the types Osprey implements.
func coreSpecs() []*Spec {
	specs := []*Spec{
		runnable[Log](pLog, []string{"message", "level"}, func(t *flow.Task, x *Log) []*flow.Error {
			return required(t, "message", x.Message != nil)
		}),
		runnable[Return](pReturn, []string{"format"}, nil),
		runnable[Echo](pEcho, []string{"format", "level"}, nil),
		runnable[OutputValues](pOutputValues, []string{"values"}, nil),
		runnable[Fail](pFail, []string{"condition", "errorMessage"}, nil),
		runnable[Labels](pLabels, []string{"labels"}, func(t *flow.Task, x *Labels) []*flow.Error {
			return required(t, "labels", x.Labels != nil)
		}),
		runnable[Assert]("io.kestra.plugin.core.execution.Assert", []string{"conditions", "errorMessage"}, func(t *flow.Task, x *Assert) []*flow.Error {
			return required(t, "conditions", len(x.Conditions) > 0)
		}),
		runnable[Sleep](pSleep, []string{"duration"}, func(t *flow.Task, x *Sleep) []*flow.Error {
			return required(t, "duration", x.Duration != "")
		}),
		flowable[noProps]("io.kestra.plugin.core.flow.Sequential", nil, func(t *flow.Task, _ *noProps) (engine.Flowable, []*flow.Error) {
			return sequential{t}, nil
		}),
		flowable[parallelProps]("io.kestra.plugin.core.flow.Parallel", []string{"concurrent"}, func(t *flow.Task, x *parallelProps) (engine.Flowable, []*flow.Error) {
			return parallel{t, x.Concurrent}, nil
		}),
		flowable[ifProps]("io.kestra.plugin.core.flow.If", []string{"condition"}, func(t *flow.Task, x *ifProps) (engine.Flowable, []*flow.Error) {
			return ifTask{t, x.Condition}, required(t, "condition", x.Condition != nil)
		}),
		flowable[switchProps]("io.kestra.plugin.core.flow.Switch", []string{"value"}, func(t *flow.Task, x *switchProps) (engine.Flowable, []*flow.Error) {
			return switchTask{t, x.Value}, required(t, "value", x.Value != nil)
		}),
		flowable[forEachProps]("io.kestra.plugin.core.flow.ForEach", []string{"values", "concurrencyLimit"}, func(t *flow.Task, x *forEachProps) (engine.Flowable, []*flow.Error) {
			return forEach{t, x.Values, x.ConcurrencyLimit, 1}, required(t, "values", x.Values != nil)
		}),
		flowable[forEachProps]("io.kestra.plugin.core.flow.EachSequential", []string{"value"}, func(t *flow.Task, x *forEachProps) (engine.Flowable, []*flow.Error) {
			return forEach{t, firstNonNil(x.Value, x.Values), nil, 1}, required(t, "value", x.Value != nil || x.Values != nil)
		}),
		flowable[forEachProps]("io.kestra.plugin.core.flow.EachParallel", []string{"value", "concurrent"}, func(t *flow.Task, x *forEachProps) (engine.Flowable, []*flow.Error) {
			return forEach{t, firstNonNil(x.Value, x.Values), x.Concurrent, 0}, required(t, "value", x.Value != nil || x.Values != nil)
		}),
		workingDirectorySpec(),
		flowable[noProps]("io.kestra.plugin.core.flow.AllowFailure", nil, func(t *flow.Task, _ *noProps) (engine.Flowable, []*flow.Error) {
			return allowFailure{t}, nil
		}),
		flowable[dagProps]("io.kestra.plugin.core.flow.Dag", []string{"concurrent"}, func(t *flow.Task, x *dagProps) (engine.Flowable, []*flow.Error) {
			return dag{t, x.Concurrent}, nil
		}),
		flowable[pauseProps]("io.kestra.plugin.core.flow.Pause", []string{"delay", "timeout", "pauseDuration", "behavior", "onResume"}, func(t *flow.Task, x *pauseProps) (engine.Flowable, []*flow.Error) {
			return pause{t, *x}, nil
		}),
		flowable[waitForProps]("io.kestra.plugin.core.flow.WaitFor", []string{"condition", "maxIterations", "maxDuration", "failOnMaxReached", "checkFrequency"}, func(t *flow.Task, x *waitForProps) (engine.Flowable, []*flow.Error) {
			return waitFor{t, *x}, required(t, "condition", x.Condition != nil)
		}),
	}
	for _, typ := range []string{"io.kestra.plugin.core.flow.Subflow", "io.kestra.plugin.core.flow.Flow"} {
		specs = append(specs, flowable[subflowProps](typ, []string{"namespace", "flowId", "revision", "inputs", "labels", "wait", "transmitFailed", "inheritLabels", "scheduleDate", "outputs"}, func(t *flow.Task, x *subflowProps) (engine.Flowable, []*flow.Error) {
			errs := append(required(t, "namespace", x.Namespace != ""), required(t, "flowId", x.FlowID != "")...)
			return subflow{t, *x}, errs
		}))
	}
	for _, typ := range []string{pSchedule, pScheduleOn} {
		specs = append(specs, &Spec{Type: typ, Kind: KindTrigger, CheckTrigger: schedule.Check})
	}
	for _, typ := range []string{pFlowTrigger, pWebhook} {
		specs = append(specs, &Spec{Type: typ, Kind: KindTrigger})
	}
	specs = append(specs, &Spec{Type: pHTTPTrigger, Kind: KindTrigger, CheckTrigger: func(t *flow.Trigger) []*flow.Error {
		_, errs := decodeHTTPTrigger(t)
		return errs
	}})
	specs = append(specs, &Spec{Type: pBlobTrigger, Kind: KindTrigger, CheckTrigger: func(t *flow.Trigger) []*flow.Error {
		_, errs := decodeBlobTrigger(t)
		return errs
	}})
	for _, n := range conditionNames {
		specs = append(specs, &Spec{Type: "io.kestra.plugin.core.condition." + n, Kind: KindCondition})
	}
	specs = append(specs, ioSpecs()...)
	specs = append(specs, scriptSpecs()...)
	specs = append(specs, runnable[Toggle](pToggle, toggleProps, checkToggle))
	specs = append(specs, kvSpecs()...)
	specs = append(specs, storageSpecs()...)
	specs = append(specs, append(purgeSpecs(), resumeSpec())...)
	specs = append(specs, namespaceFileSpecs()...)
	specs = append(specs, forEachItemSpecs()...)
	return specs
}
