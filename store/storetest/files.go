package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/store"
)

// Paths here are clean and absolute, as callers pass them; directories are
// only the prefixes of the paths under them.
var fileTests = []test{
	{"PutGetRoundTrip", testFileRoundTrip},
	{"OverwriteKeepsCreated", testFileOverwrite},
	{"NamespacesAreSeparate", testFileNamespaces},
	{"GetMissingIsNotFound", testFileGetMissing},
	{"ListByPathWithoutContent", testFileList},
	{"ListPrefixIsADirectory", testFileListPrefix},
	{"DeleteFile", testFileDeleteFile},
	{"DeleteDirectory", testFileDeleteDirectory},
	{"DeleteMissingRemovesNothing", testFileDeleteMissing},
	{"WildcardsAreLiteral", testFileWildcards},
}

func testFileRoundTrip(t *testing.T, s store.Store) {
	ctx, files, now := t.Context(), s.Files(), Clock(t).Now()
	cases := []struct {
		name string
		in   store.FileRecord
	}{
		{"text", store.FileRecord{Path: "/scripts/etl.py", Content: []byte("print('hi')\n")}},
		{"tenant", store.FileRecord{TenantID: "main", Path: "/readme.md", Content: []byte("# é")}},
		{"binary with NUL and invalid UTF-8", store.FileRecord{Path: "/data/blob.bin",
			Content: []byte{0x00, 0xff, 0xfe, 'a', 0x00, 0xc3, 0x28, 0x80}}},
		{"empty", store.FileRecord{Path: "/empty", Content: []byte{}}},
		{"nil content is empty", store.FileRecord{Path: "/nil"}},
		{"caller's size and times are ignored", store.FileRecord{Path: "/set", Content: []byte("abc"),
			Size: 99, Created: now.Add(-time.Hour), Updated: now.Add(time.Hour)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.Namespace = "acme"
			require.NoError(t, files.Put(ctx, c.in))
			got, err := files.Get(ctx, "acme", c.in.Path)
			require.NoError(t, err)
			requireSameFile(t, c.in, got)
			requireSameTime(t, now, got.Created, "Created is the store's clock")
			requireSameTime(t, now, got.Updated, "Updated is the store's clock")
		})
	}
}

func testFileOverwrite(t *testing.T, s store.Store) {
	ctx, files, clock := t.Context(), s.Files(), Clock(t)
	created := clock.Now()
	require.NoError(t, files.Put(ctx, store.FileRecord{Namespace: "acme", Path: "/f.txt",
		Content: []byte("a much longer first version")}))

	clock.Advance(time.Minute)
	second := store.FileRecord{Namespace: "acme", Path: "/f.txt", Content: []byte("v2")}
	require.NoError(t, files.Put(ctx, second))
	got, err := files.Get(ctx, "acme", "/f.txt")
	require.NoError(t, err)
	requireSameFile(t, second, got)
	requireSameTime(t, created, got.Created, "an overwrite keeps Created")
	requireSameTime(t, clock.Now(), got.Updated, "an overwrite moves Updated")

	list, err := files.List(ctx, "acme", "/")
	require.NoError(t, err)
	require.Len(t, list, 1, "an overwrite replaces the file")
	require.Equal(t, int64(2), list[0].Size, "List gives the new size")
}

func testFileNamespaces(t *testing.T, s store.Store) {
	ctx, files := t.Context(), s.Files()
	for _, ns := range []string{"acme", "acme.team", "other"} {
		require.NoError(t, files.Put(ctx, store.FileRecord{Namespace: ns, Path: "/dir/f", Content: []byte(ns)}))
	}
	n, err := files.Delete(ctx, "acme", "/dir")
	require.NoError(t, err)
	require.Equal(t, 1, n, "only acme's file goes")
	_, err = files.Get(ctx, "acme", "/dir/f")
	require.ErrorIs(t, err, store.ErrNotFound)
	for _, ns := range []string{"acme.team", "other"} {
		got, err := files.Get(ctx, ns, "/dir/f")
		require.NoError(t, err, "deleting acme's /dir leaves %s's", ns)
		require.Equal(t, ns, string(got.Content))
		list, err := files.List(ctx, ns, "")
		require.NoError(t, err)
		require.Len(t, list, 1, "List of %s sees its own file only", ns)
	}
}

func testFileGetMissing(t *testing.T, s store.Store) {
	ctx, files := t.Context(), s.Files()
	require.NoError(t, files.Put(ctx, store.FileRecord{Namespace: "acme", Path: "/dir/f", Content: []byte("x")}))
	require.NoError(t, files.Put(ctx, store.FileRecord{Namespace: "other", Path: "/g", Content: []byte("x")}))
	for _, path := range []string{"/missing", "/dir", "/dir/", "/g"} {
		t.Run(path, func(t *testing.T) {
			_, err := files.Get(ctx, "acme", path)
			require.ErrorIs(t, err, store.ErrNotFound, "a directory or another namespace's file is not a file")
		})
	}
}

func testFileList(t *testing.T, s store.Store) {
	ctx, files, clock := t.Context(), s.Files(), Clock(t)
	first := clock.Now()
	putFiles(t, s, "acme", "/b", "/a/z", "/B", "/a/b/c")
	clock.Advance(time.Minute)
	putFiles(t, s, "acme", "/a.txt")
	putFiles(t, s, "other", "/a/other")

	list, err := files.List(ctx, "acme", "")
	require.NoError(t, err)
	require.Equal(t, []string{"/B", "/a.txt", "/a/b/c", "/a/z", "/b"}, paths(list), "by path, in byte order")
	for _, r := range list {
		require.Equal(t, "acme", r.Namespace)
		require.Empty(t, r.Content, "List leaves the content out")
		require.Equal(t, int64(len("content of "+r.Path)), r.Size, "List gives the size")
		if r.Path == "/a.txt" {
			requireSameTime(t, clock.Now(), r.Created, "Created")
			requireSameTime(t, clock.Now(), r.Updated, "Updated")
		} else {
			requireSameTime(t, first, r.Created, "Created")
			requireSameTime(t, first, r.Updated, "Updated")
		}
	}

	empty, err := files.List(ctx, "nowhere", "")
	require.NoError(t, err)
	require.Empty(t, empty)
}

func testFileListPrefix(t *testing.T, s store.Store) {
	ctx, files := t.Context(), s.Files()
	putFiles(t, s, "acme", "/dir", "/dir/x", "/dir/sub/y", "/directory/x", "/dir.txt", "/di", "/other/dir/z")
	cases := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"/di", "/dir", "/dir.txt", "/dir/sub/y", "/dir/x", "/directory/x", "/other/dir/z"}},
		{"/", []string{"/di", "/dir", "/dir.txt", "/dir/sub/y", "/dir/x", "/directory/x", "/other/dir/z"}},
		{"/dir", []string{"/dir", "/dir/sub/y", "/dir/x"}},
		{"/dir/", []string{"/dir/sub/y", "/dir/x"}},
		{"/dir/sub", []string{"/dir/sub/y"}},
		{"/dir/x", []string{"/dir/x"}},
		{"/d", nil},
		{"/missing", nil},
	}
	for _, c := range cases {
		t.Run(c.prefix, func(t *testing.T) {
			list, err := files.List(ctx, "acme", c.prefix)
			require.NoError(t, err)
			require.Equal(t, c.want, paths(list))
		})
	}
}

func testFileDeleteFile(t *testing.T, s store.Store) {
	ctx, files := t.Context(), s.Files()
	putFiles(t, s, "acme", "/a/f", "/a/f.bak", "/a/fx/g")
	n, err := files.Delete(ctx, "acme", "/a/f")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = files.Get(ctx, "acme", "/a/f")
	require.ErrorIs(t, err, store.ErrNotFound)
	requireFiles(t, s, "acme", "/a/f.bak", "/a/fx/g")
}

func testFileDeleteDirectory(t *testing.T, s store.Store) {
	ctx, files := t.Context(), s.Files()
	putFiles(t, s, "acme", "/dir/a", "/dir/b", "/dir/sub/c", "/dir.txt", "/directory/x", "/keep")
	n, err := files.Delete(ctx, "acme", "/dir")
	require.NoError(t, err)
	require.Equal(t, 3, n, "everything under /dir, nothing beside it")
	requireFiles(t, s, "acme", "/dir.txt", "/directory/x", "/keep")

	n, err = files.Delete(ctx, "acme", "/")
	require.NoError(t, err)
	require.Equal(t, 3, n, "/ is the root: everything is under it")
	requireFiles(t, s, "acme")
}

func testFileDeleteMissing(t *testing.T, s store.Store) {
	ctx, files := t.Context(), s.Files()
	putFiles(t, s, "acme", "/dir/a")
	putFiles(t, s, "other", "/elsewhere")
	for _, path := range []string{"/missing", "/di", "/dir/a/b", "/elsewhere"} {
		t.Run(path, func(t *testing.T) {
			n, err := files.Delete(ctx, "acme", path)
			require.NoError(t, err)
			require.Zero(t, n)
		})
	}
	requireFiles(t, s, "acme", "/dir/a")
	requireFiles(t, s, "other", "/elsewhere")
}

// testFileWildcards guards against prefix matching through LIKE, where '_'
// and '%' match any character.
func testFileWildcards(t *testing.T, s store.Store) {
	ctx, files := t.Context(), s.Files()
	putFiles(t, s, "acme", "/a_b", "/a_b/in", "/aXb", "/aXb/in", "/p%", "/p%/in", "/pq/in", `/x\`, `/x\/in`, "/xy/in")

	list, err := files.List(ctx, "acme", "/a_b")
	require.NoError(t, err)
	require.Equal(t, []string{"/a_b", "/a_b/in"}, paths(list))
	list, err = files.List(ctx, "acme", "/p%")
	require.NoError(t, err)
	require.Equal(t, []string{"/p%", "/p%/in"}, paths(list))

	for _, path := range []string{"/a_b", "/p%", `/x\`} {
		n, err := files.Delete(ctx, "acme", path)
		require.NoError(t, err)
		require.Equal(t, 2, n, "Delete %s", path)
	}
	requireFiles(t, s, "acme", "/aXb", "/aXb/in", "/pq/in", "/xy/in")
}

// putFiles stores each path in namespace ns with content naming it.
func putFiles(t *testing.T, s store.Store, ns string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		require.NoError(t, s.Files().Put(t.Context(), store.FileRecord{Namespace: ns, Path: p,
			Content: []byte("content of " + p)}))
	}
}

// requireFiles checks that namespace ns holds exactly the paths want.
func requireFiles(t *testing.T, s store.Store, ns string, want ...string) {
	t.Helper()
	list, err := s.Files().List(t.Context(), ns, "")
	require.NoError(t, err)
	require.Equal(t, want, paths(list), "files left in %s", ns)
}

// paths returns the paths of list, nil for none.
func paths(list []store.FileRecord) []string {
	var out []string
	for _, r := range list {
		out = append(out, r.Path)
	}
	return out
}

// requireSameFile compares what Put was given with what Get returned; Size
// is the content's length in bytes, whatever the caller set.
func requireSameFile(t *testing.T, want, got store.FileRecord) {
	t.Helper()
	require.Equal(t, want.TenantID, got.TenantID, "TenantID")
	require.Equal(t, want.Namespace, got.Namespace, "Namespace")
	require.Equal(t, want.Path, got.Path, "Path")
	// bytes.Equal, since nil and empty are the same content; a driver may
	// return either for an empty file.
	require.Truef(t, bytes.Equal(want.Content, got.Content), "Content: want %q, got %q", want.Content, got.Content)
	require.Equal(t, int64(len(want.Content)), got.Size, "Size")
}
