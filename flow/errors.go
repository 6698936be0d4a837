package flow

import (
	"fmt"
	"strings"
)

// Error is one problem in a flow source, with where it is.
type Error struct {
	// Path names the property, e.g. "tasks[1].message".
	Path    string `json:"path"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Line > 0 {
		if e.Path != "" {
			return fmt.Sprintf("%d:%d: %s: %s", e.Line, e.Column, e.Path, e.Message)
		}
		return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Message)
	}
	if e.Path != "" {
		return e.Path + ": " + e.Message
	}
	return e.Message
}

// Errors collects every problem found in one source so a user sees them all
// at once. It is returned as an error only when non-empty.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return "invalid flow: " + strings.Join(msgs, "; ")
}

// Err returns es as an error, or nil when it is empty.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
