package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// The ForEachItem tests follow Kestra's ForEachItemCaseTest (core, 0.21):
// 102 lines of 20 characters in batches of 4 rows make 26 batches, each
// one subflow execution; the flows are written here in the same shape as
// Kestra's for-each-item*.yaml test flows.

const forEachItemChildren = `
id: batch-log
namespace: acme.items
inputs:
  - id: items
    type: STRING
tasks:
  - id: per-item
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.items }}"
`

const forEachItemOutputsChild = `
id: batch-echo
namespace: acme.items
inputs:
  - id: items
    type: STRING
tasks:
  - id: return
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(inputs.items) }}"
outputs:
  - id: value
    type: STRING
    value: "{{ outputs.return.value }}"
`

const forEachItemFailingChild = `
id: batch-fail
namespace: acme.items
inputs:
  - id: items
    type: STRING
tasks:
  - id: per-item
    type: io.kestra.plugin.core.execution.Fail
`

func forEachItemParent(id, childID, extra string) string {
	return fmt.Sprintf(`
id: %s
namespace: acme.items
inputs:
  - id: file
    type: FILE
  - id: batch
    type: INT
    defaults: 4
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{ inputs.file }}"
    batch:
      rows: "{{ inputs.batch }}"
    namespace: acme.items
    flowId: %s
    inputs:
      items: "{{ taskrun.items }}"
%s`, id, childID, extra)
}

// kestraItems is ForEachItemCaseTest's file: 102 lines, each a number
// left-padded to 20 characters.
func kestraItems() string {
	var b strings.Builder
	for i := range 102 {
		fmt.Fprintf(&b, "%20d\n", i)
	}
	return b.String()
}

// startWithFile starts a flow with a FILE input uploaded as Kestra's API
// takes it (multipart/form-data) and waits for its end.
func startWithFile(t *testing.T, sys *confSystem, ns, id, input, content string, fields map[string]string) *flow.Execution {
	t.Helper()
	ctx := t.Context()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile(input, "items.txt")
	require.NoError(t, err)
	_, _ = io.WriteString(fw, content)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	require.NoError(t, mw.Close())
	code, resp, err := sys.HTTP(ctx, http.MethodPost, "/api/v1/main/executions/"+ns+"/"+id, mw.FormDataContentType(), body.Bytes())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, string(resp))
	var ex *flow.Execution
	require.NoError(t, json.Unmarshal(resp, &ex))
	require.Eventually(t, func() bool {
		ex, err = sys.Execution(ctx, ex.ID)
		return err == nil && ex.State.Current.IsTerminal()
	}, 60*time.Second, 20*time.Millisecond, "%s.%s ends", ns, id)
	return ex
}

func taskRunIDs(ex *flow.Execution) []string {
	var ids []string
	for _, tr := range ex.TaskRunList {
		ids = append(ids, tr.TaskID)
	}
	return ids
}

func children(t *testing.T, sys *confSystem, parent *flow.Execution, flowID string) []*flow.Execution {
	t.Helper()
	all, err := sys.Executions(t.Context(), parent.Namespace, flowID)
	require.NoError(t, err)
	var out []*flow.Execution
	for _, e := range all {
		if e.ParentID == parent.ID {
			out = append(out, e)
		}
	}
	return out
}

// TestForEachItem is ForEachItemCaseTest#forEachItem and
// #forEachItemWithSubflowOutputs: Kestra's task-run layout, the iteration
// counts, the batch files the subflows get, their correlation label and
// the merged subflow outputs.
func TestForEachItem(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, &conformance.Env{}, forEachItemChildren, forEachItemOutputsChild,
		forEachItemParent("each-rows", "batch-log", ""),
		forEachItemParent("each-outputs", "batch-echo", `
  - id: return
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.each_merge.subflowOutputs }}"
  - id: merged
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(outputs.each_merge.subflowOutputs) }}"
`))

	ex := startWithFile(t, sys, "acme.items", "each-rows", "file", kestraItems(), map[string]string{"batch": "4"})
	require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
	require.Equal(t, []string{"each", "each_split", "each_items", "each_merge"}, taskRunIDs(ex))
	items := ex.TaskRunList[2]
	require.Len(t, items.Attempts, 1)
	require.Equal(t, flow.StateSuccess, items.Attempts[0].State.Current)
	require.EqualValues(t, 26, items.Outputs["numberOfBatches"])
	iters := ordered.Plain(items.Outputs["iterations"]).(map[string]any)
	require.EqualValues(t, 0, iters["CREATED"])
	require.EqualValues(t, 0, iters["RUNNING"])
	require.EqualValues(t, 26, iters["SUCCESS"])
	require.Nil(t, ex.TaskRunList[3].Outputs, "no subflow has outputs: nothing merged")

	kids := children(t, sys, ex, "batch-log")
	require.Len(t, kids, 26)
	batch := regexp.MustCompile(`^kestra:///acme/items/each-rows/executions/` + ex.ID + `/tasks/each_split/[^/]+/([0-9]+)\.txt$`)
	seen := map[string]bool{}
	for _, k := range kids {
		require.Equal(t, flow.StateSuccess, k.State.Current)
		m := batch.FindStringSubmatch(k.Inputs["items"].(string))
		require.NotNil(t, m, k.Inputs["items"])
		seen[m[1]] = true
		require.Contains(t, k.Labels, flow.Label{Key: "system.correlationId", Value: ex.ID})
		require.Equal(t, "io.kestra.plugin.core.flow.ForEachItem$ForEachItemExecutable", k.Trigger.Type)
		require.Equal(t, "each_items", k.Trigger.ID)
		require.Len(t, k.TaskRunList, 1)
	}
	require.Len(t, seen, 26, "each batch went to one subflow")

	// the last batch holds the two last lines; every batch is readable
	// through the parent's file endpoint
	last := "kestra:///acme/items/each-rows/executions/" + ex.ID + "/tasks/each_split/" + ex.TaskRunList[1].ID + "/26.txt"
	code, body, err := sys.HTTP(t.Context(), http.MethodGet, "/api/v1/main/executions/"+ex.ID+"/file?path="+url.QueryEscape(last), "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, string(body))
	require.Equal(t, fmt.Sprintf("%20d\n%20d\n", 100, 101), string(body))

	ex = startWithFile(t, sys, "acme.items", "each-outputs", "file", kestraItems(), nil)
	require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
	require.Equal(t, []string{"each", "each_split", "each_items", "each_merge", "return", "merged"}, taskRunIDs(ex))
	require.EqualValues(t, 26, ex.TaskRunList[2].Outputs["numberOfBatches"])
	uri := ex.TaskRunList[3].Outputs["subflowOutputs"].(string)
	require.True(t, strings.HasSuffix(uri, "/outputs.ion"), uri)
	require.Equal(t, uri, ex.TaskRunsByTaskID("return")[0].Outputs["value"])
	lines := strings.Split(strings.TrimSuffix(ex.TaskRunsByTaskID("merged")[0].Outputs["value"].(string), "\n"), "\n")
	require.Len(t, lines, 26, "one line per subflow")
	var first map[string]string
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	require.Equal(t, fmt.Sprintf("%20d\n%20d\n%20d\n%20d\n", 0, 1, 2, 3), first["value"], "batch 1 comes first")
}

// TestForEachItemFailures is ForEachItemCaseTest#forEachItemFailed and
// #forEachItemNoWait, TaskWithAllowFailureTest#executableTask_ForEachItem
// and #forEachItemEmptyItems.
func TestForEachItemFailures(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, &conformance.Env{}, forEachItemChildren, forEachItemFailingChild,
		forEachItemParent("each-failed", "batch-fail", ""),
		forEachItemParent("each-allowed", "batch-fail", `    allowFailure: true
  - id: log-allowed
    type: io.kestra.plugin.core.log.Log
    message: I'm allowed
`),
		forEachItemParent("each-no-wait", "batch-log", `    wait: false
`),
		forEachItemParent("each-errors", "batch-fail", `    errors:
      - id: on-error
        type: io.kestra.plugin.core.log.Log
        message: "{{ outputs.each_items.iterations.FAILED }} batches failed"
`))

	ex := startWithFile(t, sys, "acme.items", "each-failed", "file", kestraItems(), nil)
	require.Equal(t, flow.StateFailed, ex.State.Current)
	require.Equal(t, []string{"each", "each_split", "each_items"}, taskRunIDs(ex), "no merge after a failed batch")
	items := ex.TaskRunList[2]
	require.Len(t, items.Attempts, 1)
	require.Equal(t, flow.StateFailed, items.Attempts[0].State.Current)
	iters := ordered.Plain(items.Outputs["iterations"]).(map[string]any)
	require.EqualValues(t, 0, iters["CREATED"])
	require.EqualValues(t, 0, iters["RUNNING"])
	require.EqualValues(t, 26, iters["FAILED"])
	require.Contains(t, items.Error, "26 of 26 subflow executions")

	ex = startWithFile(t, sys, "acme.items", "each-allowed", "file", kestraItems(), nil)
	require.Equal(t, flow.StateWarning, ex.State.Current, "%+v", ex.TaskRunList)
	require.Equal(t, []string{"each", "each_split", "each_items", "log-allowed"}, taskRunIDs(ex))

	ex = startWithFile(t, sys, "acme.items", "each-no-wait", "file", kestraItems(), nil)
	require.Equal(t, flow.StateSuccess, ex.State.Current)
	items = ex.TaskRunList[2]
	require.Len(t, items.Attempts, 1)
	iters = ordered.Plain(items.Outputs["iterations"]).(map[string]any)
	require.NotContains(t, iters, "CREATED", "without waiting only RUNNING and SUCCESS are counted")
	require.EqualValues(t, 0, iters["RUNNING"])
	require.EqualValues(t, 26, iters["SUCCESS"])
	require.Eventually(t, func() bool {
		kids := children(t, sys, ex, "batch-log")
		for _, k := range kids {
			if !k.State.Current.IsTerminal() {
				return false
			}
		}
		return len(kids) == 26
	}, 60*time.Second, 50*time.Millisecond, "the 26 subflows run on their own")

	// the ForEachItem's errors branch runs after a failed batch, and sees
	// the counts
	ex = startWithFile(t, sys, "acme.items", "each-errors", "file", kestraItems(), nil)
	require.Equal(t, flow.StateFailed, ex.State.Current)
	require.Equal(t, []string{"each", "each_split", "each_items", "on-error"}, taskRunIDs(ex))
	logs, err := sys.Logs(t.Context(), ex.ID)
	require.NoError(t, err)
	var msgs []string
	for _, l := range logs {
		msgs = append(msgs, l.Message)
	}
	require.Contains(t, msgs, "26 batches failed")

	// an empty file: no batch, no subflow, no outputs
	ex = startWithFile(t, sys, "acme.items", "each-failed", "file", "", nil)
	require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
	require.Len(t, ex.TaskRunList, 4)
	require.Nil(t, ex.TaskRunList[2].Outputs)
}

// TestLogToFile is Kestra's LogToFileTest: the task's log line goes to a
// file named by its attempt's logFile, not to the execution's log.
func TestLogToFile(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, &conformance.Env{}, `
id: log-to-file
namespace: acme.items
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: Hello World!
    logToFile: true
  - id: plain
    type: io.kestra.plugin.core.log.Log
    message: in the log
`)
	ex := sys.runToEnd(t, "acme.items", "log-to-file")
	require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
	hello := ex.TaskRunsByTaskID("hello")[0]
	require.Len(t, hello.Attempts, 1)
	logFile := hello.Attempts[0].LogFile
	require.Regexp(t, `^kestra:///acme/items/log-to-file/executions/`+ex.ID+`/tasks/hello/`+hello.ID+`/log-[0-9a-f]+\.txt$`, logFile)
	require.Empty(t, ex.TaskRunsByTaskID("plain")[0].Attempts[0].LogFile)

	code, body, err := sys.HTTP(t.Context(), http.MethodGet, "/api/v1/main/executions/"+ex.ID+"/file?path="+url.QueryEscape(logFile), "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, string(body))
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	require.Len(t, lines, 1, string(body))
	require.Contains(t, lines[0], "INFO")
	require.Contains(t, lines[0], "Hello World!")

	logs, err := sys.Logs(t.Context(), ex.ID)
	require.NoError(t, err)
	var msgs []string
	for _, l := range logs {
		msgs = append(msgs, l.Message)
	}
	require.Contains(t, msgs, "in the log")
	require.NotContains(t, strings.Join(msgs, "\n"), "Hello World!", "a logToFile task's lines stay out of the execution's log, as in Kestra")

	// the API gives the attempt's logFile as Kestra's does
	code, body, err = sys.HTTP(t.Context(), http.MethodGet, "/api/v1/main/executions/"+ex.ID, "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), `"logFile":"`+logFile+`"`)
}

// TestForEachItemRestart restarts a parent whose odd batches failed, as
// Kestra's restartBehavior says: RETRY_FAILED (the default) restarts the
// failed batches' executions themselves (ForEachItemCaseTest#
// restartForEachItem: the same executions end SUCCESS, no new one; each
// RESTARTED and labelled system.restarted, as ExecutionServiceTest#
// restartSimple shows), NEW_EXECUTION runs every batch in a new
// execution; either way only the newest execution of a batch counts and
// is merged.
func TestForEachItemRestart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: batch-gated
namespace: acme.items
inputs:
  - id: items
    type: STRING
  - id: n
    type: INT
  - id: gate
    type: STRING
tasks:
  - id: gate
    type: io.kestra.plugin.core.execution.Fail
    condition: "{{ inputs.n % 2 == 1 and kv(inputs.gate, errorOnMissing=false) == null }}"
    errorMessage: the gate is closed
outputs:
  - id: batch
    type: INT
    value: "{{ inputs.n }}"
`, `
id: each-retry-failed
namespace: acme.items
inputs:
  - id: file
    type: FILE
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{ inputs.file }}"
    batch:
      rows: 4
    namespace: acme.items
    flowId: batch-gated
    inputs:
      items: "{{ taskrun.items }}"
      n: "{{ taskrun.iteration }}"
      gate: retry-failed
`, `
id: each-new-execution
namespace: acme.items
inputs:
  - id: file
    type: FILE
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{ inputs.file }}"
    batch:
      rows: 4
    namespace: acme.items
    flowId: batch-gated
    restartBehavior: NEW_EXECUTION
    inputs:
      items: "{{ taskrun.items }}"
      n: "{{ taskrun.iteration }}"
      gate: new-execution
`)
	for _, tc := range []struct {
		flow, gate string
		executions int
		inPlace    bool // the failed executions are restarted themselves
	}{
		{"each-retry-failed", "retry-failed", 26, true},
		{"each-new-execution", "new-execution", 26 + 26, false},
	} {
		t.Run(tc.flow, func(t *testing.T) {
			ex := startWithFile(t, sys, "acme.items", tc.flow, "file", kestraItems(), nil)
			require.Equal(t, flow.StateFailed, ex.State.Current)
			iters := ordered.Plain(ex.TaskRunsByTaskID("each_items")[0].Outputs["iterations"]).(map[string]any)
			require.EqualValues(t, 13, iters["FAILED"])
			require.EqualValues(t, 13, iters["SUCCESS"])
			failed := map[string]bool{}
			for _, c := range children(t, sys, ex, "batch-gated") {
				if c.State.Current == flow.StateFailed {
					failed[c.ID] = true
				}
			}
			require.Len(t, failed, 13)

			code, body, err := sys.HTTP(ctx, http.MethodPut, "/api/v1/main/namespaces/acme.items/kv/"+tc.gate, "application/json", []byte(`"open"`))
			require.NoError(t, err)
			require.Less(t, code, 300, string(body))
			require.NoError(t, sys.Restart(ctx, ex.ID))
			require.Eventually(t, func() bool {
				ex, err = sys.Execution(ctx, ex.ID)
				return err == nil && ex.State.Current.IsTerminal() && ex.State.Current != flow.StateFailed
			}, 60*time.Second, 20*time.Millisecond)
			require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
			items := ex.TaskRunsByTaskID("each_items")[0]
			iters = ordered.Plain(items.Outputs["iterations"]).(map[string]any)
			require.EqualValues(t, 26, iters["SUCCESS"])
			require.NotContains(t, iters, "FAILED", "a batch's newest execution is the one that counts")
			require.Empty(t, items.Error)
			kids := children(t, sys, ex, "batch-gated")
			require.Len(t, kids, tc.executions)
			restarted := 0
			for _, c := range kids {
				_, wasFailed := failed[c.ID]
				if tc.inPlace {
					require.Equal(t, flow.StateSuccess, c.State.Current, "batch execution %s", c.ID)
				}
				if !wasFailed || !tc.inPlace {
					require.NotContains(t, c.Labels, flow.Label{Key: "system.restarted", Value: "true"}, "batch execution %s", c.ID)
					continue
				}
				restarted++
				require.Contains(t, c.Labels, flow.Label{Key: "system.restarted", Value: "true"}, "batch execution %s", c.ID)
				require.True(t, slices.ContainsFunc(c.State.Histories, func(h flow.StateHistory) bool { return h.State == flow.StateRestarted }), "batch execution %s: %+v", c.ID, c.State.Histories)
			}
			if tc.inPlace {
				require.Equal(t, 13, restarted, "every failed batch's execution restarted in place")
			}
			merged := ex.TaskRunsByTaskID("each_merge")[0].Outputs["subflowOutputs"].(string)
			code, body, err = sys.HTTP(ctx, http.MethodGet, "/api/v1/main/executions/"+ex.ID+"/file?path="+url.QueryEscape(merged), "", nil)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, code)
			var want strings.Builder
			for i := 1; i <= 26; i++ {
				fmt.Fprintf(&want, "{\"batch\":%d}\n", i)
			}
			require.Equal(t, want.String(), string(body), "one line per batch, in batch order")
		})
	}
}

// TestForEachItemLimit refuses more batches than osprey.limits.loop-items:
// every batch is an execution created in one step.
func TestForEachItemLimit(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, &conformance.Env{Vars: map[string]string{"KESTRA_CONFIGURATION": "osprey:\n  limits:\n    loop-items: 10\n"}},
		forEachItemChildren, forEachItemParent("each-many", "batch-log", ""))
	ex := startWithFile(t, sys, "acme.items", "each-many", "file", kestraItems(), nil)
	require.Equal(t, flow.StateFailed, ex.State.Current)
	require.Contains(t, ex.TaskRunsByTaskID("each_items")[0].Error, "26 batches exceed osprey.limits.loop-items (10)")
	require.Empty(t, children(t, sys, ex, "batch-log"), "no subflow is started")
}

// TestForEachItemBatches cuts one file each way Kestra's Batch can: rows,
// bytes, partitions (round-robin, empty ones dropped), a separator, and
// lines ending in CRLF (read as lines, as Kestra's readLine does).
func TestForEachItemBatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, batch, file string
		want              []string
	}{
		{"rows", "rows: 4", "a\nb\nc\nd\ne\nf\n", []string{"a\nb\nc\nd\n", "e\nf\n"}},
		{"rows-default", "separator: \"\\n\"", "a\nb\n", []string{"a\n", "b\n"}},
		{"bytes", "bytes: 4B", "a\nb\nc\nd\ne\nf", []string{"a\nb\n", "c\nd\n", "e\nf\n"}},
		{"partitions", "partitions: 4", "a\nb\nc\nd\ne\nf\n", []string{"a\ne\n", "b\nf\n", "c\n", "d\n"}},
		{"partitions-more-than-lines", "partitions: 10", "a\nb\n", []string{"a\n", "b\n"}},
		{"separator", "rows: 3\n      separator: \";\"", "a\nb\nc\nd\ne\nf\n", []string{"a;b;c;", "d;e;f;"}},
		{"crlf", "rows: 1", "a\r\nb\r\n", []string{"a\n", "b\n"}},
	}
	flows := []string{forEachItemOutputsChild}
	for _, tc := range cases {
		flows = append(flows, fmt.Sprintf(`
id: cut-%s
namespace: acme.items
inputs:
  - id: file
    type: FILE
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{ inputs.file }}"
    batch:
      %s
    namespace: acme.items
    flowId: batch-echo
    inputs:
      items: "{{ taskrun.items }}"
`, tc.name, tc.batch))
	}
	sys := startSystem(t, &conformance.Env{}, flows...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ex := startWithFile(t, sys, "acme.items", "cut-"+tc.name, "file", tc.file, nil)
			require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
			require.EqualValues(t, len(tc.want), ex.TaskRunsByTaskID("each_split")[0].Outputs["numberOfBatches"])
			merged := ex.TaskRunsByTaskID("each_merge")[0].Outputs["subflowOutputs"].(string)
			code, body, err := sys.HTTP(t.Context(), http.MethodGet, "/api/v1/main/executions/"+ex.ID+"/file?path="+url.QueryEscape(merged), "", nil)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, code)
			var got []string
			for _, l := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
				var o map[string]string
				require.NoError(t, json.Unmarshal([]byte(l), &o))
				got = append(got, o["value"])
			}
			require.Equal(t, tc.want, got)
		})
	}
}

// TestForEachItemInForEach nests a ForEachItem in a ForEach, as Kestra's
// third ForEachItem example does: each value cuts its own file and merges
// its own subflows' outputs.
func TestForEachItemInForEach(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, &conformance.Env{}, forEachItemOutputsChild, `
id: nested
namespace: acme.items
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.ForEach
    values: ["x", "y"]
    tasks:
      - id: write
        type: io.kestra.plugin.core.storage.Write
        content: "{{ taskrun.value }}1\n{{ taskrun.value }}2\n{{ taskrun.value }}3\n"
        extension: .txt
      - id: each
        type: io.kestra.plugin.core.flow.ForEachItem
        items: "{{ outputs.write[taskrun.value].uri }}"
        batch:
          rows: 2
        namespace: acme.items
        flowId: batch-echo
        inputs:
          items: "{{ taskrun.items }}"
`)
	ex := sys.runToEnd(t, "acme.items", "nested")
	require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
	merges := ex.TaskRunsByTaskID("each_merge")
	require.Len(t, merges, 2)
	for _, m := range merges {
		code, body, err := sys.HTTP(t.Context(), http.MethodGet, "/api/v1/main/executions/"+ex.ID+"/file?path="+url.QueryEscape(m.Outputs["subflowOutputs"].(string)), "", nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		v := m.Value
		require.Equal(t, fmt.Sprintf(`{"value":"%s1\n%s2\n"}`+"\n"+`{"value":"%s3\n"}`+"\n", v, v, v), string(body), "value %s", v)
	}
	require.Len(t, children(t, sys, ex, "batch-echo"), 4)
}

// TestForEachItemKill kills a parent while its batches run: the kill
// reaches every batch's execution, as Kestra cascades it.
func TestForEachItemKill(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: batch-slow
namespace: acme.items
inputs:
  - id: items
    type: STRING
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT5M
`, forEachItemParent("each-slow", "batch-slow", ""))
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "items.txt")
	require.NoError(t, err)
	_, _ = io.WriteString(fw, "a\nb\nc\nd\ne\nf\ng\nh\n")
	require.NoError(t, mw.Close())
	code, resp, err := sys.HTTP(ctx, http.MethodPost, "/api/v1/main/executions/acme.items/each-slow", mw.FormDataContentType(), body.Bytes())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, string(resp))
	var ex *flow.Execution
	require.NoError(t, json.Unmarshal(resp, &ex))
	require.Eventually(t, func() bool {
		kids := children(t, sys, ex, "batch-slow")
		running := 0
		for _, k := range kids {
			if k.State.Current == flow.StateRunning {
				running++
			}
		}
		return running == 2
	}, 30*time.Second, 20*time.Millisecond, "both batches run")
	code, resp, err = sys.HTTP(ctx, http.MethodDelete, "/api/v1/main/executions/"+ex.ID+"/kill", "", nil)
	require.NoError(t, err)
	require.Less(t, code, 300, string(resp))
	require.Eventually(t, func() bool {
		ex, err = sys.Execution(ctx, ex.ID)
		if err != nil || ex.State.Current != flow.StateKilled {
			return false
		}
		for _, k := range children(t, sys, ex, "batch-slow") {
			if k.State.Current != flow.StateKilled {
				return false
			}
		}
		return true
	}, 30*time.Second, 20*time.Millisecond, "the parent and its batches end KILLED")
	require.Equal(t, flow.StateKilled, ex.TaskRunsByTaskID("each_items")[0].State.Current)
}
