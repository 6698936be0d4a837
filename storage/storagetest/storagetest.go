// Package storagetest is the conformance suite every storage backend passes.
package storagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/storage"
)

// Options tunes the suite to a backend.
type Options struct {
	// LargeSize is the size of the file that must cross the backend in
	// several pieces (several blocks on Azure); 9 MiB when zero.
	LargeSize int64
}

// Exercise runs the suite against fresh storages from open.
func Exercise(t *testing.T, open func(t *testing.T) storage.Storage, o Options) {
	t.Helper()
	if o.LargeSize == 0 {
		o.LargeSize = 9 << 20
	}
	ctx := context.Background()

	t.Run("put get stat", func(t *testing.T) {
		s := open(t)
		p := "/acme/team/flow/executions/E1/tasks/t/TR1/out.txt"
		n, err := s.Put(ctx, p, strings.NewReader("hello"))
		require.NoError(t, err)
		require.EqualValues(t, 5, n)
		require.Equal(t, "hello", read(t, s, p))
		info, err := s.Stat(ctx, storage.URI(p))
		require.NoError(t, err)
		require.Equal(t, p, info.Path)
		require.EqualValues(t, 5, info.Size)
		require.False(t, info.Modified.IsZero())
		require.Equal(t, "kestra://"+p, info.URI())
	})
	t.Run("replace", func(t *testing.T) {
		s := open(t)
		_, err := s.Put(ctx, "/a/f", strings.NewReader("first, longer"))
		require.NoError(t, err)
		_, err = s.Put(ctx, "/a/f", strings.NewReader("second"))
		require.NoError(t, err)
		require.Equal(t, "second", read(t, s, "/a/f"))
	})
	t.Run("empty file", func(t *testing.T) {
		s := open(t)
		n, err := s.Put(ctx, "/a/empty", strings.NewReader(""))
		require.NoError(t, err)
		require.Zero(t, n)
		require.Equal(t, "", read(t, s, "/a/empty"))
		info, err := s.Stat(ctx, "/a/empty")
		require.NoError(t, err)
		require.Zero(t, info.Size)
	})
	t.Run("not found", func(t *testing.T) {
		s := open(t)
		_, err := s.Get(ctx, "/nope/x")
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.Stat(ctx, "/nope/x")
		require.ErrorIs(t, err, storage.ErrNotFound)
		ok, err := s.Delete(ctx, "/nope/x")
		require.NoError(t, err)
		require.False(t, ok)
		_, err = s.Put(ctx, "/dir/file", strings.NewReader("x"))
		require.NoError(t, err)
		_, err = s.Get(ctx, "/dir")
		require.ErrorIs(t, err, storage.ErrNotFound, "a directory is not a file")
		_, err = s.Stat(ctx, "/dir")
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
	t.Run("invalid paths", func(t *testing.T) {
		s := open(t)
		for _, p := range []string{"", "relative/x", "/", "/a/../b", "/a//b", "/a/./b", "kestra://relative", "/a/b\\c", "/a/\x00"} {
			_, err := s.Put(ctx, p, strings.NewReader("x"))
			require.ErrorIs(t, err, storage.ErrInvalidPath, "put %q", p)
			_, err = s.Get(ctx, p)
			require.ErrorIs(t, err, storage.ErrInvalidPath, "get %q", p)
			_, err = s.List(ctx, p)
			require.ErrorIs(t, err, storage.ErrInvalidPath, "list %q", p)
			_, err = s.DeleteTree(ctx, p)
			require.ErrorIs(t, err, storage.ErrInvalidPath, "delete tree %q", p)
		}
	})
	t.Run("names with spaces and unicode", func(t *testing.T) {
		s := open(t)
		p := "/ns/f/executions/E/inputs/file/my report é+%20.csv"
		_, err := s.Put(ctx, p, strings.NewReader("a,b"))
		require.NoError(t, err)
		require.Equal(t, "a,b", read(t, s, p))
		list, err := s.List(ctx, "/ns/f/executions/E")
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, p, list[0].Path)
	})
	t.Run("list and delete tree", func(t *testing.T) {
		s := open(t)
		files := []string{"/ns/f/executions/E1/a", "/ns/f/executions/E1/tasks/t/r/b", "/ns/f/executions/E2/c", "/ns/f/executions/E10/d"}
		for _, p := range files {
			_, err := s.Put(ctx, p, strings.NewReader(p))
			require.NoError(t, err)
		}
		list, err := s.List(ctx, "/ns/f/executions/E1")
		require.NoError(t, err)
		require.Equal(t, []string{"/ns/f/executions/E1/a", "/ns/f/executions/E1/tasks/t/r/b"}, paths(list), "E10 is not under E1")
		require.EqualValues(t, len(files[1]), list[1].Size)
		empty, err := s.List(ctx, "/ns/none")
		require.NoError(t, err)
		require.Empty(t, empty)

		n, err := s.DeleteTree(ctx, "/ns/f/executions/E1/")
		require.NoError(t, err)
		require.Equal(t, 2, n)
		_, err = s.Stat(ctx, "/ns/f/executions/E1/a")
		require.ErrorIs(t, err, storage.ErrNotFound)
		rest, err := s.List(ctx, "/ns")
		require.NoError(t, err)
		require.Equal(t, []string{"/ns/f/executions/E10/d", "/ns/f/executions/E2/c"}, paths(rest))
		n, err = s.DeleteTree(ctx, "/ns/f/executions/E1")
		require.NoError(t, err)
		require.Zero(t, n)
	})
	t.Run("delete one", func(t *testing.T) {
		s := open(t)
		_, err := s.Put(ctx, "/d/x", strings.NewReader("x"))
		require.NoError(t, err)
		ok, err := s.Delete(ctx, "/d/x")
		require.NoError(t, err)
		require.True(t, ok)
		_, err = s.Get(ctx, "/d/x")
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
	t.Run("large file streams both ways", func(t *testing.T) {
		s := open(t)
		src := &patternReader{n: o.LargeSize}
		n, err := s.Put(ctx, "/big/file.bin", src)
		require.NoError(t, err)
		require.Equal(t, o.LargeSize, n)
		rc, err := s.Get(ctx, "/big/file.bin")
		require.NoError(t, err)
		defer rc.Close()
		got, err := io.Copy(&patternChecker{}, rc)
		require.NoError(t, err)
		require.Equal(t, o.LargeSize, got)
	})
	t.Run("failed put leaves nothing", func(t *testing.T) {
		s := open(t)
		boom := errors.New("source broke")
		_, err := s.Put(ctx, "/fail/x", io.MultiReader(strings.NewReader("partial"), errReader{boom}))
		require.Error(t, err)
		_, err = s.Stat(ctx, "/fail/x")
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
	t.Run("concurrent puts", func(t *testing.T) {
		s := open(t)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Go(func() {
				buf := make([]byte, 1000+i)
				_, _ = rand.Read(buf)
				if _, err := s.Put(ctx, fmt.Sprintf("/c/%d", i), bytes.NewReader(buf)); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		list, err := s.List(ctx, "/c")
		require.NoError(t, err)
		require.Len(t, list, 8)
	})
}

func read(t *testing.T, s storage.Storage, p string) string {
	t.Helper()
	rc, err := s.Get(context.Background(), p)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return string(b)
}

func paths(list []storage.Info) []string {
	out := make([]string, len(list))
	for i, f := range list {
		out[i] = f.Path
	}
	return out
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// patternReader yields n bytes of a position-dependent pattern without
// holding them.
type patternReader struct{ n, off int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		b[i] = patternByte(p.off + int64(i))
	}
	p.off += int64(len(b))
	return len(b), nil
}

func patternByte(off int64) byte { return byte(off*31 + off/4099) }

type patternChecker struct{ off int64 }

func (p *patternChecker) Write(b []byte) (int, error) {
	for i, c := range b {
		if c != patternByte(p.off+int64(i)) {
			return i, fmt.Errorf("byte %d differs", p.off+int64(i))
		}
	}
	p.off += int64(len(b))
	return len(b), nil
}
