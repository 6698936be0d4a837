package flow_test

import (
	"encoding/json"
	"fmt"
	"strings"
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

// benchExecution is an execution's stored JSON as the executor reads it at
// every step: twenty task runs, each with outputs holding nested maps.
var benchExecution = func() []byte {
	var b strings.Builder
	b.WriteString(`{"id":"e1","namespace":"company.analytics","flowId":"daily-report","flowRevision":3,` +
		`"inputs":{"day":"2026-01-01","options":{"verbose":true,"limit":10}},"state":{"current":"RUNNING","histories":[]},"taskRunList":[`)
	for i := range 20 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"tr%d","executionId":"e1","namespace":"company.analytics","flowId":"daily-report","taskId":"t%d",`+
			`"state":{"current":"SUCCESS","histories":[]},"outputs":{"values":{"name":"report","count":%d,"ratio":0.75,`+
			`"owner":{"team":"data","active":true},"rows":[{"id":1,"v":"x"},{"id":2,"v":"y"}]},"uri":"kestra:///x/%d"}}`, i, i, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}()

// BenchmarkDecodeExecution measures reading an execution back from the
// store (flow.DecodeJSON), which the executor does at every step.
func BenchmarkDecodeExecution(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var ex flow.Execution
		if err := flow.DecodeJSON(benchExecution, &ex); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeExecution measures writing an execution back to the store
// (the executor's Save at every step).
func BenchmarkEncodeExecution(b *testing.B) {
	var ex flow.Execution
	if err := flow.DecodeJSON(benchExecution, &ex); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(&ex); err != nil {
			b.Fatal(err)
		}
	}
}
