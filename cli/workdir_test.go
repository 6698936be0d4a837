package cli

import (
	"archive/zip"
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/store"
)

// TestWorkingDirectoryCache follows Kestra's WorkingDirectoryTest#cache: the
// first run finds no cached file and stores the cache; the second finds the
// file its patterns kept, restored into its fresh directory.
func TestWorkingDirectoryCache(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: cached
namespace: acme.team
tasks:
  - id: dir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    cache:
      ttl: PT5M
      patterns:
        - "*.txt"
    tasks:
      - id: exists
        type: io.kestra.plugin.core.storage.LocalFiles
        outputs:
          - hello.txt
      - id: write
        type: io.kestra.plugin.core.storage.LocalFiles
        inputs:
          hello.txt: HELLO WORLD
          skipped.tmp: not cached
`)
	ex, outs := sys.taskOutputs(t, "acme.team", "cached", "exists")
	require.Equal(t, flow.StateSuccess, ex.State.Current, failure(ex))
	require.Equal(t, map[string]any{}, ordered.Plain(outs["uris"]), "no cache the first time")
	list, err := sys.a.files.List(ctx, "/acme/team/cached/dir/cache")
	require.NoError(t, err)
	require.Len(t, list, 1, "the cache is stored where Kestra keeps it")
	require.Equal(t, "/acme/team/cached/dir/cache/cache.zip", list[0].Path)

	ex, outs = sys.taskOutputs(t, "acme.team", "cached", "exists")
	require.Equal(t, flow.StateSuccess, ex.State.Current, failure(ex))
	uris, _ := ordered.AsMap(outs["uris"])
	require.Contains(t, uris, "hello.txt", "the second run starts with the cached file")
	data, err := sys.a.files.Get(ctx, uris["hello.txt"].(string)[len("kestra://"):])
	require.NoError(t, err)
	defer data.Close()
	b, err := io.ReadAll(data)
	require.NoError(t, err)
	require.Equal(t, "HELLO WORLD", string(b))
}

// A cache archive is data: an entry that would land outside the working
// directory fails the group instead of being written there.
func TestWorkingDirectoryCacheStaysInside(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: evil
namespace: acme.team
tasks:
  - id: dir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    cache:
      patterns: ["**"]
    tasks:
      - id: never
        type: io.kestra.plugin.core.debug.Return
        format: ran
`)
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, err := zw.Create("../../escaped.txt")
	require.NoError(t, err)
	_, _ = w.Write([]byte("out"))
	require.NoError(t, zw.Close())
	_, err = sys.a.files.Put(ctx, "/acme/team/evil/dir/cache/cache.zip", &zbuf)
	require.NoError(t, err)
	ex := sys.runToEnd(t, "acme.team", "evil")
	require.Equal(t, flow.StateFailed, ex.State.Current)
	require.Contains(t, ex.TaskRunsByTaskID("dir")[0].Error, "is outside the working directory")
	require.Empty(t, ex.TaskRunsByTaskID("never"))
}

// TestWorkingDirectoryNamespaceFiles follows Kestra's
// WorkingDirectoryTest#namespaceFiles: the namespace's files are in the
// group's directory before its first child, but those excluded.
func TestWorkingDirectoryNamespaceFiles(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys := startSystem(t, &conformance.Env{}, `
id: nsfiles
namespace: acme.team
tasks:
  - id: dir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    namespaceFiles:
      enabled: true
      exclude:
        - /ignore/**
    tasks:
      - id: first
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - echo '::{"outputs":{"first":"'$(cat test/a/b/c/1.txt)'","third":"'$(cat a/b/3.txt)'"}}::'
      - id: ignored
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - test ! -e ignore/4.txt
`)
	for p, c := range map[string]string{"/test/a/b/c/1.txt": "first", "/a/b/3.txt": "third", "/ignore/4.txt": "4th"} {
		require.NoError(t, sys.a.store.Files().Put(ctx, store.FileRecord{Namespace: "acme.team", Path: p, Content: []byte(c)}))
	}
	ex, outs := sys.taskOutputs(t, "acme.team", "nsfiles", "first")
	require.Equal(t, flow.StateSuccess, ex.State.Current, failure(ex))
	require.Equal(t, map[string]any{"first": "first", "third": "third"}, ordered.Plain(outs["vars"]))
}
