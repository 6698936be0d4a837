package tasks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ospreyhq/osprey/internal/nsfile"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/worker"
)

// execFiles is a task run's view of internal storage: it reads the files
// its execution may read (storage.Scope) and writes under its own task
// run's directory, Kestra's …/executions/<id>/tasks/<task>/<taskrun>/.
type execFiles struct {
	st    storage.Storage
	scope storage.Scope
	dir   string
}

// filesOf returns the task run's files, or an error saying this worker
// has no internal storage.
func filesOf(env runEnv) (*execFiles, error) {
	rc, ok := env.(*worker.RunContext)
	if !ok || rc.Storage == nil || rc.TaskRun == nil {
		return nil, errors.New("no internal storage is available to this worker")
	}
	tr := rc.TaskRun
	trigger, _ := rc.Vars["trigger"].(map[string]any)
	return &execFiles{
		st:    rc.Storage,
		scope: storage.NewScope(tr.Namespace, tr.FlowID, tr.ExecutionID, rc.Vars["inputs"], rc.Vars["trigger"]).WithTrigger(trigger),
		dir:   storage.TaskRunPath(tr.Namespace, tr.FlowID, tr.ExecutionID, tr.TaskID, tr.ID),
	}, nil
}

// check resolves a kestra:/// URI the execution may read.
func (f *execFiles) check(uri string) (string, error) {
	p, err := storage.Clean(uri)
	if err != nil {
		return "", err
	}
	if !f.scope.Allows(p) {
		return "", fmt.Errorf("%s: a task reads only its own execution's files, its parent execution's, and the files of its namespace it was given as inputs", uri)
	}
	return p, nil
}

// open opens a file the execution may read.
func (f *execFiles) open(ctx context.Context, uri string) (io.ReadCloser, error) {
	p, err := f.check(uri)
	if err != nil {
		return nil, err
	}
	rc, err := f.st.Get(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", uri, err)
	}
	return rc, nil
}

// put stores r as name (a relative path, cleaned segment by segment) in the
// task run's directory and returns its URI.
func (f *execFiles) put(ctx context.Context, name string, r io.Reader) (string, int64, error) {
	var segs []string
	for s := range strings.SplitSeq(filepath.ToSlash(name), "/") {
		if s == "" || s == "." || s == ".." {
			continue
		}
		segs = append(segs, storage.SafeName(s))
	}
	if len(segs) == 0 {
		segs = []string{"file"}
	}
	p := f.dir + "/" + strings.Join(segs, "/")
	n, err := f.st.Put(ctx, p, r)
	if err != nil {
		return "", 0, fmt.Errorf("store %s: %w", name, err)
	}
	return storage.URI(p), n, nil
}

// download copies a file the execution may read into a local path.
func (f *execFiles) download(ctx context.Context, uri, dst string) error {
	rc, err := f.open(ctx, uri)
	if err != nil {
		return err
	}
	defer rc.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, rc)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeInputFile writes one inputFiles entry: a kestra:/// URI is copied
// from internal storage, anything else is the file's content.
func writeInputFile(ctx context.Context, env runEnv, dst, content string) error {
	if !storage.IsURI(content) {
		return os.WriteFile(dst, []byte(content), 0o600)
	}
	f, err := filesOf(env)
	if err != nil {
		return err
	}
	return f.download(ctx, content, dst)
}

// collectOutputFiles uploads the files of dir matching the globs (Kestra's
// outputFiles, "**" for any depth) and returns their URIs by relative path.
func collectOutputFiles(ctx context.Context, env runEnv, dir string, globs any) (map[string]any, error) {
	v, err := env.RenderValue(ctx, globs)
	if err != nil {
		return nil, err
	}
	var patterns []string
	switch x := v.(type) {
	case string:
		patterns = []string{x}
	case []any:
		for _, p := range x {
			patterns = append(patterns, fmt.Sprint(p))
		}
	default:
		return nil, errors.New("outputFiles: expected a list of file names or glob patterns")
	}
	f, err := filesOf(env)
	if err != nil {
		return nil, fmt.Errorf("outputFiles: %w", err)
	}
	out := map[string]any{}
	err = filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, name)
		rel = filepath.ToSlash(rel)
		if !nsfile.Match("/"+rel, patterns, nil) {
			return nil
		}
		src, err := os.Open(name)
		if err != nil {
			return err
		}
		defer src.Close()
		uri, _, err := f.put(ctx, rel, src)
		if err != nil {
			return err
		}
		out[rel] = uri
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outputFiles: %w", err)
	}
	if len(out) == 0 {
		env.Log("WARN", "outputFiles: no file matches "+strings.Join(patterns, ", "))
	}
	return out, nil
}

// outputDirectory reads Kestra's outputDirectory: true.
func outputDirectory(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(strings.TrimSpace(x), "true")
	}
	return false
}

// outputDirOf is {{ outputDir }} of a working directory.
func outputDirOf(dir string) string { return filepath.Join(dir, "out") }

// collectFiles uploads outputFiles (globs of the working directory) and,
// with outputDirectory, every file under {{ outputDir }} (named relative to
// it); nil when the task asks for neither.
func (s *ShellCommands) collectFiles(ctx context.Context, env runEnv, dir string) (map[string]any, error) {
	var out map[string]any
	if s.OutputFiles != nil {
		files, err := collectOutputFiles(ctx, env, dir, s.OutputFiles)
		if err != nil {
			return nil, err
		}
		out = files
	}
	if outputDirectory(s.OutputDirectory) {
		od := outputDirOf(dir)
		if entries, err := os.ReadDir(od); err != nil || len(entries) == 0 {
			if out == nil {
				out = map[string]any{}
			}
			return out, nil // the commands wrote nothing there
		}
		files, err := collectOutputFiles(ctx, env, od, []any{"**"})
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = map[string]any{}
		}
		for k, v := range files {
			out[k] = v
		}
	}
	return out, nil
}
