package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// Error is an error with the HTTP status and message a client should see.
// Handlers (ours and those mounted with Server.Handle) return it to pick a
// status; Message must never hold a secret.
type Error struct {
	Status  int
	Message string
	Details []*flow.Error
}

func (e *Error) Error() string { return e.Message }

// Errorf is shorthand for an *Error with a status and message.
func Errorf(status int, msg string) *Error { return &Error{Status: status, Message: msg} }

// InputError reports an execution input the runner refused (missing, wrong
// type, failed validator). It becomes HTTP 422 naming the input.
type InputError struct {
	Input   string
	Message string
}

func (e *InputError) Error() string { return "input " + e.Input + ": " + e.Message }

// errorBody is the single JSON error shape of the API.
type errorBody struct {
	Message string        `json:"message"`
	Details []*flow.Error `json:"details,omitempty"`
}

// HandlerFunc is an API handler: it writes a response and returns nil, or
// returns an error that the error adapter turns into a status and a JSON
// body. A handler that already wrote headers must not return an error.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// adapt turns a HandlerFunc into an http.Handler, mapping errors once.
func (s *Server) adapt(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// writeError maps err to a status and writes the JSON error body. Server
// errors are logged here, and only here, by route pattern (a path may hold
// a webhook key), and the client gets a generic message so no internal
// detail leaks.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := classify(err)
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed",
			slog.String("route", r.Pattern), slog.Any("err", err))
	}
	writeJSON(w, status, body)
}

// classify decides the status and client-facing body of err.
func classify(err error) (int, errorBody) {
	var (
		apiErr  *Error
		flowErs flow.Errors
		flowEr  *flow.Error
		inErr   *InputError
		maxErr  *http.MaxBytesError
	)
	switch {
	case errors.As(err, &apiErr):
		return apiErr.Status, errorBody{Message: apiErr.Message, Details: apiErr.Details}
	case errors.As(err, &flowErs):
		msg := flowErs.Error()
		if onlyInputs(flowErs) {
			msg = "invalid inputs: " + strings.TrimPrefix(msg, "invalid flow: ")
		}
		return http.StatusUnprocessableEntity, errorBody{Message: msg, Details: flowErs}
	case errors.As(err, &flowEr):
		return http.StatusUnprocessableEntity, errorBody{Message: "invalid flow: " + flowEr.Error(), Details: []*flow.Error{flowEr}}
	case errors.As(err, &inErr):
		return http.StatusUnprocessableEntity, errorBody{
			Message: inErr.Error(),
			Details: []*flow.Error{{Path: "inputs." + inErr.Input, Message: inErr.Message}},
		}
	case errors.As(err, &maxErr):
		return http.StatusRequestEntityTooLarge, errorBody{Message: fmt.Sprintf("request body too large: the limit is %s", byteSize(maxErr.Limit))}
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, errorBody{Message: err.Error()}
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, errorBody{Message: err.Error()}
	}
	return http.StatusInternalServerError, errorBody{Message: "internal server error"}
}

// onlyInputs reports whether every problem is about an execution input
// rather than the flow's definition.
func onlyInputs(es flow.Errors) bool {
	for _, e := range es {
		if !strings.HasPrefix(e.Path, "inputs.") {
			return false
		}
	}
	return len(es) > 0
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if e, ok := v.(*flow.Execution); ok && len(e.TaskRunList) > streamTaskRuns {
		_ = writeExecution(w, e)
		return
	}
	_ = json.NewEncoder(w).Encode(v)
}

// streamTaskRuns is the width past which an execution is written one task
// run at a time (writeExecution).
const streamTaskRuns = 256

// writeExecution writes e exactly as json.Encoder would, but encodes its
// task runs one at a time into a small buffer: the JSON of a ForEach over
// 100,000 values is tens of megabytes, which Encode would hold whole (and
// grow by doubling) before writing a byte.
func writeExecution(w io.Writer, e *flow.Execution) error {
	// The header is encoded with one marker task run, where the list is
	// then written: the fields keep their order.
	mark := &flow.TaskRun{ID: "\x00osprey:task-runs"}
	h := *e
	h.TaskRunList = []*flow.TaskRun{mark}
	head, err := json.Marshal(&h)
	if err != nil {
		return fmt.Errorf("encode execution %s: %w", e.ID, err)
	}
	m, err := json.Marshal(mark)
	if err != nil {
		return fmt.Errorf("encode execution %s: %w", e.ID, err)
	}
	at := bytes.Index(head, m)
	if at < 0 {
		return fmt.Errorf("encode execution %s: no place for its task runs", e.ID)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	_, _ = bw.Write(head[:at])
	for i, tr := range e.TaskRunList {
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		b, err := json.Marshal(tr)
		if err != nil {
			return fmt.Errorf("encode execution %s: task run %s: %w", e.ID, tr.ID, err)
		}
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	_, _ = bw.Write(head[at+len(m):])
	_ = bw.WriteByte('\n')
	return bw.Flush()
}

// byteSize prints a limit the way a user configures it: 8 MiB, 512 KiB.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
