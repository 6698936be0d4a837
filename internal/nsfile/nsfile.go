// Package nsfile holds the rules of Kestra's namespace files that the API,
// the read() function and the script tasks share: what a valid path is,
// and which files a task's include/exclude globs select.
package nsfile

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// MaxPath bounds a path's length, as file systems do.
const MaxPath = 1024

// Clean checks a namespace file path and returns it absolute and clean
// ("scripts/etl.py" → "/scripts/etl.py"). It refuses "..", NUL bytes and
// backslashes rather than resolve them, so a path means what it says.
func Clean(p string) (string, error) {
	if p == "" {
		return "", errors.New("a namespace file path is required, e.g. /scripts/etl.py")
	}
	if strings.ContainsAny(p, "\x00\\") {
		return "", fmt.Errorf("namespace file path %q holds a NUL byte or a backslash", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", fmt.Errorf("namespace file path %q must not go up with ..", p)
		}
	}
	c := path.Clean("/" + p)
	if len(c) > MaxPath {
		return "", fmt.Errorf("namespace file path is longer than %d characters", MaxPath)
	}
	return c, nil
}

// Match reports whether the file at p (clean, absolute) is selected by
// include (all when empty) and not by exclude. Patterns are globs matched
// against the path without its leading slash; "**" matches any number of
// directories, as Kestra's namespaceFiles include/exclude do.
func Match(p string, include, exclude []string) bool {
	rel := strings.TrimPrefix(p, "/")
	in := len(include) == 0
	for _, g := range include {
		if glob(strings.TrimPrefix(g, "/"), rel) {
			in = true
			break
		}
	}
	if !in {
		return false
	}
	for _, g := range exclude {
		if glob(strings.TrimPrefix(g, "/"), rel) {
			return false
		}
	}
	return true
}

// glob matches name against pattern segment by segment; "**" spans any
// number of segments (none included).
func glob(pattern, name string) bool {
	return globSegs(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

func globSegs(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if globSegs(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], name[0]); err != nil || !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
