package flow

import (
	"bytes"
	"fmt"
)

// CheckShape reports, as Errors, a source nested too deep to be parsed
// safely. Parse calls it first; a caller that splits a body into several
// documents calls it on the whole body before splitting.
func CheckShape(src []byte) error {
	if err := checkShape(src); err != nil {
		return Errors{err}
	}
	return nil
}

// checkShape refuses a source that nests deeper than maxDepth before any
// YAML parser sees it. Both parsers Parse uses recurse per level, and
// goccy's (used only to place a syntax error) has no limit of its own: a
// 200 KB run of "[" costs it gigabytes. The check is one linear pass over
// the bytes that counts, line by line, the open flow collections ([ and {
// outside quotes and comments), the block levels (indentation steps) and
// the "- " entries that open a sequence on the same line. Block scalars
// (| and >) are text and are skipped. It may overcount a pathological
// plain scalar full of brackets, never undercount real nesting.
func checkShape(src []byte) *Error {
	var (
		flowDepth int
		indents   []int // open block levels, by indentation
		scalarMin = -1  // inside a block scalar: its lines are indented more than this
	)
	for lineNo, line := range bytes.Split(src, []byte("\n")) {
		indent := len(line) - len(bytes.TrimLeft(line, " "))
		body := bytes.TrimRight(line[indent:], " \t\r")
		if scalarMin >= 0 {
			if len(body) == 0 || indent > scalarMin {
				continue
			}
			scalarMin = -1
		}
		if len(body) == 0 || body[0] == '#' {
			continue
		}
		if flowDepth == 0 {
			for len(indents) > 0 && indents[len(indents)-1] >= indent {
				indents = indents[:len(indents)-1]
			}
			indents = append(indents, indent)
		}
		dashes := 0
		for i := 0; i+1 < len(body) && body[i] == '-' && body[i+1] == ' '; {
			dashes++
			i += 2
			for i < len(body) && body[i] == ' ' {
				i++
			}
		}
		var quote byte
		for i := 0; i < len(body); i++ {
			c := body[i]
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '\'' || c == '"':
				if i == 0 || body[i-1] == ' ' || body[i-1] == '[' || body[i-1] == '{' || body[i-1] == ',' || body[i-1] == ':' {
					quote = c
				}
			case c == '#' && (i == 0 || body[i-1] == ' '):
				i = len(body)
			case c == '[' || c == '{':
				flowDepth++
			case c == ']' || c == '}':
				flowDepth = max(0, flowDepth-1)
			}
			if d := len(indents) + dashes + flowDepth; d > maxDepth {
				return &Error{Line: lineNo + 1, Column: indent + i + 1, Message: fmt.Sprintf(
					"nesting deeper than %d levels, found before parsing; flatten the document (real flows nest a few levels)", maxDepth)}
			}
		}
		if d := len(indents) + dashes + flowDepth; d > maxDepth {
			return &Error{Line: lineNo + 1, Column: indent + 1, Message: fmt.Sprintf(
				"nesting deeper than %d levels, found before parsing; flatten the document (real flows nest a few levels)", maxDepth)}
		}
		if flowDepth == 0 && blockScalarStart(body) {
			scalarMin = indent
		}
	}
	return nil
}

// blockScalarStart reports whether a line ends with a block scalar
// indicator (key: |, - >-, key: |2+ …), after which the more indented
// lines are text.
func blockScalarStart(body []byte) bool {
	if i := bytes.Index(body, []byte(" #")); i >= 0 {
		body = bytes.TrimRight(body[:i], " ")
	}
	j := len(body)
	for j > 0 && (body[j-1] == '+' || body[j-1] == '-' || body[j-1] >= '1' && body[j-1] <= '9') {
		j--
	}
	if j == 0 || body[j-1] != '|' && body[j-1] != '>' {
		return false
	}
	return j == 1 || body[j-2] == ' '
}
