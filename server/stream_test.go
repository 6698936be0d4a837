package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
)

// TestWideExecutionIsWrittenAsEncodeWritesIt checks that an execution
// written one task run at a time is byte for byte what json.Encoder
// writes: the fields in their order, HTML characters escaped, outputs,
// attempts, a schedule date and metadata after the list.
func TestWideExecutionIsWrittenAsEncodeWritesIt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 21, 0, 0, 123456789, time.UTC)
	for _, n := range []int{streamTaskRuns + 1, 2000} {
		e := &flow.Execution{
			ID: "ex1", Namespace: "company.team", FlowID: "wide", FlowRevision: 3,
			Inputs:       map[string]any{"html": "<b>&</b>", "n": 1.5},
			Labels:       []flow.Label{{Key: "k", Value: "v"}},
			State:        flow.NewStateInfo(flow.StateRunning, now),
			ScheduleDate: &now,
			Metadata:     &flow.ExecutionMetadata{AttemptNumber: 2},
			OriginalID:   "ex0",
		}
		for i := range n {
			tr := &flow.TaskRun{ID: fmt.Sprint("tr", i), ExecutionID: "ex1", Namespace: "company.team", FlowID: "wide", TaskID: "r",
				Value: fmt.Sprintf("v<%d>é", i), State: flow.NewStateInfo(flow.StateCreated, now),
				Outputs: map[string]any{"value": fmt.Sprint("out", i), "nested": map[string]any{"a": []any{1, "x"}}}}
			tr.State.Set(flow.StateSuccess, now.Add(time.Second))
			tr.Attempts = []flow.TaskRunAttempt{{State: tr.State}}
			e.TaskRunList = append(e.TaskRunList, tr)
		}
		var want bytes.Buffer
		require.NoError(t, json.NewEncoder(&want).Encode(e))
		rec := httptest.NewRecorder()
		writeJSON(rec, 200, e)
		require.Equal(t, want.String(), rec.Body.String(), "%d task runs", n)
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	}
}
