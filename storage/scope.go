package storage

import "github.com/ospreyhq/osprey/internal/ordered"

// Scope is what one execution may read from internal storage: its own
// files (under ExecutionPath) and files of its own namespace it was given
// as inputs (a FILE input, a file passed to a subflow). Expressions and
// tasks check every kestra:/// URI against it, so an execution never reads
// another's files by guessing a URI, nor another namespace's at all.
type Scope struct {
	execDir string
	given   map[string]bool
	parent  string // the triggering execution's directory, see WithTrigger
}

// NewScope returns the scope of an execution; inputs (the execution's
// input values, and trigger variables) are searched for kestra:/// URIs of
// the namespace's files.
func NewScope(namespace, flowID, executionID string, inputs ...any) Scope {
	s := Scope{given: map[string]bool{}}
	if flowID != "" && executionID != "" {
		s.execDir = ExecutionPath(namespace, flowID, executionID)
	}
	nsDir := NamespacePath(namespace)
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 4 {
			return
		}
		switch x := v.(type) {
		case string:
			if IsURI(x) {
				if p, err := Clean(x); err == nil && Within(p, nsDir) {
					s.given[p] = true
				}
			}
		case map[string]any:
			for _, vv := range x {
				walk(vv, depth+1)
			}
		case *ordered.Map:
			for _, vv := range x.All() {
				walk(vv, depth+1)
			}
		case []any:
			for _, vv := range x {
				walk(vv, depth+1)
			}
		}
	}
	for _, in := range inputs {
		walk(in, 0)
	}
	return s
}

// WithTrigger also allows the files of the execution that started this
// one — a Subflow's parent, a Flow trigger's source — named by the trigger
// variables executionId, namespace and flowId, which only Osprey sets. A
// subflow thus reads the files its parent hands it, whatever its
// namespace, as in Kestra.
func (s Scope) WithTrigger(vars map[string]any) Scope {
	id, _ := vars["executionId"].(string)
	ns, _ := vars["namespace"].(string)
	flowID, _ := vars["flowId"].(string)
	if id != "" && ns != "" && flowID != "" {
		s.parent = ExecutionPath(ns, flowID, id)
	}
	return s
}

// Allows reports whether the file at the clean path p may be read.
func (s Scope) Allows(p string) bool {
	return (s.execDir != "" && Within(p, s.execDir)) || s.given[p] || (s.parent != "" && Within(p, s.parent))
}

// Dir is the execution's own directory ("" outside an execution).
func (s Scope) Dir() string { return s.execDir }
