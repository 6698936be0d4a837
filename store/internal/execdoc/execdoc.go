// Package execdoc splits an execution into the documents the store drivers
// keep — its header (every field but the task runs) and one document per
// task run — and puts them back together. A step of a wide execution (a
// ForEach of thousands) then writes the header and the few task runs it
// changed, not a document that holds them all; readers get the same
// flow.Execution, and so the same API JSON, as when it was one document.
package execdoc

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/ospreyhq/osprey/flow"
)

// Header encodes e without its task runs.
func Header(e *flow.Execution) ([]byte, error) {
	h := *e
	h.TaskRunList = nil
	b, err := json.Marshal(&h)
	if err != nil {
		return nil, fmt.Errorf("encode execution %s: %w", e.ID, err)
	}
	return b, nil
}

// TaskRun encodes one task run.
func TaskRun(tr *flow.TaskRun) ([]byte, error) {
	b, err := json.Marshal(tr)
	if err != nil {
		return nil, fmt.Errorf("encode task run %s: %w", tr.ID, err)
	}
	return b, nil
}

// TaskRuns encodes every task run of e, in order.
func TaskRuns(e *flow.Execution) ([][]byte, error) {
	out := make([][]byte, len(e.TaskRunList))
	for i, tr := range e.TaskRunList {
		b, err := TaskRun(tr)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// Assemble decodes an execution from its header and its task runs' documents,
// in order. It splices them into the one document the execution used to be
// and decodes that, so numbers and every field read exactly as
// flow.DecodeJSON reads a whole execution.
func Assemble(header []byte, runs [][]byte) (*flow.Execution, error) {
	var e flow.Execution
	doc := header
	if len(runs) > 0 {
		h := bytes.TrimRight(header, " \t\r\n")
		if len(h) < 2 || h[len(h)-1] != '}' {
			return nil, fmt.Errorf("decode execution: its header is not a JSON object")
		}
		n := len(h) + len(`,"taskRunList":[]`)
		for _, r := range runs {
			n += len(r) + 1
		}
		buf := make([]byte, 0, n)
		buf = append(buf, h[:len(h)-1]...)
		buf = append(buf, `,"taskRunList":[`...)
		for i, r := range runs {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, r...)
		}
		buf = append(buf, "]}"...)
		doc = buf
	}
	if err := flow.DecodeJSON(doc, &e); err != nil {
		return nil, fmt.Errorf("decode execution: %w", err)
	}
	return &e, nil
}
