package flow_test

import (
	"testing"

	"github.com/ospreyhq/osprey/flow"
)

// typicalFlow is a 30-line flow of the kind users write: inputs, labels, a
// few tasks, a flowable with children, a trigger.
var typicalFlow = []byte(`id: daily-report
namespace: company.analytics
description: Build and announce the daily report
labels:
  team: analytics
  env: prod
inputs:
  - id: day
    type: DATE
  - id: verbose
    type: BOOLEAN
    defaults: false
tasks:
  - id: start
    type: io.kestra.plugin.core.log.Log
    message: Building the report for {{ inputs.day }}
  - id: parts
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: sales
        type: io.kestra.plugin.core.debug.Return
        format: "{{ inputs.day }} sales"
      - id: costs
        type: io.kestra.plugin.core.debug.Return
        format: "{{ inputs.day }} costs"
    retry: {type: constant, maxAttempt: 3, interval: PT10S}
triggers:
  - id: daily
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 6 * * *"
`)

func BenchmarkParse(b *testing.B) {
	b.SetBytes(int64(len(typicalFlow)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := flow.Parse(typicalFlow, flow.ParseOptions{Types: corpusTypes{}}); err != nil {
			b.Fatal(err)
		}
	}
}
