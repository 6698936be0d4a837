package bench

import (
	"fmt"
	"strings"
)

// namespace holds every benchmark flow.
const namespace = "bench"

// twoTasks is the shape of Kestra's benchmark01: an output, then a log line
// that reads it.
const twoTasks = `id: two_tasks
namespace: bench
inputs:
  - id: name
    type: STRING
    defaults: World
tasks:
  - id: concatenate
    type: io.kestra.plugin.core.output.OutputValues
    values:
      message: Hello {{ inputs.name }}
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.concatenate.values.message }}"
`

// tenIfs is ten If tasks in a row, each running one task on its branch.
func tenIfs() string {
	var b strings.Builder
	b.WriteString("id: ten_ifs\nnamespace: bench\ntasks:\n")
	for i := range 10 {
		fmt.Fprintf(&b, `  - id: if%[1]d
    type: io.kestra.plugin.core.flow.If
    condition: "{{ %[1]d %% 2 == 0 }}"
    then:
      - id: even%[1]d
        type: io.kestra.plugin.core.debug.Return
        format: "even {{ taskrun.id }}"
    else:
      - id: odd%[1]d
        type: io.kestra.plugin.core.debug.Return
        format: "odd {{ taskrun.id }}"
`, i)
	}
	return b.String()
}

// chain is n tasks in sequence, each handed from the executor to a worker
// and back.
func chain(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id: chain_%d\nnamespace: bench\ntasks:\n", n)
	for i := range n {
		fmt.Fprintf(&b, "  - id: t%d\n    type: io.kestra.plugin.core.debug.Return\n    format: \"%d\"\n", i, i)
	}
	return b.String()
}

// forEach runs one task per value of 1..n, with no concurrency limit.
func forEach(n int) string {
	return fmt.Sprintf(`id: foreach_%[1]d
namespace: bench
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: "{{ range(1, %[1]d) }}"
    concurrencyLimit: 0
    tasks:
      - id: item
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}"
`, n)
}

// secretNames are the keys the secrets flow reads; the harness stores them
// in the local Key Vault through Osprey's secrets API first.
var secretNames = []string{"BENCH_A", "BENCH_B", "BENCH_C"}

// threeSecrets resolves three secret() calls in one task.
const threeSecrets = `id: three_secrets
namespace: bench
tasks:
  - id: use
    type: io.kestra.plugin.core.debug.Return
    format: "{{ secret('BENCH_A') }} {{ secret('BENCH_B') }} {{ secret('BENCH_C') }}"
`

// logLines logs three lines 50 ms apart, after a pause that lets the
// follower connect before the first one.
const logLines = `id: log_lines
namespace: bench
tasks:
  - id: settle
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.2S
  - id: l1
    type: io.kestra.plugin.core.log.Log
    message: line one
  - id: p1
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.05S
  - id: l2
    type: io.kestra.plugin.core.log.Log
    message: line two
  - id: p2
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.05S
  - id: l3
    type: io.kestra.plugin.core.log.Log
    message: line three
`
