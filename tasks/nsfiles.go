package tasks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/nsfile"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/worker"
)

// Kestra's namespace file tasks (io.kestra.plugin.core.namespace.*):
// upload files of the execution (or of the task's working directory) as
// namespace files, download namespace files into the execution's storage,
// delete them. namespace defaults to the flow's; like Kestra OSS, and like
// read() and the API, any namespace may be named.

const (
	pUploadFiles   = "io.kestra.plugin.core.namespace.UploadFiles"
	pDownloadFiles = "io.kestra.plugin.core.namespace.DownloadFiles"
	pDeleteFiles   = "io.kestra.plugin.core.namespace.DeleteFiles"
)

// maxNamespaceFile bounds one uploaded file: namespace files live in the
// database, for scripts and queries, not data sets.
const maxNamespaceFile = 64 << 20

// namespaceFileSpecs lists them.
func namespaceFileSpecs() []*Spec {
	return []*Spec{
		runnable[UploadFiles](pUploadFiles, []string{"namespace", "files", "filesMap", "destination", "conflict"}, func(t *flow.Task, x *UploadFiles) []*flow.Error {
			var errs []*flow.Error
			if x.Files == nil && x.FilesMap == nil {
				errs = append(errs, taskErr(t, "", "files or filesMap is required for "+t.Type))
			}
			switch strings.ToUpper(x.Conflict) {
			case "", "OVERWRITE", "ERROR", "SKIP":
			default:
				errs = append(errs, taskErr(t, "conflict", fmt.Sprintf("conflict %q is not one of OVERWRITE, ERROR, SKIP", x.Conflict)))
			}
			return errs
		}),
		runnable[DownloadFiles](pDownloadFiles, []string{"namespace", "files", "destination"}, func(t *flow.Task, x *DownloadFiles) []*flow.Error {
			return required(t, "files", x.Files != nil)
		}),
		runnable[DeleteFiles](pDeleteFiles, []string{"namespace", "files"}, func(t *flow.Task, x *DeleteFiles) []*flow.Error {
			return required(t, "files", x.Files != nil)
		}),
	}
}

// nsOf renders a namespace property, the flow's when empty.
func nsOf(ctx context.Context, rc *worker.RunContext, tmpl string) (string, error) {
	if rc.Files == nil {
		return "", errors.New("no namespace files are available to this worker")
	}
	if tmpl == "" {
		return flowNamespace(rc), nil
	}
	ns, err := rc.Render(ctx, tmpl)
	if err != nil {
		return "", fmt.Errorf("namespace: %w", err)
	}
	return ns, nil
}

// UploadFiles stores files as namespace files (core.namespace.UploadFiles):
// filesMap maps a target path (under destination) to a kestra:/// URI the
// execution may read; files lists patterns of files in the task's working
// directory, kept at their relative paths under destination. conflict says
// what to do with a path that exists: OVERWRITE (default), ERROR or SKIP.
type UploadFiles struct {
	Namespace   string `json:"namespace"`
	Files       any    `json:"files"`
	FilesMap    any    `json:"filesMap"`
	Destination string `json:"destination"`
	Conflict    string `json:"conflict"`
}

// Run implements worker.Runnable.
func (x *UploadFiles) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	ns, err := nsOf(ctx, rc, x.Namespace)
	if err != nil {
		return nil, err
	}
	dest := "/"
	if x.Destination != "" {
		if dest, err = rc.Render(ctx, x.Destination); err != nil {
			return nil, fmt.Errorf("destination: %w", err)
		}
	}
	up := uploader{rc: rc, ns: ns, conflict: strings.ToUpper(x.Conflict)}
	if x.Files != nil {
		patterns, err := renderPatterns(ctx, rc, "files", x.Files)
		if err != nil {
			return nil, err
		}
		m, err := compilePatterns(patterns, true)
		if err != nil {
			return nil, err
		}
		err = filepath.WalkDir(rc.TmpDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !d.Type().IsRegular() {
				return err
			}
			rel, err := filepath.Rel(rc.TmpDir, p)
			if err != nil {
				return err
			}
			rel = "/" + filepath.ToSlash(rel)
			if !m.match(rel) {
				return nil
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return up.put(ctx, path.Join(dest, rel), f)
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if x.FilesMap != nil {
		entries, err := x.filesMap(ctx, rc)
		if err != nil {
			return nil, err
		}
		files, err := filesOf(rc)
		if err != nil {
			return nil, err
		}
		for _, target := range sortedKeys(entries) {
			uri := entries[target]
			r, err := files.open(ctx, uri)
			if err != nil {
				if errors.Is(err, storage.ErrNotFound) {
					rc.Log("WARN", fmt.Sprintf("filesMap %s: %s does not exist, nothing uploaded", target, uri))
					continue
				}
				return nil, fmt.Errorf("filesMap %s: %w", target, err)
			}
			err = up.put(ctx, path.Join(dest, target), r)
			r.Close()
			if err != nil {
				return nil, err
			}
		}
	}
	rc.Metric(flow.Metric{Name: "uploaded", Type: "counter", Value: float64(up.count), Timestamp: time.Now().UTC()})
	return nil, nil
}

// filesMap renders filesMap: a map of target path to URI, or a JSON string
// of one (an output such as {{ outputs.unzip.files }}).
func (x *UploadFiles) filesMap(ctx context.Context, rc *worker.RunContext) (map[string]string, error) {
	v, err := rc.RenderValue(ctx, x.FilesMap)
	if err != nil {
		return nil, fmt.Errorf("filesMap: %w", err)
	}
	if s, ok := v.(string); ok {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return nil, fmt.Errorf("filesMap must be a map of path to kestra:/// URI (or JSON of one): %w", err)
		}
		v = m
	}
	m, ok := ordered.AsMap(v)
	if !ok {
		return nil, errors.New("filesMap must be a map of path to kestra:/// URI")
	}
	out := make(map[string]string, len(m))
	for k, u := range m {
		s, ok := u.(string)
		if !ok {
			return nil, fmt.Errorf("filesMap %s: the value must be a kestra:/// URI, not %T", k, u)
		}
		out[k] = s
	}
	return out, nil
}

// uploader writes namespace files under one conflict rule.
type uploader struct {
	rc       *worker.RunContext
	ns       string
	conflict string
	count    int
}

func (u *uploader) put(ctx context.Context, target string, r io.Reader) error {
	p, err := nsfile.Clean(target)
	if err != nil {
		return err
	}
	if p == "/" {
		return fmt.Errorf("upload to %s: name a file, not the namespace's root", target)
	}
	st := u.rc.Files
	list, err := st.List(ctx, u.ns, p)
	if err != nil {
		return err
	}
	for _, f := range list {
		switch {
		case f.Path != p:
			return fmt.Errorf("namespace file %s of %s is a directory (it holds %s)", p, u.ns, f.Path)
		case u.conflict == "ERROR":
			return fmt.Errorf("namespace file %s already exists in %s (conflict: ERROR)", p, u.ns)
		case u.conflict == "SKIP":
			u.rc.Log("INFO", fmt.Sprintf("namespace file %s of %s exists, skipped", p, u.ns))
			return nil
		}
	}
	for dir := path.Dir(p); dir != "/"; dir = path.Dir(dir) {
		if _, err := st.Get(ctx, u.ns, dir); err == nil {
			return fmt.Errorf("namespace file %s of %s is a file, so it cannot hold %s", dir, u.ns, p)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	content, err := io.ReadAll(io.LimitReader(r, maxNamespaceFile+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	if len(content) > maxNamespaceFile {
		return fmt.Errorf("%s is larger than %d MiB, the bound of a namespace file: keep large data in internal storage", p, maxNamespaceFile>>20)
	}
	if err := st.Put(ctx, store.FileRecord{Namespace: u.ns, Path: p, Content: content}); err != nil {
		return err
	}
	u.count++
	u.rc.Log("DEBUG", fmt.Sprintf("uploaded %s to namespace %s", p, u.ns))
	return nil
}

// DownloadFiles copies namespace files into the task run's internal
// storage (core.namespace.DownloadFiles): outputs.files maps each file's
// path to its kestra:/// URI.
type DownloadFiles struct {
	Namespace   string `json:"namespace"`
	Files       any    `json:"files"`
	Destination string `json:"destination"`
}

// Run implements worker.Runnable.
func (x *DownloadFiles) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	ns, matched, err := matchNamespaceFiles(ctx, rc, x.Namespace, x.Files)
	if err != nil {
		return nil, err
	}
	dest, err := rc.Render(ctx, x.Destination)
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	files, err := filesOf(rc)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, f := range matched {
		full, err := rc.Files.Get(ctx, ns, f.Path)
		if err != nil {
			return nil, fmt.Errorf("namespace file %s of %s: %w", f.Path, ns, err)
		}
		uri, _, err := files.put(ctx, dest+f.Path, bytes.NewReader(full.Content))
		if err != nil {
			return nil, err
		}
		rc.Log("DEBUG", "Downloaded "+uri)
		out[f.Path] = uri
	}
	rc.Metric(flow.Metric{Name: "downloaded", Type: "counter", Value: float64(len(out)), Timestamp: time.Now().UTC()})
	return map[string]any{"files": out}, nil
}

// DeleteFiles deletes the namespace files the patterns match
// (core.namespace.DeleteFiles); the "deleted" metric counts them.
type DeleteFiles struct {
	Namespace string `json:"namespace"`
	Files     any    `json:"files"`
}

// Run implements worker.Runnable.
func (x *DeleteFiles) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	ns, matched, err := matchNamespaceFiles(ctx, rc, x.Namespace, x.Files)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, f := range matched {
		k, err := rc.Files.Delete(ctx, ns, f.Path)
		if err != nil {
			return nil, fmt.Errorf("delete namespace file %s of %s: %w", f.Path, ns, err)
		}
		if k > 0 {
			n++
			rc.Log("DEBUG", "Deleted "+f.Path)
		}
	}
	rc.Metric(flow.Metric{Name: "deleted", Type: "counter", Value: float64(n), Timestamp: time.Now().UTC()})
	return nil, nil
}

// matchNamespaceFiles lists the files of the namespace the patterns select.
func matchNamespaceFiles(ctx context.Context, rc *worker.RunContext, nsTmpl string, files any) (string, []store.FileRecord, error) {
	ns, err := nsOf(ctx, rc, nsTmpl)
	if err != nil {
		return "", nil, err
	}
	patterns, err := renderPatterns(ctx, rc, "files", files)
	if err != nil {
		return "", nil, err
	}
	m, err := compilePatterns(patterns, false)
	if err != nil {
		return "", nil, err
	}
	list, err := rc.Files.List(ctx, ns, "/")
	if err != nil {
		return "", nil, fmt.Errorf("list namespace files of %s: %w", ns, err)
	}
	var out []store.FileRecord
	for _, f := range list {
		if m.match(f.Path) {
			out = append(out, f)
		}
	}
	return ns, out, nil
}

// renderPatterns renders a string or a list of strings.
func renderPatterns(ctx context.Context, rc *worker.RunContext, prop string, v any) ([]string, error) {
	r, err := rc.RenderValue(ctx, v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prop, err)
	}
	switch x := r.(type) {
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%s must be a string or a list of strings", prop)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s must be a string or a list of strings", prop)
}

// pathMatcher is Kestra's PathMatcherPredicate: glob (the default, or
// "glob:") or "regex:" patterns matched against a whole absolute path.
type pathMatcher []*regexp.Regexp

func (m pathMatcher) match(p string) bool {
	for _, re := range m {
		if re.MatchString(p) {
			return true
		}
	}
	return false
}

// compilePatterns reads patterns as Kestra does. A bare pattern starting
// with a word character matches at any depth ("x.txt" is "**/x.txt"); with
// rooted, it is instead taken from the root (a working directory's files,
// "dir/x.txt" is "/dir/x.txt").
func compilePatterns(patterns []string, rooted bool) (pathMatcher, error) {
	var m pathMatcher
	for _, p := range patterns {
		var expr string
		switch {
		case strings.HasPrefix(p, "regex:"):
			expr = "^(?:" + strings.TrimPrefix(p, "regex:") + ")$"
		case strings.HasPrefix(p, "glob:"):
			expr = globRegexp(strings.TrimPrefix(p, "glob:"))
		case rooted:
			if !strings.HasPrefix(p, "/") {
				p = "/" + p
			}
			expr = globRegexp(p)
		default:
			if wordStart.MatchString(p) {
				p = "**/" + p
			}
			expr = globRegexp(p)
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", p, err)
		}
		m = append(m, re)
	}
	return m, nil
}

var wordStart = regexp.MustCompile(`^\w`)

// globRegexp translates a glob as Java's PathMatcher reads it: ** crosses
// directories, * and ? stay within one, {a,b} is either, [..] a class.
func globRegexp(g string) string {
	var b strings.Builder
	b.WriteString("^")
	inGroup := false
	for i := 0; i < len(g); i++ {
		c := g[i]
		switch {
		case c == '*' && i+1 < len(g) && g[i+1] == '*':
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '{':
			b.WriteString("(?:")
			inGroup = true
		case c == '}' && inGroup:
			b.WriteString(")")
			inGroup = false
		case c == ',' && inGroup:
			b.WriteString("|")
		case c == '[':
			j := strings.IndexByte(g[i:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := g[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j
		case c == '\\' && i+1 < len(g):
			b.WriteString(regexp.QuoteMeta(string(g[i+1])))
			i++
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return b.String()
}

var (
	_ worker.Runnable = (*UploadFiles)(nil)
	_ worker.Runnable = (*DownloadFiles)(nil)
	_ worker.Runnable = (*DeleteFiles)(nil)
)
