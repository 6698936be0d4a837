package tasks

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/worker"
)

// Kestra's core.storage tasks: they write, measure, join, split and delete
// files of the execution's internal storage.

// storageSpecs lists them.
func storageSpecs() []*Spec {
	const p = "io.kestra.plugin.core.storage."
	return []*Spec{
		runnable[StorageWrite](p+"Write", []string{"content", "extension"}, func(t *flow.Task, x *StorageWrite) []*flow.Error {
			return required(t, "content", x.Content != nil)
		}),
		runnable[StorageSize](p+"Size", []string{"uri"}, func(t *flow.Task, x *StorageSize) []*flow.Error {
			return required(t, "uri", x.URI != "")
		}),
		runnable[StorageDelete](p+"Delete", []string{"uri", "errorOnMissing"}, func(t *flow.Task, x *StorageDelete) []*flow.Error {
			return required(t, "uri", x.URI != "")
		}),
		runnable[StorageConcat](p+"Concat", []string{"files", "separator", "extension"}, func(t *flow.Task, x *StorageConcat) []*flow.Error {
			return required(t, "files", x.Files != nil)
		}),
		runnable[StorageSplit](p+"Split", []string{"from", "bytes", "partitions", "rows", "separator"}, checkSplit),
		runnable[PurgeCurrentExecutionFiles](p+"PurgeCurrentExecutionFiles", nil, nil),
		runnable[LocalFiles](p+"LocalFiles", []string{"inputs", "outputs"}, nil),
		runnable[LogFetch]("io.kestra.plugin.core.log.Fetch", []string{"executionId", "tasksId", "level"}, nil),
	}
}

// fileName is a fresh name for a file a task writes: Kestra's tasks name
// theirs uniquely too, so two writes never collide.
func fileName(ext string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	if ext != "" && !strings.HasPrefix(ext, ".") {
		ext = "." + ext
	}
	return hex.EncodeToString(b) + ext
}

// StorageWrite writes content to a new file (core.storage.Write): outputs.uri.
type StorageWrite struct {
	Content   any    `json:"content"`
	Extension string `json:"extension"`
}

// Run implements worker.Runnable.
func (x *StorageWrite) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	f, err := filesOf(rc)
	if err != nil {
		return nil, err
	}
	v, err := rc.RenderValue(ctx, x.Content)
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	content, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("content: %w", err)
		}
		content = string(b)
	}
	ext := x.Extension
	if ext == "" {
		ext = ".ion"
	}
	if ext, err = rc.Render(ctx, ext); err != nil {
		return nil, fmt.Errorf("extension: %w", err)
	}
	uri, n, err := f.put(ctx, fileName(ext), strings.NewReader(content))
	if err != nil {
		return nil, err
	}
	return map[string]any{"uri": uri, "size": n}, nil
}

// StorageSize measures a file (core.storage.Size): outputs.size in bytes.
type StorageSize struct {
	URI string `json:"uri"`
}

// Run implements worker.Runnable.
func (x *StorageSize) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	f, p, err := renderURI(ctx, rc, "uri", x.URI)
	if err != nil {
		return nil, err
	}
	info, err := f.st.Stat(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("size of %s: %w", storage.URI(p), err)
	}
	return map[string]any{"size": info.Size}, nil
}

// renderURI renders a URI property and checks the execution may read it.
func renderURI(ctx context.Context, rc *worker.RunContext, prop, tmpl string) (*execFiles, string, error) {
	f, err := filesOf(rc)
	if err != nil {
		return nil, "", err
	}
	uri, err := rc.Render(ctx, tmpl)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", prop, err)
	}
	p, err := f.check(strings.TrimSpace(uri))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", prop, err)
	}
	return f, p, nil
}

// StorageDelete deletes a file of the execution (core.storage.Delete):
// outputs.uri and outputs.deleted.
type StorageDelete struct {
	URI            string `json:"uri"`
	ErrorOnMissing bool   `json:"errorOnMissing"`
}

// Run implements worker.Runnable.
func (x *StorageDelete) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	f, p, err := renderURI(ctx, rc, "uri", x.URI)
	if err != nil {
		return nil, err
	}
	if !storage.Within(p, f.scope.Dir()) {
		// A file given as an input belongs to whoever gave it.
		return nil, fmt.Errorf("uri: %s is not a file of this execution: a task deletes only its own execution's files", storage.URI(p))
	}
	ok, err := f.st.Delete(ctx, p)
	if err != nil {
		return nil, err
	}
	if !ok && x.ErrorOnMissing {
		return nil, fmt.Errorf("uri: no file %s", storage.URI(p))
	}
	return map[string]any{"uri": storage.URI(p), "deleted": ok}, nil
}

// StorageConcat joins files into one (core.storage.Concat): outputs.uri.
type StorageConcat struct {
	Files     any    `json:"files"`
	Separator string `json:"separator"`
	Extension string `json:"extension"`
}

// Run implements worker.Runnable.
func (x *StorageConcat) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	f, err := filesOf(rc)
	if err != nil {
		return nil, err
	}
	v, err := rc.RenderValue(ctx, x.Files)
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	uris, err := uriList(v)
	if err != nil {
		return nil, err
	}
	sep, err := rc.Render(ctx, x.Separator)
	if err != nil {
		return nil, fmt.Errorf("separator: %w", err)
	}
	for _, u := range uris {
		if _, err := f.check(u); err != nil {
			return nil, fmt.Errorf("files: %w", err)
		}
	}
	ext := x.Extension
	if ext == "" {
		ext = ".tmp"
	}
	// The parts are streamed one after the other through a pipe: the
	// joined file is never held in memory.
	pr, pw := io.Pipe()
	go func() {
		for i, u := range uris {
			if i > 0 && sep != "" {
				if _, err := io.WriteString(pw, sep); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
			rc, err := f.open(ctx, u)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			_, err = io.Copy(pw, rc)
			_ = rc.Close()
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		_ = pw.Close()
	}()
	uri, n, err := f.put(ctx, fileName(ext), pr)
	_ = pr.CloseWithError(errors.New("concat stopped"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"uri": uri, "size": n}, nil
}

// uriList reads a list of URIs: a list, or a JSON string of one.
func uriList(v any) ([]string, error) {
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if !strings.HasPrefix(s, "[") {
			return []string{s}, nil
		}
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("files: expected a list of kestra:/// URIs: %w", err)
		}
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errors.New("files: expected a list of kestra:/// URIs")
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out, nil
}

// StorageSplit splits a file (core.storage.Split) by size, number of
// partitions or rows: outputs.uris.
type StorageSplit struct {
	From       string `json:"from"`
	Bytes      string `json:"bytes"`
	Partitions any    `json:"partitions"`
	Rows       any    `json:"rows"`
	Separator  string `json:"separator"`
}

func checkSplit(t *flow.Task, x *StorageSplit) []*flow.Error {
	errs := required(t, "from", x.From != "")
	n := 0
	for _, set := range []bool{x.Bytes != "", x.Partitions != nil, x.Rows != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		errs = append(errs, taskErr(t, "bytes", "set exactly one of bytes, partitions and rows"))
	}
	return errs
}

// Run implements worker.Runnable. Lines are never cut: a part ends on a
// separator, as Kestra's does.
func (x *StorageSplit) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	f, p, err := renderURI(ctx, rc, "from", x.From)
	if err != nil {
		return nil, err
	}
	sep := x.Separator
	if sep == "" {
		sep = "\n"
	}
	info, err := f.st.Stat(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	var maxBytes, maxRows int64
	switch {
	case x.Bytes != "":
		s, err := rc.Render(ctx, x.Bytes)
		if err == nil {
			maxBytes, err = parseSize(s)
		}
		if err != nil {
			return nil, fmt.Errorf("bytes: %w", err)
		}
	case x.Rows != nil:
		if maxRows, err = renderCount(ctx, rc, "rows", x.Rows); err != nil {
			return nil, err
		}
	default:
		n, err := renderCount(ctx, rc, "partitions", x.Partitions)
		if err != nil {
			return nil, err
		}
		maxBytes = max(1, (info.Size+n-1)/n)
	}
	src, err := f.st.Get(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	defer src.Close()
	ext := ""
	if i := strings.LastIndex(storage.FileName(p), "."); i > 0 {
		ext = storage.FileName(p)[i:]
	}
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	sc.Split(splitOn(sep))
	base := strings.TrimSuffix(storage.FileName(p), ext)
	w := &partWriter{ctx: ctx, f: f}
	var size, rows int64
	for sc.Scan() {
		line := sc.Text() + sep
		if w.open() && ((maxBytes > 0 && size+int64(len(line)) > maxBytes) || (maxRows > 0 && rows == maxRows)) {
			if err := w.close(); err != nil {
				return nil, err
			}
			size, rows = 0, 0
		}
		if !w.open() {
			w.start(fmt.Sprintf("%s-%d%s", base, len(w.uris), ext))
		}
		if err := w.write(line); err != nil {
			return nil, err
		}
		size += int64(len(line))
		rows++
	}
	if err := sc.Err(); err != nil {
		w.abort(err)
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := w.close(); err != nil {
		return nil, err
	}
	uris := make([]any, len(w.uris))
	for i, u := range w.uris {
		uris[i] = u
	}
	return map[string]any{"uris": uris}, nil
}

// partWriter streams one part at a time into storage through a pipe, so
// a split never holds a part in memory.
type partWriter struct {
	ctx  context.Context
	f    *execFiles
	pw   *io.PipeWriter
	done chan error
	uri  string
	uris []string
}

func (w *partWriter) open() bool { return w.pw != nil }

func (w *partWriter) start(name string) {
	pr, pw := io.Pipe()
	w.pw, w.done = pw, make(chan error, 1)
	go func() {
		uri, _, err := w.f.put(w.ctx, name, pr)
		w.uri = uri
		_ = pr.CloseWithError(errors.New("part stored"))
		w.done <- err
	}()
}

func (w *partWriter) write(s string) error {
	if _, err := io.WriteString(w.pw, s); err != nil {
		return w.close()
	}
	return nil
}

func (w *partWriter) close() error {
	if w.pw == nil {
		return nil
	}
	_ = w.pw.Close()
	err := <-w.done
	w.pw = nil
	if err != nil {
		return err
	}
	w.uris = append(w.uris, w.uri)
	return nil
}

func (w *partWriter) abort(err error) {
	if w.pw != nil {
		_ = w.pw.CloseWithError(err)
		_ = <-w.done // the part is abandoned: its own error adds nothing
		w.pw = nil
	}
}

func renderCount(ctx context.Context, rc *worker.RunContext, prop string, v any) (int64, error) {
	r, err := rc.RenderValue(ctx, v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", prop, err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(fmt.Sprint(r)), 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s: expected a whole number of at least 1, got %v", prop, r)
	}
	return n, nil
}

// parseSize reads Kestra's sizes: 1024, 10KB, 1.5MB, 2GB (powers of 1024).
func parseSize(s string) (int64, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.m
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%q is not a size: write e.g. 10MB, 512KB or 1048576", s)
	}
	return int64(f * float64(mult)), nil
}

// splitOn is a bufio.SplitFunc cutting at sep (the last part may lack it).
func splitOn(sep string) bufio.SplitFunc {
	return func(data []byte, atEOF bool) (int, []byte, error) {
		if i := strings.Index(string(data), sep); i >= 0 {
			return i + len(sep), data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	}
}

// PurgeCurrentExecutionFiles deletes every file of the execution
// (core.storage.PurgeCurrentExecutionFiles): outputs.uris.
type PurgeCurrentExecutionFiles struct{}

// Run implements worker.Runnable.
func (x *PurgeCurrentExecutionFiles) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	f, err := filesOf(rc)
	if err != nil {
		return nil, err
	}
	files, err := f.st.List(ctx, f.scope.Dir())
	if err != nil {
		return nil, err
	}
	uris := make([]any, 0, len(files))
	for _, file := range files {
		if _, err := f.st.Delete(ctx, file.Path); err != nil {
			return nil, err
		}
		uris = append(uris, file.URI())
	}
	return map[string]any{"uris": uris}, nil
}

// LocalFiles writes files from inline content or kestra:/// URIs into a
// scratch directory and stores those matching outputs
// (core.storage.LocalFiles): outputs.uris by file name. Kestra uses it to
// share a WorkingDirectory; on its own it turns text into stored files.
type LocalFiles struct {
	Inputs  any `json:"inputs"`
	Outputs any `json:"outputs"`
}

// Run implements worker.Runnable.
func (x *LocalFiles) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	if rc.TmpDir == "" {
		return nil, errors.New("no working directory for the task run")
	}
	sh := &ShellCommands{InputFiles: x.Inputs}
	if err := os.MkdirAll(rc.TmpDir, 0o700); err != nil {
		return nil, fmt.Errorf("create working directory: %w", err)
	}
	if err := sh.writeInputFiles(ctx, rc, rc.TmpDir); err != nil {
		return nil, err
	}
	uris := map[string]any{}
	if x.Outputs != nil {
		files, err := collectOutputFiles(ctx, rc, rc.TmpDir, x.Outputs)
		if err != nil {
			return nil, err
		}
		uris = files
	}
	return map[string]any{"uris": uris}, nil
}
