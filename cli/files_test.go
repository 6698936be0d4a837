package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// TestFileInputEndToEnd uploads a FILE input, reads it from tasks, serves
// it back through the execution file endpoints, and keeps other
// executions and namespaces out.
func TestFileInputEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: takes-file
namespace: company.team
inputs:
  - id: data
    type: FILE
tasks:
  - id: content
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(inputs.data) | trim }}"
  - id: size
    type: io.kestra.plugin.core.debug.Return
    format: "{{ fileSize(inputs.data) }} {{ isFileEmpty(inputs.data) }}"
`, `
id: snoops
namespace: acme
inputs:
  - id: uri
    type: STRING
tasks:
  - id: peek
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(inputs.uri) }}"
`, `
id: guesses
namespace: company.team
inputs:
  - id: id
    type: STRING
tasks:
  - id: peek
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('kestra:///company/team/takes-file/executions/' ~ inputs.id ~ '/inputs/data/orders 2026.csv') }}"
`)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("data", "orders 2026.csv")
	require.NoError(t, err)
	_, _ = fw.Write([]byte("id,total\n1,10\n2,20\n"))
	require.NoError(t, mw.Close())
	code, resp, err := sys.HTTP(ctx, http.MethodPost, "/api/v1/main/executions/company.team/takes-file", mw.FormDataContentType(), body.Bytes())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, string(resp))
	var started flow.Execution
	require.NoError(t, json.Unmarshal(resp, &started))
	uri, _ := started.Inputs["data"].(string)
	require.Equal(t, "kestra:///company/team/takes-file/executions/"+started.ID+"/inputs/data/orders 2026.csv", uri, "Kestra's layout, under the execution's own id")

	var ex *flow.Execution
	require.Eventually(t, func() bool {
		ex, err = sys.Execution(ctx, started.ID)
		return err == nil && ex.State.Current.IsTerminal()
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
	require.Equal(t, "id,total\n1,10\n2,20", ex.TaskRunsByTaskID("content")[0].Outputs["value"])
	require.Equal(t, "19 false", ex.TaskRunsByTaskID("size")[0].Outputs["value"])

	get := func(path string) (int, string) {
		code, b, err := sys.HTTP(ctx, http.MethodGet, path, "", nil)
		require.NoError(t, err)
		return code, string(b)
	}
	q := "?path=" + url.QueryEscape(uri)
	code, got := get("/api/v1/main/executions/" + ex.ID + "/file" + q)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "id,total\n1,10\n2,20\n", got)
	code, got = get("/api/v1/main/executions/" + ex.ID + "/file/metas" + q)
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"size":19}`, got)
	code, got = get("/api/v1/main/executions/" + ex.ID + "/file/preview" + q + "&maxRows=2")
	require.Equal(t, http.StatusOK, code, got)
	require.JSONEq(t, `{"extension":"csv","type":"TEXT","content":"id,total\n1,10\n","truncated":true}`, got)
	code, got = get("/api/v1/main/executions/" + ex.ID + "/file?path=" + url.QueryEscape("kestra:///company/team/other/executions/X/f"))
	require.Equal(t, http.StatusUnprocessableEntity, code, got)
	code, _ = get("/api/v1/main/executions/" + ex.ID + "/file?path=" + url.QueryEscape("kestra:///company/team/takes-file/executions/"+ex.ID+"/nope"))
	require.Equal(t, http.StatusNotFound, code)

	// Another namespace cannot read the file even when handed its URI, and
	// another execution of the namespace cannot read it by guessing it.
	for _, tc := range []struct{ ns, id, input, value string }{
		{"acme", "snoops", "uri", uri},
		{"company.team", "guesses", "id", ex.ID},
	} {
		other, err := sys.Start(ctx, tc.ns, tc.id, map[string]any{tc.input: tc.value}, true, nil)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			other, err = sys.Execution(ctx, other.ID)
			return err == nil && other.State.Current.IsTerminal()
		}, 20*time.Second, 20*time.Millisecond)
		require.Equal(t, flow.StateFailed, other.State.Current, tc.id)
		logs, err := sys.Logs(ctx, other.ID)
		require.NoError(t, err)
		var lines []string
		for _, l := range logs {
			lines = append(lines, l.Message)
		}
		require.Contains(t, strings.Join(lines, "\n"), "reads only its own execution's files", tc.id)
	}

	// The endpoints serve no other namespace's file, even one named in an
	// input of the execution.
	foreign, err := sys.Start(ctx, "acme", "snoops", map[string]any{"uri": uri}, true, nil)
	require.NoError(t, err)
	code, got = get("/api/v1/main/executions/" + foreign.ID + "/file" + q)
	require.Equal(t, http.StatusUnprocessableEntity, code, got)

	// A FILE input given as a URI must be a file of the flow's namespace.
	code, resp, err = sys.HTTP(ctx, http.MethodPost, "/api/v1/main/executions/company.team/takes-file", "application/json",
		[]byte(`{"data":"kestra:///acme/secret/executions/E/inputs/x/keys.txt"}`))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, code, string(resp))
	require.Contains(t, string(resp), "is not a file of namespace company.team")
}

// TestShellFilesEndToEnd hands a FILE input to a shell task through
// inputFiles, collects what the script writes with outputFiles, reads the
// result back in the next task, and purges the execution's files with the
// execution.
func TestShellFilesEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: transform
namespace: company.team
inputs:
  - id: data
    type: FILE
tasks:
  - id: upper
    type: io.kestra.plugin.scripts.shell.Commands
    inputFiles:
      in.csv: "{{ inputs.data }}"
      note.txt: inline content
    outputFiles: ["*.out", "reports/**"]
    outputDirectory: true
    commands:
      - tr a-z A-Z < in.csv > upper.out
      - mkdir -p reports && cat note.txt > reports/note.md
      - echo ignored > skipped.tmp
      - echo from outputDir > '{{ outputDir }}/extra.txt'
  - id: check
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(outputs.upper.outputFiles['upper.out']) | trim }}|{{ read(outputs.upper.outputFiles['reports/note.md']) }}|{{ outputs.upper.outputFiles | length }}|{{ read(outputs.upper.outputFiles['extra.txt']) | trim }}"
`)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("data", "in.csv")
	require.NoError(t, err)
	_, _ = fw.Write([]byte("a,b\nc,d\n"))
	require.NoError(t, mw.Close())
	code, resp, err := sys.HTTP(ctx, http.MethodPost, "/api/v1/main/executions/company.team/transform", mw.FormDataContentType(), body.Bytes())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, string(resp))
	var started flow.Execution
	require.NoError(t, json.Unmarshal(resp, &started))
	var ex *flow.Execution
	require.Eventually(t, func() bool {
		ex, err = sys.Execution(ctx, started.ID)
		return err == nil && ex.State.Current.IsTerminal()
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
	require.Equal(t, "A,B\nC,D|inline content|3|from outputDir", ex.TaskRunsByTaskID("check")[0].Outputs["value"])
	upper := ex.TaskRunsByTaskID("upper")[0]
	files, _ := ordered.AsMap(upper.Outputs["outputFiles"])
	require.Equal(t, "kestra:///company/team/transform/executions/"+ex.ID+"/tasks/upper/"+upper.ID+"/upper.out", files["upper.out"])

	list, err := sys.a.files.List(ctx, "/company/team/transform/executions/"+ex.ID)
	require.NoError(t, err)
	require.Len(t, list, 4, "the input and the three output files")
	code, _, err = sys.HTTP(ctx, http.MethodDelete, "/api/v1/main/executions/"+ex.ID, "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, code)
	list, err = sys.a.files.List(ctx, "/company/team/transform/executions/"+ex.ID)
	require.NoError(t, err)
	require.Empty(t, list, "deleting the execution purges its files")
}

// TestStorageTasksEndToEnd runs Kestra's core.storage tasks and
// http.Download against the execution's storage.
func TestStorageTasksEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/empty" {
			return
		}
		w.Header().Set("Content-Disposition", `attachment; filename="report.csv"`)
		_, _ = io.WriteString(w, "x,y\n1,2\n")
	}))
	t.Cleanup(remote.Close)
	sys := startSystem(t, &conformance.Env{}, `
id: storage-tasks
namespace: company.team
tasks:
  - id: write
    type: io.kestra.plugin.core.storage.Write
    content: "a\nb\nc\nd\ne\n"
    extension: .txt
  - id: size
    type: io.kestra.plugin.core.storage.Size
    uri: "{{ outputs.write.uri }}"
  - id: split
    type: io.kestra.plugin.core.storage.Split
    from: "{{ outputs.write.uri }}"
    rows: 2
  - id: concat
    type: io.kestra.plugin.core.storage.Concat
    files: "{{ outputs.split.uris }}"
  - id: download
    type: io.kestra.plugin.core.http.Download
    uri: "`+remote.URL+`/files/ignored-name"
  - id: check
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.size.size }}|{{ outputs.split.uris | length }}|{{ read(outputs.concat.uri) == read(outputs.write.uri) }}|{{ read(outputs.download.uri) | trim }}|{{ outputs.download.uri | split('/') | last }}"
  - id: delete
    type: io.kestra.plugin.core.storage.Delete
    uri: "{{ outputs.write.uri }}"
  - id: gone
    type: io.kestra.plugin.core.debug.Return
    format: "{{ fileExists(outputs.write.uri) }}"
  - id: local
    type: io.kestra.plugin.core.storage.LocalFiles
    inputs:
      notes.md: "# {{ flow.id }}"
      copy.txt: "{{ outputs.download.uri }}"
      skip.tmp: not kept
    outputs: ["*.md", "*.txt"]
  - id: localCheck
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(outputs.local.uris['notes.md']) }}|{{ read(outputs.local.uris['copy.txt']) | trim }}|{{ outputs.local.uris | length }}"
  - id: purge
    type: io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles
`, `
id: empty-download
namespace: company.team
tasks:
  - id: download
    type: io.kestra.plugin.core.http.Download
    uri: "`+remote.URL+`/empty"
`)
	ex := sys.runToEnd(t, "company.team", "storage-tasks")
	require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
	require.Equal(t, "10|3|true|x,y\n1,2|report.csv", ex.TaskRunsByTaskID("check")[0].Outputs["value"])
	require.Equal(t, true, ex.TaskRunsByTaskID("delete")[0].Outputs["deleted"])
	require.Equal(t, "false", ex.TaskRunsByTaskID("gone")[0].Outputs["value"])
	require.Equal(t, "# storage-tasks|x,y\n1,2|2", ex.TaskRunsByTaskID("localCheck")[0].Outputs["value"])
	require.Len(t, ex.TaskRunsByTaskID("purge")[0].Outputs["uris"], 7, "three parts, the concatenation, the download and LocalFiles' two")
	left, err := sys.a.files.List(ctx, "/company/team/storage-tasks/executions/"+ex.ID)
	require.NoError(t, err)
	require.Empty(t, left)

	empty := sys.runToEnd(t, "company.team", "empty-download")
	require.Equal(t, flow.StateFailed, empty.State.Current)
}

// TestResumeWithFile resumes a paused execution with a FILE among its
// onResume inputs.
func TestResumeWithFile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: approve
namespace: company.team
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: note
        type: STRING
      - id: evidence
        type: FILE
        required: false
  - id: check
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.wait.onResume.note }}: {{ read(outputs.wait.onResume.evidence) }}"
`)
	ex, err := sys.Start(ctx, "company.team", "approve", nil, true, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ex, err = sys.Execution(ctx, ex.ID)
		return err == nil && ex.State.Current == flow.StatePaused
	}, 20*time.Second, 20*time.Millisecond)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("note", "approved"))
	fw, err := mw.CreateFormFile("evidence", "scan.txt")
	require.NoError(t, err)
	_, _ = fw.Write([]byte("signed"))
	require.NoError(t, mw.Close())
	code, resp, err := sys.HTTP(ctx, http.MethodPost, "/api/v1/main/executions/"+ex.ID+"/resume", mw.FormDataContentType(), body.Bytes())
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, code, string(resp))
	require.Eventually(t, func() bool {
		ex, err = sys.Execution(ctx, ex.ID)
		return err == nil && ex.State.Current.IsTerminal()
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
	require.Equal(t, "approved: signed", ex.TaskRunsByTaskID("check")[0].Outputs["value"])
}

// TestLogFetch writes the execution's own logs to a file.
func TestLogFetch(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, &conformance.Env{}, `
id: fetch-logs
namespace: company.team
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: [plain note, "{{ 'loud' }} warning"]
    level: INFO
  - id: warn
    type: io.kestra.plugin.core.log.Log
    message: something odd
    level: WARN
  - id: fetch
    type: io.kestra.plugin.core.log.Fetch
    level: WARN
  - id: fetchSay
    type: io.kestra.plugin.core.log.Fetch
    tasksId: [say]
  - id: check
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.fetch.size }} {{ outputs.fetchSay.size }}|{{ read(outputs.fetch.uri) | trim }}"
`)
	ex := sys.runToEnd(t, "company.team", "fetch-logs")
	require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
	counts, line, _ := strings.Cut(ex.TaskRunsByTaskID("check")[0].Outputs["value"].(string), "|")
	require.Equal(t, "1 2", counts, "one WARN line; the say task's two lines")
	var entry map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &entry))
	require.Equal(t, "something odd", entry["message"])
	require.Equal(t, "warn", entry["taskId"])
	require.True(t, strings.HasSuffix(ex.TaskRunsByTaskID("fetch")[0].Outputs["uri"].(string), ".ion"))
}

// TestSubflowReadsParentFile hands a file to a subflow of another
// namespace: the child reads its parent's file, as in Kestra, while an
// unrelated execution of that namespace still cannot.
func TestSubflowReadsParentFile(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, &conformance.Env{}, `
id: parent
namespace: acme.sales
tasks:
  - id: write
    type: io.kestra.plugin.core.storage.Write
    content: quarterly numbers
    extension: .txt
  - id: child
    type: io.kestra.plugin.core.flow.Subflow
    namespace: shared.reports
    flowId: render
    inputs:
      data: "{{ outputs.write.uri }}"
`, `
id: render
namespace: shared.reports
inputs:
  - id: data
    type: FILE
tasks:
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(inputs.data) }}"
`)
	ex := sys.runToEnd(t, "acme.sales", "parent")
	require.Equal(t, flow.StateSuccess, ex.State.Current, "%+v", ex.TaskRunList)
	childID := ex.TaskRunsByTaskID("child")[0].Outputs["executionId"].(string)
	child, err := sys.Execution(t.Context(), childID)
	require.NoError(t, err)
	require.Equal(t, flow.StateSuccess, child.State.Current, "%+v", child.TaskRunList)
	require.Equal(t, "quarterly numbers", child.TaskRunsByTaskID("read")[0].Outputs["value"])

	// Started on its own with the same URI, the subflow is refused at once:
	// the file is not of its namespace.
	code, body, err := sys.HTTP(t.Context(), http.MethodPost, "/api/v1/main/executions/shared.reports/render", "application/json",
		[]byte(`{"data":"`+child.Inputs["data"].(string)+`"}`))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, code, string(body))
}
