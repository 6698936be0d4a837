// Package storage is Osprey's internal storage: the files flows move between
// tasks (FILE inputs, outputFiles, downloads), addressed by Kestra's
// kestra:/// URIs and kept by one backend — the local disk or an Azure Blob
// Storage container.
//
// A file's path is the URI's path: kestra:///ns/sub/flow/executions/ID/…
// has the path /ns/sub/flow/executions/ID/…. Backends keep every path under
// the tenant ("main") as Kestra's storages do, stream content both ways and
// never hold a whole file in memory.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Scheme is the URI scheme of internal storage files.
const Scheme = "kestra://"

// Tenant is the only tenant Osprey serves; backends keep files under it.
const Tenant = "main"

// ErrNotFound is returned for a path that holds no file.
var ErrNotFound = errors.New("file not found")

// ErrInvalidPath is returned for a path that cannot name a file: relative,
// with "." or ".." segments, empty segments, backslashes or control
// characters.
var ErrInvalidPath = errors.New("invalid storage path")

// Info describes one stored file.
type Info struct {
	// Path is the file's path (the URI's path, starting with "/").
	Path     string
	Size     int64
	Modified time.Time
}

// URI returns the file's kestra:/// URI.
func (i Info) URI() string { return URI(i.Path) }

// Storage keeps files by path. Implementations are safe for concurrent use;
// every method takes a path checked by Clean.
type Storage interface {
	// Put stores r's content at path, replacing any file there, and returns
	// the number of bytes stored. It reads r to its end without holding it
	// whole in memory; a failed Put leaves no partial file visible.
	Put(ctx context.Context, path string, r io.Reader) (int64, error)
	// Get opens the file at path; ErrNotFound when there is none.
	Get(ctx context.Context, path string) (io.ReadCloser, error)
	// Stat describes the file at path; ErrNotFound when there is none.
	Stat(ctx context.Context, path string) (Info, error)
	// List returns every file whose path lies under the directory prefix
	// (recursively), sorted by path; an empty list when there are none.
	List(ctx context.Context, prefix string) ([]Info, error)
	// Delete removes the file at path and reports whether there was one.
	Delete(ctx context.Context, path string) (bool, error)
	// DeleteTree removes every file under the directory prefix and returns
	// how many were removed.
	DeleteTree(ctx context.Context, prefix string) (int, error)
}

// Clean checks a path (or a kestra:/// URI) and returns its canonical form:
// absolute, slash-separated, without a trailing slash.
func Clean(p string) (string, error) {
	orig := p
	p = strings.TrimPrefix(p, Scheme)
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("%w %q: write an absolute path or a kestra:/// URI", ErrInvalidPath, orig)
	}
	trimmed := strings.TrimSuffix(p[1:], "/")
	if trimmed == "" {
		return "", fmt.Errorf("%w %q: the root holds no file", ErrInvalidPath, orig)
	}
	for seg := range strings.SplitSeq(trimmed, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("%w %q: empty, . and .. segments are not allowed", ErrInvalidPath, orig)
		}
		if strings.ContainsAny(seg, "\\\x00") || strings.ContainsFunc(seg, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return "", fmt.Errorf("%w %q: backslashes and control characters are not allowed", ErrInvalidPath, orig)
		}
	}
	return "/" + trimmed, nil
}

// URI returns the kestra:/// URI of a path.
func URI(p string) string { return "kestra://" + p }

// IsURI reports whether s is a kestra:// URI.
func IsURI(s string) bool { return strings.HasPrefix(s, Scheme) }

// NamespacePath is a namespace's directory: acme.team → /acme/team.
func NamespacePath(namespace string) string {
	return "/" + strings.ReplaceAll(namespace, ".", "/")
}

// ExecutionPath is the directory of one execution's files, Kestra's
// /<namespace as folders>/<flow>/executions/<id>.
func ExecutionPath(namespace, flowID, executionID string) string {
	return path.Join(NamespacePath(namespace), flowID, "executions", executionID)
}

// TaskRunPath is the directory of one task run's files:
// <execution>/tasks/<task>/<taskrun>.
func TaskRunPath(namespace, flowID, executionID, taskID, taskRunID string) string {
	return path.Join(ExecutionPath(namespace, flowID, executionID), "tasks", taskID, taskRunID)
}

// InputPath is the directory of a FILE input's file:
// <execution>/inputs/<input>.
func InputPath(namespace, flowID, executionID, inputID string) string {
	return path.Join(ExecutionPath(namespace, flowID, executionID), "inputs", inputID)
}

// Within reports whether the file at p lies under the directory dir.
func Within(p, dir string) bool {
	return strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// FileName returns the last segment of a path: the name a file is served
// under.
func FileName(p string) string { return path.Base(p) }

// SafeName turns a file name from outside (an upload, a URL) into one
// segment Clean accepts, keeping what it can of the original.
func SafeName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if name == "" || name == "." || name == ".." || name == "/" {
		return "file"
	}
	return name
}
