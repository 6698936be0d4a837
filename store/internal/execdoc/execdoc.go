// Package execdoc splits an execution into the documents the store drivers
// keep — its header (every field but the task runs) and one document per
// task run — and puts them back together. A step of a wide execution (a
// ForEach of thousands) then writes the header and the few task runs it
// changed, not a document that holds them all; readers get the same
// flow.Execution, and so the same API JSON, as when it was one document.
package execdoc

import (
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
// in order, as flow.DecodeJSON reads a whole execution (Execution and
// TaskRun read their numbers and maps' order the same way nested or not).
func Assemble(header []byte, runs [][]byte) (*flow.Execution, error) {
	a, err := NewAssembler(header, len(runs))
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		if err := a.Add(r); err != nil {
			return nil, err
		}
	}
	return a.Execution(), nil
}

// Assembler puts an execution back together one task run at a time, as a
// driver reads them: the documents of a wide execution (a ForEach of
// 100,000) are never all held at once, nor spliced into one.
type Assembler struct{ e *flow.Execution }

// NewAssembler decodes the header; n is how many task runs follow (a
// capacity hint).
func NewAssembler(header []byte, n int) (*Assembler, error) {
	e := &flow.Execution{}
	if err := flow.DecodeJSON(header, e); err != nil {
		return nil, fmt.Errorf("decode execution: %w", err)
	}
	if n > 0 {
		e.TaskRunList = make([]*flow.TaskRun, 0, n)
	}
	return &Assembler{e: e}, nil
}

// Add decodes the next task run.
func (a *Assembler) Add(run []byte) error {
	tr := &flow.TaskRun{}
	if err := flow.DecodeJSON(run, tr); err != nil {
		return fmt.Errorf("decode execution %s: task run %d: %w", a.e.ID, len(a.e.TaskRunList), err)
	}
	a.e.TaskRunList = append(a.e.TaskRunList, tr)
	return nil
}

// Execution returns the execution assembled.
func (a *Assembler) Execution() *flow.Execution { return a.e }
