package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/internal/nsfile"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/store"
)

// maxReadBytes bounds what read() loads into an expression's value: a
// larger file belongs in a task's inputFiles, which streams it.
const maxReadBytes = 64 << 20

// newFileScope is the storage scope of the evaluation's execution.
func newFileScope(vars map[string]any, ns string) storage.Scope {
	flowID, execID := "", ""
	if f, ok := vars["flow"].(map[string]any); ok {
		flowID, _ = f["id"].(string)
	}
	if e, ok := vars["execution"].(map[string]any); ok {
		execID, _ = e["id"].(string)
	}
	trigger, _ := vars["trigger"].(map[string]any)
	return storage.NewScope(ns, flowID, execID, vars["inputs"], vars["trigger"]).WithTrigger(trigger)
}

// nsFilePrefix is the storage path of a namespace's files, as fileURI()
// writes them: kestra:///<namespace as folders>/_files/<path>.
func nsFilePrefix(ns string) string { return storage.NamespacePath(ns) + "/_files" }

// fileFuncs are Kestra's functions over internal storage files.
func (r *Renderer) fileFuncs(vars map[string]any, ns string, funcs map[string]expr.Func) {
	scope := newFileScope(vars, ns)
	stat := func(ctx context.Context, name string, a expr.Args) (int64, bool, error) {
		v, _ := a.Get(0, "path")
		s, _ := v.(string)
		if s == "" {
			return 0, false, fmt.Errorf("%s() needs a kestra:/// URI", name)
		}
		if !storage.IsURI(s) {
			return 0, false, fmt.Errorf("%s(%q): expected a kestra:/// URI of a file of this execution", name, s)
		}
		if nsPath, ok := r.nsFilePath(ns, s); ok {
			f, err := r.nsFile(ctx, ns, nsPath)
			if errors.Is(err, store.ErrNotFound) {
				return 0, false, nil
			}
			return int64(len(f.Content)), err == nil, err
		}
		p, err := r.checkFile(scope, name, s)
		if err != nil {
			return 0, false, err
		}
		info, err := r.Storage.Stat(ctx, p)
		if errors.Is(err, storage.ErrNotFound) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("%s(%q): %w", name, s, err)
		}
		return info.Size, true, nil
	}
	funcs["fileSize"] = func(ctx context.Context, a expr.Args) (any, error) {
		n, ok, err := stat(ctx, "fileSize", a)
		if err == nil && !ok {
			v, _ := a.Get(0, "path")
			err = fmt.Errorf("fileSize(%q): no such file", v)
		}
		return n, err
	}
	funcs["fileExists"] = func(ctx context.Context, a expr.Args) (any, error) {
		_, ok, err := stat(ctx, "fileExists", a)
		return ok, err
	}
	funcs["isFileEmpty"] = func(ctx context.Context, a expr.Args) (any, error) {
		n, ok, err := stat(ctx, "isFileEmpty", a)
		if err == nil && !ok {
			v, _ := a.Get(0, "path")
			err = fmt.Errorf("isFileEmpty(%q): no such file", v)
		}
		return n == 0, err
	}
	funcs["fileURI"] = func(ctx context.Context, a expr.Args) (any, error) {
		v, _ := a.Get(0, "path")
		s, _ := v.(string)
		clean, err := nsfile.Clean(s)
		if err != nil {
			return nil, fmt.Errorf("fileURI(): %w", err)
		}
		return storage.URI(nsFilePrefix(ns) + clean), nil
	}
}

// nsFilePath recognises fileURI()'s URIs of the namespace's own files.
func (r *Renderer) nsFilePath(ns, uri string) (string, bool) {
	p, err := storage.Clean(uri)
	if err != nil {
		return "", false
	}
	rest, ok := strings.CutPrefix(p, nsFilePrefix(ns)+"/")
	return "/" + rest, ok
}

func (r *Renderer) nsFile(ctx context.Context, ns, p string) (store.FileRecord, error) {
	if r.Files == nil {
		return store.FileRecord{}, fmt.Errorf("no namespace files here")
	}
	return r.Files.Get(ctx, ns, p)
}

func (r *Renderer) checkFile(scope storage.Scope, name, uri string) (string, error) {
	if r.Storage == nil {
		return "", fmt.Errorf("%s(%q): no internal storage here", name, uri)
	}
	p, err := storage.Clean(uri)
	if err != nil {
		return "", fmt.Errorf("%s(): %w", name, err)
	}
	if !scope.Allows(p) {
		return "", fmt.Errorf("%s(%q): a flow reads only its own execution's files, its parent execution's, and the files of its namespace it was given as inputs", name, uri)
	}
	return p, nil
}

// readStorage is read() of a kestra:/// URI.
func (r *Renderer) readStorage(ctx context.Context, vars map[string]any, ns, uri string) (any, error) {
	if nsPath, ok := r.nsFilePath(ns, uri); ok {
		f, err := r.nsFile(ctx, ns, nsPath)
		if err != nil {
			return nil, fmt.Errorf("read(%q): %w", uri, err)
		}
		return string(f.Content), nil
	}
	p, err := r.checkFile(newFileScope(vars, ns), "read", uri)
	if err != nil {
		return nil, err
	}
	rc, err := r.Storage.Get(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("read(%q): %w", uri, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxReadBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read(%q): %w", uri, err)
	}
	if len(b) > maxReadBytes {
		return nil, fmt.Errorf("read(%q): the file is larger than %d MiB; give it to a task's inputFiles instead", uri, maxReadBytes>>20)
	}
	return string(b), nil
}
