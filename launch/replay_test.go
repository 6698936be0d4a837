package launch

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

const nestedFlow = `id: f
namespace: company.team
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: a
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: s1
        type: io.kestra.plugin.core.log.Log
        message: s1
      - id: s2
        type: io.kestra.plugin.core.log.Log
        message: s2
      - id: s3
        type: io.kestra.plugin.core.log.Log
        message: s3
  - id: par
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: p1
        type: io.kestra.plugin.core.log.Log
        message: p1
      - id: p2
        type: io.kestra.plugin.core.log.Log
        message: p2
  - id: z
    type: io.kestra.plugin.core.log.Log
    message: z
errors:
  - id: alert
    type: io.kestra.plugin.core.log.Log
    message: alert
`

// ended builds a SUCCESS execution from "task" or "task<parent" entries,
// in order.
func ended(t *testing.T, entries ...string) *flow.Execution {
	t.Helper()
	now := time.Now()
	ex := &flow.Execution{ID: "orig", Namespace: "company.team", FlowID: "f", FlowRevision: 1,
		State: flow.NewStateInfo(flow.StateSuccess, now), Metadata: &flow.ExecutionMetadata{AttemptNumber: 1}}
	byTask := map[string]string{}
	for _, e := range entries {
		task, parent, _ := strings.Cut(e, "<")
		tr := &flow.TaskRun{ID: "tr-" + task, ExecutionID: ex.ID, TaskID: task, ParentTaskRunID: byTask[parent],
			State: flow.NewStateInfo(flow.StateSuccess, now)}
		byTask[task] = tr.ID
		ex.TaskRunList = append(ex.TaskRunList, tr)
	}
	return ex
}

func TestReplayOf(t *testing.T) {
	t.Parallel()
	f, err := flow.Parse([]byte(nestedFlow), flow.ParseOptions{})
	require.NoError(t, err)
	f.Revision = 1
	all := []string{"a", "seq", "s1<seq", "s2<seq", "s3<seq", "par", "p1<par", "p2<par", "z", "alert"}
	tests := []struct {
		name    string
		from    string
		kept    []string
		running []string
	}{
		{"top level", "tr-seq", []string{"a"}, nil},
		{"inside a sequence", "tr-s2", []string{"a", "seq", "s1"}, []string{"seq"}},
		{"inside a parallel", "tr-p1", []string{"a", "seq", "s1", "s2", "s3", "par", "p2"}, []string{"par"}},
		{"first task", "tr-a", nil, nil},
		{"whole execution", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := ended(t, all...)
			now := time.Now()
			ex, err := replayOf(f, src, tt.from, now)
			require.NoError(t, err)
			require.Equal(t, "orig", ex.OriginalID)
			require.Equal(t, flow.StateRestarted, ex.State.Current)
			require.Equal(t, 2, ex.Metadata.AttemptNumber)
			var kept, running []string
			ids := map[string]bool{}
			for _, tr := range ex.TaskRunList {
				kept = append(kept, tr.TaskID)
				ids[tr.ID] = true
				require.Equal(t, ex.ID, tr.ExecutionID)
				require.NotContains(t, tr.ID, "tr-", "task runs get new ids")
				if tr.State.Current == flow.StateRunning {
					running = append(running, tr.TaskID)
				}
			}
			for _, tr := range ex.TaskRunList {
				if tr.ParentTaskRunID != "" {
					require.True(t, ids[tr.ParentTaskRunID], "%s points at a kept parent", tr.TaskID)
				}
			}
			require.Equal(t, tt.kept, kept)
			require.Equal(t, tt.running, running)
			require.Len(t, src.TaskRunList, len(all), "the original is not changed")
			require.Equal(t, "tr-a", src.TaskRunList[0].ID)
		})
	}

	_, err = replayOf(f, ended(t, all...), "nope", time.Now())
	require.ErrorIs(t, err, store.ErrNotFound)
}
