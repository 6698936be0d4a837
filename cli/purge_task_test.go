package cli

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/store"
)

// taskOutputs runs flow ns.id to its end and returns the execution and the
// outputs of its task taskID.
func (s *confSystem) taskOutputs(t *testing.T, ns, id, taskID string) (*flow.Execution, map[string]any) {
	t.Helper()
	ex := s.runToEnd(t, ns, id)
	for _, tr := range ex.TaskRunList {
		if tr.TaskID == taskID {
			return ex, tr.Outputs
		}
	}
	return ex, nil
}

// failure is the error of the execution's failed task run.
func failure(ex *flow.Execution) string {
	for _, tr := range ex.TaskRunList {
		if tr.State.Current == flow.StateFailed && tr.Error != "" {
			return tr.Error
		}
	}
	return ""
}

const childFlow = `
id: child
namespace: acme.team
tasks:
  - id: write
    type: io.kestra.plugin.core.storage.Write
    content: some data
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hello
`

// TestPurgeExecutionsTask: core.execution.PurgeExecutions deletes the
// ended executions of a flow, their logs and their files in internal
// storage, and counts them (Kestra's PurgeExecutionsTest#run: one ended
// execution of the flow, executionsCount 1); a states filter that matches
// none purges nothing; the purging execution, still running, is never
// selected.
func TestPurgeExecutionsTask(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, childFlow, `
id: purge-failed
namespace: acme
tasks:
  - id: purge
    type: io.kestra.plugin.core.execution.PurgeExecutions
    namespace: acme.team
    flowId: child
    endDate: "{{ now() | dateAdd(1, 'MINUTES') }}"
    states: [FAILED]
`, `
id: purge
namespace: acme
tasks:
  - id: purge
    type: io.kestra.plugin.core.execution.PurgeExecutions
    namespace: acme.team
    flowId: child
    startDate: "{{ now() | dateAdd(-1, 'HOURS') }}"
    endDate: "{{ now() | dateAdd(1, 'MINUTES') }}"
`, `
id: purge-all
namespace: acme
tasks:
  - id: purge
    type: io.kestra.core.tasks.storages.Purge
    endDate: "{{ now() | dateAdd(1, 'MINUTES') }}"
    purgeStorage: false
`)
	child := sys.runToEnd(t, "acme.team", "child")
	require.Equal(t, flow.StateSuccess, child.State.Current)
	dir := storage.ExecutionPath("acme.team", "child", child.ID)
	files, err := sys.a.files.List(ctx, dir)
	require.NoError(t, err)
	require.Len(t, files, 1, "the child wrote one file")
	logs, err := sys.Logs(ctx, child.ID)
	require.NoError(t, err)
	require.NotEmpty(t, logs)

	ex, out := sys.taskOutputs(t, "acme", "purge-failed", "purge")
	require.Equal(t, flow.StateSuccess, ex.State.Current, failure(ex))
	require.EqualValues(t, 0, out["executionsCount"], "the child succeeded: a FAILED filter keeps it")

	ex, out = sys.taskOutputs(t, "acme", "purge", "purge")
	require.Equal(t, flow.StateSuccess, ex.State.Current, failure(ex))
	require.EqualValues(t, 1, out["executionsCount"])
	require.EqualValues(t, 1, out["storagesCount"])
	require.EqualValues(t, len(logs), out["logsCount"])
	require.EqualValues(t, 0, out["metricsCount"])
	_, err = sys.Execution(ctx, child.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	files, err = sys.a.files.List(ctx, dir)
	require.NoError(t, err)
	require.Empty(t, files, "the purged execution's files are gone")
	logs, err = sys.Logs(ctx, child.ID)
	require.NoError(t, err)
	require.Empty(t, logs)

	// the legacy name, no namespace: the flow's namespace and its children,
	// every ended execution there but its own running one
	ex, out = sys.taskOutputs(t, "acme", "purge-all", "purge")
	require.Equal(t, flow.StateSuccess, ex.State.Current, failure(ex))
	require.EqualValues(t, 2, out["executionsCount"], "purge-failed's and purge's executions")
	require.EqualValues(t, 0, out["storagesCount"], "purgeStorage: false")
	_, err = sys.Execution(ctx, ex.ID)
	require.NoError(t, err, "the purging execution is not purged")
}

// TestPurgeTasksStayInTheirNamespace: a purge reaches only its flow's
// namespace and its children; naming a parent, a sibling or a look-alike
// namespace fails the task and deletes nothing.
func TestPurgeTasksStayInTheirNamespace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: hello
namespace: acme
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hello
`, `
id: reach
namespace: acme.team
inputs:
  - id: target
    type: STRING
  - id: task
    type: STRING
tasks:
  - id: pick
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ inputs.task }}"
    cases:
      executions:
        - id: executions
          type: io.kestra.plugin.core.execution.PurgeExecutions
          namespace: "{{ inputs.target }}"
          endDate: "{{ now() | dateAdd(1, 'MINUTES') }}"
      logs:
        - id: logs
          type: io.kestra.plugin.core.log.PurgeLogs
          namespace: "{{ inputs.target }}"
          endDate: "{{ now() | dateAdd(1, 'MINUTES') }}"
      kv:
        - id: kv
          type: io.kestra.plugin.core.kv.PurgeKV
          namespaces: ["{{ inputs.target }}"]
          expiredOnly: false
`)
	hello := sys.runToEnd(t, "acme", "hello")
	require.NoError(t, sys.a.store.KV().Put(ctx, store.KVRecord{Namespace: "acme", Key: "k", Type: "STRING", Value: json.RawMessage(`"v"`)}))
	for _, target := range []string{"acme", "acme.other", "acme.teams"} {
		for _, task := range []string{"executions", "logs", "kv"} {
			ex, err := sys.Start(ctx, "acme.team", "reach", map[string]any{"target": target, "task": task}, false, nil)
			require.NoError(t, err)
			require.Eventually(t, func() bool {
				ex, err = sys.Execution(ctx, ex.ID)
				return err == nil && ex.State.Current.IsTerminal()
			}, 20*time.Second, 20*time.Millisecond)
			require.Equal(t, flow.StateFailed, ex.State.Current, "%s %s", task, target)
			require.Contains(t, failure(ex), "namespace "+target+" is outside this flow's namespace acme.team", "%s %s", task, target)
		}
	}
	_, err := sys.Execution(ctx, hello.ID)
	require.NoError(t, err, "nothing of acme was purged")
	logs, err := sys.Logs(ctx, hello.ID)
	require.NoError(t, err)
	require.NotEmpty(t, logs)
	_, err = sys.a.store.KV().Get(ctx, "acme", "k")
	require.NoError(t, err)
}

// TestPurgeLogsTask: core.log.PurgeLogs deletes the log lines of a flow up
// to endDate, only the levels listed, and counts them (Kestra's
// PurgeLogsTest#run: one INFO line saved, count 1).
func TestPurgeLogsTask(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: chatty
namespace: acme
tasks:
  - id: info
    type: io.kestra.plugin.core.log.Log
    message: routine
  - id: error
    type: io.kestra.plugin.core.log.Log
    level: ERROR
    message: keep me
`, `
id: purge-logs
namespace: acme
tasks:
  - id: mine
    type: io.kestra.plugin.core.log.Log
    message: mine
  - id: purge
    type: io.kestra.plugin.core.log.PurgeLogs
    flowId: chatty
    logLevels: [TRACE, DEBUG, INFO, WARN]
    endDate: "{{ now() | dateAdd(1, 'MINUTES') }}"
`)
	chatty := sys.runToEnd(t, "acme", "chatty")
	before, err := sys.Logs(ctx, chatty.ID)
	require.NoError(t, err)
	errors := 0
	for _, l := range before {
		if l.Level == "ERROR" {
			errors++
		}
	}
	require.Equal(t, 1, errors)
	ex, out := sys.taskOutputs(t, "acme", "purge-logs", "purge")
	require.Equal(t, flow.StateSuccess, ex.State.Current, failure(ex))
	require.EqualValues(t, len(before)-errors, out["count"])
	after, err := sys.Logs(ctx, chatty.ID)
	require.NoError(t, err)
	require.Len(t, after, 1)
	require.Equal(t, "keep me", after[0].Message)
	own, err := sys.Logs(ctx, ex.ID)
	require.NoError(t, err)
	require.NotEmpty(t, own, "a flowId names one flow: the purging flow's own lines stay")
}

// TestPurgeKVTask: core.kv.PurgeKV deletes the expired entries of the
// flow's namespace and its children by default, every matching entry with
// expiredOnly: false, and counts them (Kestra's PurgeKVTest, newer than
// the pinned commit: should_delete_every_expired_from_every_namespaces_without_parameters,
// should_delete_every_exipred_and_non_expired, should_delete_every_keys_matching_pattern,
// should_find_all_namespaces_with_namespace_list_without_child).
func TestPurgeKVTask(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: purge-expired
namespace: acme
tasks:
  - id: purge
    type: io.kestra.plugin.core.kv.PurgeKV
`, `
id: purge-pattern
namespace: acme
tasks:
  - id: purge
    type: io.kestra.plugin.core.kv.PurgeKV
    namespaces: [acme]
    includeChildNamespaces: false
    keyPattern: "AI_*"
    behavior:
      type: key
      expiredOnly: false
`)
	kv := sys.a.store.KV()
	past, future := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	for _, e := range []struct {
		ns, key string
		exp     *time.Time
	}{
		{"acme", "old", &past}, {"acme.team", "old", &past}, {"other", "old", &past},
		{"acme", "AI_1", &future}, {"acme", "AI_2", nil}, {"acme", "keep", nil}, {"acme.team", "AI_3", nil},
	} {
		require.NoError(t, kv.Put(ctx, store.KVRecord{Namespace: e.ns, Key: e.key, Type: "STRING", Value: json.RawMessage(`"v"`), Expires: e.exp}))
	}
	ex, out := sys.taskOutputs(t, "acme", "purge-expired", "purge")
	require.Equal(t, flow.StateSuccess, ex.State.Current, failure(ex))
	require.EqualValues(t, 2, out["size"], "the expired entries of acme and acme.team, not of other")
	ex, out = sys.taskOutputs(t, "acme", "purge-pattern", "purge")
	require.Equal(t, flow.StateSuccess, ex.State.Current, failure(ex))
	require.EqualValues(t, 2, out["size"], "AI_1 and AI_2 of acme only")
	for _, k := range []struct{ ns, key string }{{"acme", "keep"}, {"acme.team", "AI_3"}} {
		_, err := kv.Get(ctx, k.ns, k.key)
		require.NoError(t, err, "%s/%s stays", k.ns, k.key)
	}
	n, err := kv.Purge(ctx, store.KVPurgeParams{Namespace: "other", ExpiredOnly: true, Now: time.Now()})
	require.NoError(t, err)
	require.Equal(t, 1, n, "other's expired entry was left alone")
}
