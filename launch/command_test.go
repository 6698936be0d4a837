package launch_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/flowcache"
	"github.com/ospreyhq/osprey/launch"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/tasks"
)

const pauseFlow = `id: f
namespace: company.team
tasks:
  - id: approve
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: approved
        type: BOOLEAN
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after
`

func newLauncher(t *testing.T) (*launch.Launcher, store.Store) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	reg := tasks.New()
	parse := func(src []byte) (*flow.Flow, error) { return flow.Parse(src, flow.ParseOptions{Types: reg}) }
	_, err = st.Flows().Create(t.Context(), store.PutFlowParams{Namespace: "company.team", ID: "f", Source: pauseFlow})
	require.NoError(t, err)
	return &launch.Launcher{Store: st, Flows: flowcache.New(st.Flows(), parse), Types: reg, Poll: time.Millisecond}, st
}

// stored creates an execution of f in state st, with task runs given as
// taskID=STATE.
func stored(t *testing.T, s store.Store, st flow.State, runs ...[2]string) *flow.Execution {
	t.Helper()
	now := time.Now().UTC()
	ex := &flow.Execution{ID: flow.NewID(), Namespace: "company.team", FlowID: "f", FlowRevision: 1,
		State: flow.NewStateInfo(flow.StateCreated, now), Metadata: &flow.ExecutionMetadata{AttemptNumber: 1}}
	ex.State.Set(st, now)
	for _, r := range runs {
		tr := &flow.TaskRun{ID: flow.NewID(), ExecutionID: ex.ID, TaskID: r[0], State: flow.NewStateInfo(flow.State(r[1]), now)}
		ex.TaskRunList = append(ex.TaskRunList, tr)
	}
	require.NoError(t, s.Executions().Create(t.Context(), ex))
	return ex
}

// TestCommandsAreCheckedThenSent checks that the launcher refuses at once
// what cannot apply, sends nothing then, and otherwise stores a command
// without touching the stored execution.
func TestCommandsAreCheckedThenSent(t *testing.T) {
	t.Parallel()
	l, st := newLauncher(t)
	kill := func(ctx context.Context, id string) (launch.Accepted, error) { return l.Kill(ctx, id, true) }
	tests := []struct {
		name    string
		state   flow.State
		runs    [][2]string
		send    func(ctx context.Context, id string) (launch.Accepted, error)
		wantErr error
		kind    engine.CommandKind
		preview flow.State
	}{
		{name: "kill a running execution", state: flow.StateRunning, send: kill, kind: engine.CommandKill, preview: flow.StateKilling},
		{name: "kill an ended execution", state: flow.StateSuccess, send: kill, wantErr: engine.ErrInvalidTransition},
		{name: "resume a paused execution", state: flow.StatePaused, runs: [][2]string{{"approve", "PAUSED"}},
			send: func(ctx context.Context, id string) (launch.Accepted, error) {
				return l.Resume(ctx, id, map[string]any{"approved": "true"})
			}, kind: engine.CommandResume, preview: flow.StateRunning},
		{name: "resume with a bad input", state: flow.StatePaused, runs: [][2]string{{"approve", "PAUSED"}},
			send: func(ctx context.Context, id string) (launch.Accepted, error) {
				return l.Resume(ctx, id, map[string]any{"approved": "perhaps"})
			}},
		{name: "resume a running execution", state: flow.StateRunning, send: func(ctx context.Context, id string) (launch.Accepted, error) {
			return l.Resume(ctx, id, nil)
		}, wantErr: engine.ErrInvalidTransition},
		{name: "restart a failed execution", state: flow.StateFailed, runs: [][2]string{{"approve", "FAILED"}}, send: l.Restart, kind: engine.CommandRestart, preview: flow.StateRestarted},
		{name: "restart a successful execution", state: flow.StateSuccess, send: l.Restart, wantErr: engine.ErrInvalidTransition},
		{name: "pause a running execution", state: flow.StateRunning, send: l.Pause, kind: engine.CommandPause, preview: flow.StatePaused},
		{name: "force-run a queued execution", state: flow.StateQueued, send: l.ForceRun, kind: engine.CommandForceRun, preview: flow.StateQueued},
		{name: "change the status of a failed execution", state: flow.StateFailed, send: func(ctx context.Context, id string) (launch.Accepted, error) {
			return l.ChangeStatus(ctx, id, "", flow.StateSuccess)
		}, kind: engine.CommandChangeStatus, preview: flow.StateSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := stored(t, st, tt.state, tt.runs...)
			a, err := tt.send(t.Context(), ex.ID)
			cmds, lerr := st.Executions().Commands(t.Context(), ex.ID)
			require.NoError(t, lerr)
			got, _, gerr := st.Executions().Get(t.Context(), ex.ID)
			require.NoError(t, gerr)
			require.Equal(t, tt.state, got.State.Current, "the launcher never changes the stored execution")
			if tt.kind == "" {
				require.Error(t, err)
				if tt.wantErr != nil {
					require.ErrorIs(t, err, tt.wantErr)
				}
				require.Empty(t, cmds, "a refused command is not sent")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.preview, a.Execution.State.Current, "the answer is the execution as the command leaves it")
			require.Len(t, cmds, 1)
			var c engine.Command
			require.NoError(t, json.Unmarshal(cmds[0].Payload, &c))
			require.Equal(t, tt.kind, c.Kind)
			require.Equal(t, a.Command.ID, cmds[0].ID)
		})
	}

	_, err := l.Kill(t.Context(), "nope", true)
	require.ErrorIs(t, err, store.ErrNotFound)
}

// TestAwaitReturnsOnceApplied checks that Await waits for the executor's
// acknowledgement and gives up with its context.
func TestAwaitReturnsOnceApplied(t *testing.T) {
	t.Parallel()
	l, st := newLauncher(t)
	ex := stored(t, st, flow.StateRunning)
	a, err := l.Pause(t.Context(), ex.ID)
	require.NoError(t, err)

	short, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err = l.Await(short, a)
	require.ErrorIs(t, err, context.DeadlineExceeded, "not applied yet")

	// what the executor's step does
	got, v, err := st.Executions().Get(t.Context(), ex.ID)
	require.NoError(t, err)
	_, err = engine.Apply(l.Types, nil, got, engine.Command{Kind: engine.CommandPause}, time.Now())
	require.NoError(t, err)
	_, err = st.Executions().Save(t.Context(), store.SaveParams{Execution: got, Version: v, AckCommands: []int64{a.Command.ID}})
	require.NoError(t, err)

	done, err := l.Await(t.Context(), a)
	require.NoError(t, err)
	require.Equal(t, flow.StatePaused, done.State.Current)
}

// TestStartAsTakesTheChosenID: an execution started under an id chosen
// before the start is its own original and correlates with itself, as one
// started under a new id.
func TestStartAsTakesTheChosenID(t *testing.T) {
	t.Parallel()
	l, st := newLauncher(t)
	f, err := l.Flows.Get(t.Context(), "company.team", "f", 0)
	require.NoError(t, err)
	for _, id := range []string{flow.NewID(), ""} {
		ex, err := l.StartAs(t.Context(), f, nil, nil, nil, id)
		require.NoError(t, err)
		if id != "" {
			require.Equal(t, id, ex.ID)
		}
		got, _, err := st.Executions().Get(t.Context(), ex.ID)
		require.NoError(t, err)
		require.Equal(t, got.ID, got.OriginalID)
		require.Contains(t, got.Labels, flow.Label{Key: "system.correlationId", Value: got.ID})
	}
}
