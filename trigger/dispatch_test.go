package trigger_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/input"
	"github.com/ospreyhq/osprey/internal/seal"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/tasks"
	"github.com/ospreyhq/osprey/trigger"
	"github.com/ospreyhq/osprey/trigger/triggertest"
)

// flows and clock are the shared fakes (triggertest).
type (
	flows = triggertest.Flows
	clock = triggertest.Clock
)

func parse(t testing.TB, srcs ...string) *flows { return triggertest.Parse(t, srcs...) }

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func newDispatcher(t *testing.T, st store.Store, fs *flows, secrets map[string]string) (*trigger.Dispatcher, *clock) {
	c := triggertest.NewClock(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))
	return &trigger.Dispatcher{
		Store: st, Flows: fs, Renderer: newRenderer(secrets), Now: c.Now,
		Vars: func(f *flow.Flow, ex *flow.Execution) map[string]any { return engine.Vars(f, ex, nil, nil, nil) },
		Build: func(f *flow.Flow, in map[string]any) (*flow.Execution, error) {
			ex := &flow.Execution{ID: flow.NewID(), Namespace: f.Namespace, FlowID: f.ID, FlowRevision: f.Revision,
				Labels: f.Labels, State: flow.NewStateInfo(flow.StateCreated, c.Now())}
			ex.Inputs = input.Defaults(f, in)
			return ex, nil
		},
	}, c
}

const source = `
id: trigger-flow
namespace: io.kestra.tests.trigger
tasks:
  - id: only
    type: io.kestra.plugin.core.debug.Return
    format: x
`

const listener = `
id: trigger-flow-listener
namespace: io.kestra.tests.trigger
inputs:
  - id: from-parent
    type: STRING
tasks:
  - id: only-listener
    type: io.kestra.plugin.core.debug.Return
    format: "childs: {{inputs['from-parent']}}"
triggers:
  - id: listen-flow
    type: io.kestra.plugin.core.trigger.Flow
    inputs:
      from-parent: '{{ outputs.only.value }}'
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionStatus
        in: [SUCCESS]
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: io.kestra.tests.trigger
        flowId: trigger-flow
`

func executionsOf(t *testing.T, st store.Store, ns, id string) []*flow.Execution {
	t.Helper()
	list, _, err := st.Executions().Search(t.Context(), store.ExecutionQuery{Namespace: ns, FlowID: id})
	require.NoError(t, err)
	var out []*flow.Execution
	for _, e := range list {
		if e.FlowID == id {
			out = append(out, e)
		}
	}
	return out
}

func TestFlowTriggerFiresWithInputsAndVariables(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	d, _ := newDispatcher(t, st, parse(t, source, listener), nil)
	src := execution("io.kestra.tests.trigger", "trigger-flow", flow.StateSuccess)

	started, err := d.OnExecution(t.Context(), src)
	require.NoError(t, err)
	require.Len(t, started, 1)
	got := executionsOf(t, st, "io.kestra.tests.trigger", "trigger-flow-listener")
	require.Len(t, got, 1, "the fired execution is stored")
	ex := got[0]
	require.Equal(t, "v", ex.Inputs["from-parent"], "inputs render from the source execution's outputs")
	require.Equal(t, "listen-flow", ex.Trigger.ID)
	require.Equal(t, src.ID, ex.Trigger.Variables["executionId"])
	require.Equal(t, "trigger-flow", ex.Trigger.Variables["flowId"])
	require.Equal(t, "SUCCESS", ex.Trigger.Variables["state"])

	failed := execution("io.kestra.tests.trigger", "trigger-flow", flow.StateFailed)
	started, err = d.OnExecution(t.Context(), failed)
	require.NoError(t, err)
	require.Empty(t, started, "ExecutionStatus in [SUCCESS] refuses a FAILED execution")
	running := execution("io.kestra.tests.trigger", "trigger-flow", flow.StateRunning)
	started, err = d.OnExecution(t.Context(), running)
	require.NoError(t, err)
	require.Empty(t, started, "without states, only terminal states are listened to")
}

func TestFlowTriggerDisabledStateDoesNotFire(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	d, _ := newDispatcher(t, st, parse(t, source, listener), nil)
	require.NoError(t, st.Triggers().Put(t.Context(), store.TriggerState{
		Namespace: "io.kestra.tests.trigger", FlowID: "trigger-flow-listener", TriggerID: "listen-flow", Disabled: true}))
	started, err := d.OnExecution(t.Context(), execution("io.kestra.tests.trigger", "trigger-flow", flow.StateSuccess))
	require.NoError(t, err)
	require.Empty(t, started)
}

const multiListener = `
id: multi
namespace: io.kestra.tests.trigger
tasks:
  - id: only
    type: io.kestra.plugin.core.debug.Return
    format: x
triggers:
  - id: multiple-listen-flow
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - id: multiple
        type: io.kestra.plugin.core.condition.MultipleCondition
        window: PT1H
        windowAdvance: PT0S
        conditions:
          success:
            type: io.kestra.plugin.core.condition.ExecutionStatus
            in: [SUCCESS]
          flow-a:
            type: io.kestra.plugin.core.condition.ExecutionFlow
            namespace: io.kestra.tests.trigger
            flowId: flow-a
          flow-b:
            type: io.kestra.plugin.core.condition.ExecutionFlow
            namespace: io.kestra.tests.trigger
            flowId: flow-b
`

func TestMultipleConditionWindow(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	d, c := newDispatcher(t, st, parse(t, multiListener), nil)
	ctx := t.Context()
	on := func(id string) []*flow.Execution {
		started, err := d.OnExecution(ctx, execution("io.kestra.tests.trigger", id, flow.StateSuccess))
		require.NoError(t, err)
		return started
	}

	require.Empty(t, on("flow-a"), "flow-a alone is not enough")
	require.Empty(t, on("flow-a"), "flow-a twice is still not enough")
	require.Len(t, on("flow-b"), 1, "a and b within the window fire once")
	require.Empty(t, on("flow-b"), "the window started over after the fire")

	// flow-b's window [10:00, 11:00) has ended at 11:01: a new one opens.
	c.Add(61 * time.Minute)
	require.Empty(t, on("flow-b"))
	// At 12:00 the [11:00, 12:00) window has ended too: flow-a alone again.
	c.Add(59 * time.Minute)
	require.Empty(t, on("flow-a"), "flow-b's result did not outlive its window")
	require.Len(t, on("flow-b"), 1, "both within the 12:00 window")
	require.Len(t, executionsOf(t, st, "io.kestra.tests.trigger", "multi"), 2)
}

const preconditionsListener = `
id: listen
namespace: io.kestra.tests.trigger.preconditions
triggers:
  - id: flow
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      id: flow
      flows:
        - namespace: io.kestra.tests.trigger.preconditions
          flowId: flow-a
          states: [SUCCESS, WARNING, FAILED]
        - namespace: io.kestra.tests.trigger.preconditions
          flowId: flow-b
      where:
        - id: flow1
          filters:
            - field: NAMESPACE
              type: STARTS_WITH
              value: io.kestra.tests.trigger
            - field: EXPRESSION
              type: IS_TRUE
              value: "{{labels.some == 'label'}}"
tasks:
  - id: only
    type: io.kestra.plugin.core.debug.Return
    format: "It works"
`

func TestPreconditions(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	d, _ := newDispatcher(t, st, parse(t, preconditionsListener), nil)
	ctx := t.Context()
	ns := "io.kestra.tests.trigger.preconditions"
	label := flow.Label{Key: "some", Value: "label"}
	on := func(ex *flow.Execution) int {
		started, err := d.OnExecution(ctx, ex)
		require.NoError(t, err)
		return len(started)
	}
	require.Zero(t, on(execution(ns, "flow-b", flow.StateFailed)), "flow-b must succeed")
	require.Zero(t, on(execution(ns, "flow-a", flow.StateFailed)), "flow-a FAILED counts, but flow-b and the where are missing")
	require.Zero(t, on(execution(ns, "flow-b", flow.StateSuccess)), "the where filter needs a labelled execution")
	require.Equal(t, 1, on(execution(ns, "flow-a", flow.StateSuccess, label)))
}

// TestConcurrentFlowTriggersFireOnce evaluates one source execution from
// several executors at once: the multiple condition completes exactly once.
func TestConcurrentFlowTriggersFireOnce(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	d, _ := newDispatcher(t, st, parse(t, multiListener), nil)
	ctx := t.Context()
	_, err := d.OnExecution(ctx, execution("io.kestra.tests.trigger", "flow-a", flow.StateSuccess))
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := d.OnExecution(ctx, execution("io.kestra.tests.trigger", "flow-b", flow.StateSuccess))
			if err != nil && !errors.Is(err, store.ErrConflict) {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, executionsOf(t, st, "io.kestra.tests.trigger", "multi"), 1)
}

// BenchmarkFlowTriggers evaluates an ended execution against 200 flows, 20
// of them listening (none matching): the cost each execution end pays.
func BenchmarkFlowTriggers(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "osprey.db"), sqlite.Options{NoSync: true})
	require.NoError(b, err)
	defer st.Close()
	reg := tasks.New()
	fs := &flows{}
	for i := range 200 {
		src := strings.Replace(source, "id: trigger-flow", fmt.Sprintf("id: flow-%d", i), 1)
		if i%10 == 0 {
			src = strings.Replace(listener, "id: trigger-flow-listener", fmt.Sprintf("id: listener-%d", i), 1)
		}
		f, err := flow.Parse([]byte(src), flow.ParseOptions{Types: reg})
		require.NoError(b, err)
		fs.List = append(fs.List, f)
	}
	d := &trigger.Dispatcher{Store: st, Flows: fs, Renderer: newRenderer(nil),
		Vars: func(f *flow.Flow, ex *flow.Execution) map[string]any { return engine.Vars(f, ex, nil, nil, nil) }}
	src := execution("io.kestra.tests.trigger", "flow-3", flow.StateSuccess)
	ctx := context.Background()
	for b.Loop() {
		if _, err := d.OnExecution(ctx, src); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStopAfter(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	d, _ := newDispatcher(t, st, parse(t, `
id: nightly
namespace: acme
tasks:
  - id: only
    type: io.kestra.plugin.core.debug.Return
    format: x
triggers:
  - id: schedule
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 2 * * *"
    stopAfter: [FAILED]
`), nil)
	ctx := t.Context()
	ex := execution("acme", "nightly", flow.StateSuccess)
	ex.Trigger = &flow.ExecutionTrigger{ID: "schedule", Type: "io.kestra.plugin.core.trigger.Schedule"}
	require.NoError(t, d.StopAfter(ctx, ex))
	_, err := st.Triggers().Get(ctx, "acme", "nightly", "schedule")
	require.ErrorIs(t, err, store.ErrNotFound, "SUCCESS is not a stopAfter state")
	ex.State.Current = flow.StateFailed
	require.NoError(t, d.StopAfter(ctx, ex))
	got, err := st.Triggers().Get(ctx, "acme", "nightly", "schedule")
	require.NoError(t, err)
	require.True(t, got.Disabled, "a FAILED run stops the trigger")

	// A flow that is gone has nothing to stop; a flow that cannot be read
	// is an error, not a quiet skip.
	gone := execution("acme", "deleted", flow.StateFailed)
	gone.Trigger = ex.Trigger
	require.NoError(t, d.StopAfter(ctx, gone))
	d.Flows = failingFlows{}
	require.ErrorContains(t, d.StopAfter(ctx, ex), "database is locked")
}

// failingFlows is a flow source whose store fails.
type failingFlows struct{}

func (failingFlows) Get(context.Context, string, string, int) (*flow.Flow, error) {
	return nil, errors.New("database is locked")
}

func (failingFlows) All(context.Context) ([]*flow.Flow, error) {
	return nil, errors.New("database is locked")
}

// TestPreconditionsTimeWindows checks each kind of preconditions window
// with two upstream flows, a and b, both needed.
func TestPreconditionsTimeWindows(t *testing.T) {
	t.Parallel()
	const base = `
id: listen
namespace: acme
triggers:
  - id: flow
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      id: pre
      flows:
        - {namespace: acme, flowId: a}
        - {namespace: acme, flowId: b}
      timeWindow:
%s
tasks:
  - id: only
    type: io.kestra.plugin.core.debug.Return
    format: x
`
	type step struct {
		after time.Duration // since 10:00 UTC
		flow  string
		fires bool
	}
	cases := []struct {
		name, window string
		steps        []step
	}{
		{"duration windows are aligned", "        type: DURATION_WINDOW\n        window: PT1H", []step{
			{50 * time.Minute, "a", false}, {70 * time.Minute, "b", false}, {80 * time.Minute, "a", true}}},
		{"duration windows advance", "        type: DURATION_WINDOW\n        window: PT1H\n        windowAdvance: PT30M", []step{
			{50 * time.Minute, "a", false}, {70 * time.Minute, "b", true}}},
		{"sliding results expire one by one", "        type: SLIDING_WINDOW\n        window: PT1H", []step{
			{0, "a", false}, {70 * time.Minute, "b", false}, {80 * time.Minute, "a", true},
			{90 * time.Minute, "b", false}, {3 * time.Hour, "a", false}}},
		{"deadline closes the day", "        type: DAILY_TIME_DEADLINE\n        deadline: \"11:00:00\"", []step{
			{0, "a", false}, {90 * time.Minute, "b", false}, {24 * time.Hour, "a", false}, {24*time.Hour + time.Minute, "b", true}}},
		{"daily window takes results in its hours only", "        type: DAILY_TIME_WINDOW\n        startTime: \"10:30:00\"\n        endTime: \"12:00:00\"", []step{
			{0, "a", false}, {40 * time.Minute, "b", false}, {50 * time.Minute, "a", true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := openStore(t)
			d, c := newDispatcher(t, st, parse(t, fmt.Sprintf(base, tc.window)), nil)
			start := c.Now()
			for i, s := range tc.steps {
				c.Set(start.Add(s.after))
				started, err := d.OnExecution(t.Context(), execution("acme", s.flow, flow.StateSuccess))
				require.NoError(t, err)
				require.Equal(t, s.fires, len(started) == 1, "step %d: %s at +%s", i, s.flow, s.after)
			}
		})
	}
}

// TestFlowTriggerInputsHoldingSecretsAreSealed proves a secret() in a Flow
// trigger's inputs is never stored in clear: text is sealed, anything else
// and a missing key are refused.
func TestFlowTriggerInputsHoldingSecretsAreSealed(t *testing.T) {
	t.Parallel()
	const value = "s3cr3t-f0r-the-listener"
	box, err := seal.New([]byte("0123456789abcdef0123456789abcdef"), "inputs")
	require.NoError(t, err)
	withInputs := func(inputs string) string {
		return strings.Replace(listener, "      from-parent: '{{ outputs.only.value }}'", inputs, 1)
	}
	cases := []struct {
		name    string
		inputs  string
		sealer  trigger.Sealer
		wantErr string
		clear   any // the stored input when it holds no secret
	}{
		{name: "text is sealed", inputs: "      from-parent: \"token={{ secret('TOKEN') }}\"", sealer: box},
		{name: "without a key", inputs: "      from-parent: \"{{ secret('TOKEN') }}\"", wantErr: "set kestra.encryption.secret-key"},
		{name: "inside a list", inputs: "      from-parent: [\"{{ secret('TOKEN') }}\"]", sealer: box, wantErr: "only text inputs can carry a secret"},
		{name: "no secret stays clear", inputs: "      from-parent: '{{ outputs.only.value }}'", sealer: box, clear: "v"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := openStore(t)
			d, _ := newDispatcher(t, st, parse(t, source, withInputs(tc.inputs)), map[string]string{"TOKEN": value})
			d.Sealer = tc.sealer
			_, err := d.OnExecution(t.Context(), execution("io.kestra.tests.trigger", "trigger-flow", flow.StateSuccess))
			got := executionsOf(t, st, "io.kestra.tests.trigger", "trigger-flow-listener")
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.NotContains(t, err.Error(), value)
				require.Empty(t, got, "nothing is stored")
				return
			}
			require.NoError(t, err)
			require.Len(t, got, 1)
			stored := got[0].Inputs["from-parent"]
			if tc.clear != nil {
				require.Equal(t, tc.clear, stored)
				return
			}
			raw, err := json.Marshal(got[0])
			require.NoError(t, err)
			require.NotContains(t, string(raw), value, "the stored execution holds no clear secret")
			plain, ok, err := box.Unwrap(stored)
			require.NoError(t, err)
			require.True(t, ok, "the input is sealed: %v", stored)
			require.Equal(t, "token="+value, plain, "the worker opens the value as rendered")
		})
	}
}

// TestTriggerLabels checks that a trigger's own labels follow the flow's on
// the executions it creates, values rendered with the trigger variables,
// as Kestra's LabelService.fromTrigger does (TriggerLabelsTest); a value
// that does not render is left out.
func TestTriggerLabels(t *testing.T) {
	t.Parallel()
	const labelled = `
id: labelled
namespace: io.kestra.tests.trigger
labels:
  team: data
tasks:
  - id: only-listener
    type: io.kestra.plugin.core.debug.Return
    format: x
triggers:
  - id: as-list
    type: io.kestra.plugin.core.trigger.Flow
    labels:
      - key: from
        value: "{{ flow.id }}"
      - key: broken
        value: "{{ nothing.here }}"
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: io.kestra.tests.trigger
        flowId: trigger-flow
  - id: as-map
    type: io.kestra.plugin.core.trigger.Flow
    labels:
      source: "{{ flow.namespace }}"
      fixed: 42
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: io.kestra.tests.trigger
        flowId: trigger-flow
`
	st := openStore(t)
	fs := parse(t, source, labelled)
	d, _ := newDispatcher(t, st, fs, nil)
	started, err := d.OnExecution(t.Context(), execution("io.kestra.tests.trigger", "trigger-flow", flow.StateSuccess))
	require.NoError(t, err)
	require.Len(t, started, 2)
	byTrigger := map[string][]flow.Label{}
	for _, ex := range executionsOf(t, st, "io.kestra.tests.trigger", "labelled") {
		byTrigger[ex.Trigger.ID] = ex.Labels
	}
	require.Equal(t, []flow.Label{{Key: "team", Value: "data"}, {Key: "from", Value: "trigger-flow"}}, byTrigger["as-list"])
	require.Equal(t, []flow.Label{{Key: "team", Value: "data"}, {Key: "source", Value: "io.kestra.tests.trigger"}, {Key: "fixed", Value: "42"}}, byTrigger["as-map"])
}
