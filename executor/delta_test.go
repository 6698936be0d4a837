package executor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
)

// readBack wraps a store and, after every saved step, reads the execution
// back and compares it with the one the executor saved: a step that saved
// only the task runs it found changed must leave the store holding exactly
// what the executor holds.
type readBack struct {
	store.Store
	t       *testing.T
	mu      sync.Mutex
	saves   int
	deltas  int
	removed int
	partial int // saves that wrote fewer task runs than the execution has
	log     []string
	// compared counts the saves read back at the version they wrote
	compared int
}

func (r *readBack) Executions() store.ExecutionStore { return readBackExecs{r.Store.Executions(), r} }

type readBackExecs struct {
	store.ExecutionStore
	r *readBack
}

func (x readBackExecs) Save(ctx context.Context, p store.SaveParams) (int64, error) {
	want, err := json.Marshal(p.Execution)
	if err != nil {
		return 0, err
	}
	v, err := x.ExecutionStore.Save(ctx, p)
	if err != nil {
		return v, err
	}
	x.r.mu.Lock()
	x.r.saves++
	x.r.log = append(x.r.log, fmt.Sprintf("%s %d runs, delta %v", p.Execution.State.Current, len(p.Execution.TaskRunList), p.Delta != nil && len(p.Delta.Removed) > 0))
	if p.Delta != nil {
		x.r.deltas++
		if len(p.Delta.Removed) > 0 {
			x.r.removed++
		}
		if len(p.Delta.Changed) < len(p.Execution.TaskRunList) {
			x.r.partial++
		}
	}
	x.r.mu.Unlock()
	got, gv, gerr := x.ExecutionStore.Get(ctx, p.Execution.ID)
	if gerr != nil {
		x.r.t.Errorf("read back %s: %v", p.Execution.ID, gerr)
		return v, nil
	}
	have, _ := json.Marshal(got)
	// (a later step may have saved meanwhile: the claim is released)
	if gv == v {
		x.r.mu.Lock()
		x.r.compared++
		x.r.mu.Unlock()
	}
	if gv == v && string(have) != string(want) {
		x.r.t.Errorf("execution %s as stored differs from the one saved:\nsaved  %s\nstored %s", p.Execution.ID, want, have)
	}
	return v, err
}

const mixedFlow = `id: mixed
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b", "c", "d"]
    concurrencyLimit: 2
    tasks:
      - id: ret
        type: io.kestra.plugin.core.debug.Return
        format: "value {{ taskrun.value }}"
      - id: check
        type: io.kestra.plugin.core.flow.If
        condition: "{{ taskrun.value == 'b' }}"
        then:
          - id: inner
            type: io.kestra.plugin.core.debug.Return
            format: "inner {{ taskrun.value }}"
  - id: workdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: first
        type: io.kestra.plugin.core.debug.Return
        format: "one"
      - id: second
        type: io.kestra.plugin.core.debug.Return
        format: "{{ outputs.first.value }} two"
  - id: flaky
    type: io.kestra.plugin.core.execution.Fail
    retry:
      type: constant
      interval: PT0.01S
      maxAttempt: 2
errors:
  - id: handle
    type: io.kestra.plugin.core.log.Log
    message: "failed"
`

// TestStepsSaveOnlyWhatChanged runs a flow through loops, branches,
// retries, an errors branch and a restart (which drops task runs), with
// every saved step read back and compared with what the executor held.
func TestStepsSaveOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	rb := &readBack{Store: st, t: t}
	s := newSystem(t, st, []store.Store{rb}, 2)
	ex, err := s.launcher.Start(t.Context(), s.flow(t, "mixed", mixedFlow), nil, nil)
	require.NoError(t, err)
	ended := s.waitEnded(t, []string{ex.ID})[0]
	require.Equal(t, flow.StateFailed, ended.State.Current)
	require.NotEmpty(t, ended.TaskRunsByTaskID("handle"), "the errors branch ran")
	require.Len(t, ended.TaskRunsByTaskID("ret"), 4)
	require.Len(t, ended.TaskRunsByTaskID("inner"), 1)
	require.Equal(t, "one two", ended.TaskRunsByTaskID("second")[0].Outputs["value"], "a group's children are stored with their outputs")
	require.Len(t, ended.TaskRunsByTaskID("flaky")[0].Attempts, 2, "retried once")

	_, err = s.launcher.Restart(t.Context(), ex.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		got, _, err := st.Executions().Get(t.Context(), ex.ID)
		require.NoError(t, err)
		return got.State.Current == flow.StateFailed && got.State.Has(flow.StateRestarted)
	}, 60e9, 20e6)

	rb.mu.Lock()
	defer rb.mu.Unlock()
	require.Equal(t, rb.saves, rb.deltas, "every step saves a delta")
	require.Greater(t, rb.compared, rb.saves/2, "most saves were read back as written")
	require.Positive(t, rb.removed, "the restart's step removed the errors branch's task runs: %v", rb.log)
	require.Positive(t, rb.partial, "steps wrote fewer task runs than the execution holds")
}
