package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/tasks"
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
func ended(entries ...string) *flow.Execution {
	now := time.Now()
	ex := &flow.Execution{ID: "orig", Namespace: "company.team", FlowID: "f", FlowRevision: 1,
		State: flow.NewStateInfo(flow.StateSuccess, now), Metadata: &flow.ExecutionMetadata{AttemptNumber: 1}}
	byTask := map[string]string{}
	for _, e := range entries {
		task, parent, _ := strings.Cut(e, "<")
		tr := &flow.TaskRun{ID: "tr-" + task, ExecutionID: ex.ID, TaskID: task, ParentTaskRunID: byTask[parent],
			State: flow.NewStateInfo(flow.StateSuccess, now), Outputs: map[string]any{"value": task}}
		byTask[task] = tr.ID
		ex.TaskRunList = append(ex.TaskRunList, tr)
	}
	return ex
}

func TestReplay(t *testing.T) {
	t.Parallel()
	reg := tasks.New()
	f, err := flow.Parse([]byte(nestedFlow), flow.ParseOptions{Types: reg})
	require.NoError(t, err)
	f.Revision = 1
	all := []string{"a", "seq", "s1<seq", "s2<seq", "s3<seq", "par", "p1<par", "p2<par", "z", "alert"}
	tests := []struct {
		name      string
		from      string
		kept      []string
		running   []string // flowable ancestors (and a flowable replayed task) run again
		restarted []string // the replayed runnable task run
	}{
		{"a flowable at the top level", "tr-seq", []string{"a", "seq"}, []string{"seq"}, nil},
		{"inside a sequence", "tr-s2", []string{"a", "seq", "s1", "s2"}, []string{"seq"}, []string{"s2"}},
		{"inside a parallel", "tr-p1", []string{"a", "seq", "s1", "s2", "s3", "par", "p1", "p2"}, []string{"par"}, []string{"p1"}},
		{"first task", "tr-a", []string{"a"}, nil, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := ended(all...)
			ex, err := engine.Replay(reg, f, src, tt.from, nil, time.Now())
			require.NoError(t, err)
			require.Equal(t, "orig", ex.ParentID, "the replay points at what it replays, as in Kestra")
			require.Equal(t, "orig", ex.OriginalID)
			require.Equal(t, flow.StateRestarted, ex.State.Current)
			require.Equal(t, 2, ex.Metadata.AttemptNumber)
			var kept, running, restarted []string
			ids := map[string]bool{}
			for _, tr := range ex.TaskRunList {
				kept = append(kept, tr.TaskID)
				ids[tr.ID] = true
				require.Equal(t, ex.ID, tr.ExecutionID)
				require.NotContains(t, tr.ID, "tr-", "task runs get new ids")
				switch tr.State.Current {
				case flow.StateRunning:
					running = append(running, tr.TaskID)
				case flow.StateRestarted:
					restarted = append(restarted, tr.TaskID)
				}
			}
			for _, tr := range ex.TaskRunList {
				if tr.ParentTaskRunID != "" {
					require.True(t, ids[tr.ParentTaskRunID], "%s points at a kept parent", tr.TaskID)
				}
			}
			require.Equal(t, tt.kept, kept)
			require.Equal(t, tt.running, running)
			require.Equal(t, tt.restarted, restarted)
			require.Len(t, src.TaskRunList, len(all), "the original is not changed")
			require.Equal(t, "tr-a", src.TaskRunList[0].ID)
			require.Equal(t, flow.StateSuccess, src.TaskRunList[0].State.Current)
		})
	}

	whole, err := engine.Replay(reg, f, ended(all...), "", nil, time.Now())
	require.NoError(t, err)
	require.Equal(t, flow.StateCreated, whole.State.Current, "the whole flow runs again as a new execution")
	require.Empty(t, whole.TaskRunList)
	require.Equal(t, "orig", whole.ParentID)

	_, err = engine.Replay(reg, f, ended(all...), "nope", nil, time.Now())
	require.ErrorIs(t, err, engine.ErrInvalidTransition)
}

// TestReplayRunsTheReplayedTask drives a replay through the engine: the
// RESTARTED task run gets a new attempt, what followed it runs again.
func TestReplayRunsTheReplayedTask(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `id: f
namespace: n
tasks:
  - {id: a, type: io.kestra.plugin.core.log.Log, message: a}
  - {id: b, type: io.kestra.plugin.core.log.Log, message: b}
  - {id: c, type: io.kestra.plugin.core.log.Log, message: c}`)
	h.run()
	require.Equal(t, flow.StateSuccess, h.exec.State.Current)
	rep, err := engine.Replay(h.eng.Types, h.flow, h.exec, h.runs("b")[0].ID, h.eng.NewID, h.now)
	require.NoError(t, err)
	h.exec, h.dispatched = rep, nil
	h.run()
	require.Equal(t, flow.StateSuccess, h.exec.State.Current)
	require.Equal(t, []string{"b", "c"}, h.dispatched)
	require.Len(t, h.runs("b")[0].Attempts, 2, "the replayed task run keeps its first attempt and adds one")
}
