package cli

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/store"
)

// TestUploadFilesTask: core.namespace.UploadFiles stores a file of the
// execution as a namespace file under destination, and the conflict rule
// decides what a second upload to that path does (Kestra's UploadFilesTest:
// shouldPutFileGivenAlreadyExistingFileWhenConflictOverwrite, …Skip, and
// shouldThrowExceptionGivenAlreadyExistingFileWhenConflictError).
func TestUploadFilesTask(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: publish
namespace: acme
inputs:
  - id: content
    type: STRING
  - id: conflict
    type: STRING
tasks:
  - id: write
    type: io.kestra.plugin.core.storage.Write
    content: "{{ inputs.content }}"
  - id: pick
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ inputs.conflict }}"
    cases:
      OVERWRITE:
        - id: upload
          type: io.kestra.plugin.core.namespace.UploadFiles
          namespace: "{{ flow.namespace }}.team"
          filesMap:
            /path/file.txt: "{{ outputs.write.uri }}"
          destination: /folder
      SKIP:
        - id: skip
          type: io.kestra.plugin.core.namespace.UploadFiles
          namespace: "{{ flow.namespace }}.team"
          filesMap: '{"/path/file.txt": "{{ outputs.write.uri }}"}'
          destination: /folder/
          conflict: SKIP
      ERROR:
        - id: error
          type: io.kestra.plugin.core.namespace.UploadFiles
          namespace: "{{ flow.namespace }}.team"
          filesMap:
            path/file.txt: "{{ outputs.write.uri }}"
          destination: folder
          conflict: ERROR
`)
	run := func(content, conflict string) *flow.Execution {
		ex, err := sys.Start(ctx, "acme", "publish", map[string]any{"content": content, "conflict": conflict}, false, nil)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			ex, err = sys.Execution(ctx, ex.ID)
			return err == nil && ex.State.Current.IsTerminal()
		}, 20*time.Second, 20*time.Millisecond)
		return ex
	}
	read := func() string {
		f, err := sys.a.store.Files().Get(ctx, "acme.team", "/folder/path/file.txt")
		require.NoError(t, err)
		return string(f.Content)
	}
	require.Equal(t, flow.StateSuccess, run("first", "OVERWRITE").State.Current)
	require.Equal(t, "first", read())
	require.Equal(t, flow.StateSuccess, run("second", "SKIP").State.Current)
	require.Equal(t, "first", read(), "SKIP keeps the file there")
	ex := run("third", "ERROR")
	require.Equal(t, flow.StateFailed, ex.State.Current)
	require.Contains(t, failure(ex), "namespace file /folder/path/file.txt already exists in acme.team (conflict: ERROR)")
	require.Equal(t, flow.StateSuccess, run("fourth", "OVERWRITE").State.Current)
	require.Equal(t, "fourth", read())
	list, err := sys.a.store.Files().List(ctx, "acme.team", "/")
	require.NoError(t, err)
	require.Len(t, list, 1)
}

// TestDownloadAndDeleteFilesTasks: core.namespace.DownloadFiles copies the
// namespace files a pattern matches into the execution's storage,
// outputs.files by path (Kestra's DownloadFilesTest#shouldDownloadNamespaceFile:
// "**test1.txt" picks /a/b/test1.txt of two files), and
// core.namespace.DeleteFiles deletes those a pattern matches (Kestra's
// DeleteFilesTest#shouldDeleteNamespaceFilesForMatchingExpression).
func TestDownloadAndDeleteFilesTasks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: fetch
namespace: acme
tasks:
  - id: download
    type: io.kestra.plugin.core.namespace.DownloadFiles
    namespace: shared
    files:
      - "**test1.txt"
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(outputs.download.files['/a/b/test1.txt']) }}"
`, `
id: tidy
namespace: acme
tasks:
  - id: delete
    type: io.kestra.plugin.core.namespace.DeleteFiles
    namespace: shared
    files: "**test1*"
`)
	for p, c := range map[string]string{"/a/b/test1.txt": "1", "/a/b/test2.txt": "2"} {
		require.NoError(t, sys.a.store.Files().Put(ctx, store.FileRecord{Namespace: "shared", Path: p, Content: []byte(c)}))
	}
	ex, out := sys.taskOutputs(t, "acme", "fetch", "download")
	require.Equal(t, flow.StateSuccess, ex.State.Current, failure(ex))
	files, _ := ordered.AsMap(out["files"])
	require.Len(t, files, 1)
	require.Contains(t, files["/a/b/test1.txt"], "kestra:///acme/fetch/executions/"+ex.ID+"/tasks/download/")
	require.Equal(t, "1", ex.TaskRunList[1].Outputs["value"])

	ex = sys.runToEnd(t, "acme", "tidy")
	require.Equal(t, flow.StateSuccess, ex.State.Current, failure(ex))
	list, err := sys.a.store.Files().List(ctx, "shared", "/a/b/")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "/a/b/test2.txt", list[0].Path)
	require.Equal(t, []flow.Metric{{Name: "deleted", Type: "counter", Value: 1}}, metricsOf(ex.TaskRunList[0]))
}

// metricsOf returns a task run's metrics without their timestamps.
func metricsOf(tr *flow.TaskRun) []flow.Metric {
	var out []flow.Metric
	for _, a := range tr.Attempts {
		for _, m := range a.Metrics {
			m.Timestamp = time.Time{}
			out = append(out, m)
		}
	}
	return out
}
