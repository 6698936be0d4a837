package tasks

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

func TestForEachItemChecks(t *testing.T) {
	t.Parallel()
	const base = "type: io.kestra.plugin.core.flow.ForEachItem\nitems: \"{{ inputs.f }}\"\nnamespace: n\nflowId: child\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"needs items", "type: io.kestra.plugin.core.flow.ForEachItem\nnamespace: n\nflowId: child", `property "items" is required`},
		{"needs a flow", "type: io.kestra.plugin.core.flow.ForEachItem\nitems: x\nnamespace: n", `property "flowId" is required`},
		{"bad behavior", base + "restartBehavior: AGAIN", `restartBehavior "AGAIN" must be RETRY_FAILED (the default) or NEW_EXECUTION`},
		{"bad size", base + "batch:\n  bytes: lots", `"LOTS" is not a size`},
		{"unknown batch key", base + "batch:\n  lines: 3", `unknown property`},
		{"logToFile is a boolean", "type: io.kestra.plugin.core.log.Log\nmessage: hi\nlogToFile: maybe", "logToFile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, parseErr(t, tc.yaml), tc.want)
		})
	}
}

// TestForEachItemSubTasks: the flow holds Kestra's three sub-tasks, so
// that the executor and the workers find them by id like any task, and a
// second decode (the executor's, at run time) leaves the parsed flow as
// it is.
func TestForEachItemSubTasks(t *testing.T) {
	t.Parallel()
	src := `id: f
namespace: n
tasks:
  - id: each
    type: io.kestra.core.tasks.flows.ForEachItem
    items: "{{ inputs.f }}"
    batch:
      rows: 10
    namespace: n
    flowId: child
    inputs:
      rows: "{{ taskrun.items }}"
    logToFile: true
`
	r := New()
	f, err := flow.Parse([]byte(src), flow.ParseOptions{Types: r})
	require.NoError(t, err)
	each := f.FindTask("each")
	require.True(t, each.LogToFile)
	subs := each.Children["tasks"]
	require.Len(t, subs, 3)
	for i, want := range []struct{ id, typ string }{
		{"each_split", "io.kestra.plugin.core.flow.ForEachItem$ForEachItemSplit"},
		{"each_items", "io.kestra.plugin.core.flow.ForEachItem$ForEachItemExecutable"},
		{"each_merge", "io.kestra.plugin.core.flow.ForEachItem$ForEachItemMergeOutputs"},
	} {
		require.Equal(t, want.id, subs[i].ID)
		require.Equal(t, want.typ, subs[i].Type)
		require.Same(t, subs[i], f.FindTask(want.id))
	}
	require.Equal(t, map[string]any{"items": "{{ inputs.f }}", "batch": map[string]any{"rows": 10}}, ordered.Plain(subs[0].Props))
	require.Equal(t, map[string]any{"rows": "{{ taskrun.items }}"}, ordered.Plain(subs[1].Props["inputs"]))
	_, err = r.Runnable(subs[0])
	require.NoError(t, err)
	fl, err := r.Flowable(subs[1])
	require.NoError(t, err)
	require.NotNil(t, fl)
	_, err = r.Runnable(subs[2])
	require.NoError(t, err)

	_, err = r.Flowable(each)
	require.NoError(t, err)
	require.Same(t, subs[0], each.Children["tasks"][0], "decoding again changes nothing")
}

func TestBatchExtension(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"orders.csv": ".csv", "data.ion": ".ion", "archive.tar.gz": ".gz", "noext": ".tmp", "trailing.": ".tmp",
		"odd.my ext": ".tmp", "x.ünï": ".tmp", "long.abcdefghijklmnopq": ".tmp",
	} {
		require.Equal(t, want, batchExtension(name), name)
	}
}
