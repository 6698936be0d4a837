package scheduler

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/input"
	"github.com/ospreyhq/osprey/render"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/trigger/triggertest"
)

// flows and clock are the shared fakes (triggertest).
type (
	flows = triggertest.Flows
	clock = triggertest.Clock
)

func parseFlows(t testing.TB, srcs ...string) *flows { return triggertest.Parse(t, srcs...) }

func newScheduler(st store.Store, fs *flows, c *clock) *Scheduler {
	return New(Options{
		Store: st, Flows: fs, Now: c.Now,
		Renderer: &render.Renderer{Expr: expr.New(expr.Options{})},
		Vars:     func(f *flow.Flow, ex *flow.Execution) map[string]any { return engine.Vars(f, ex, nil, nil, nil) },
		Build: func(f *flow.Flow, in map[string]any) (*flow.Execution, error) {
			ex := &flow.Execution{ID: flow.NewID(), Namespace: f.Namespace, FlowID: f.ID, FlowRevision: f.Revision,
				Labels: slices.Clone(f.Labels), State: flow.NewStateInfo(flow.StateCreated, c.Now())}
			ex.Inputs = input.Defaults(f, in)
			return ex, nil
		},
	})
}

func openSQLite(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "osprey.db"), sqlite.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func scheduleFlow(extra string) string {
	return `
id: every-minute
namespace: acme
inputs:
  - id: when
    type: STRING
    defaults: none
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.date }}"
triggers:
  - id: schedule
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "* * * * *"
` + extra
}

// fireDates returns the trigger.date of every execution of acme.every-minute.
func fireDates(t testing.TB, st store.Store) []string {
	t.Helper()
	list, _, err := st.Executions().Search(context.Background(), store.ExecutionQuery{Namespace: "acme", FlowID: "every-minute"})
	require.NoError(t, err)
	var out []string
	for _, e := range list {
		out = append(out, e.Trigger.Variables["date"].(string))
	}
	slices.Sort(out)
	return out
}

func minutes(from string, n int) []string {
	t, _ := time.Parse(time.RFC3339, from)
	out := make([]string, n)
	for i := range out {
		out[i] = t.Add(time.Duration(i) * time.Minute).UTC().Format(time.RFC3339Nano)
	}
	return out
}

var t0 = time.Date(2026, 3, 4, 10, 0, 30, 0, time.UTC)

// TestRestartNeitherMissesNorDoubles runs a scheduler, stops it, lets
// ticks pass while none runs, and starts a new one on the same store: every
// tick fires exactly once (recoverMissedSchedules ALL, Kestra's default).
func TestRestartNeitherMissesNorDoubles(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	fs := parseFlows(t, scheduleFlow(""))
	c := triggertest.NewClock(t0)
	ctx := t.Context()

	s1 := newScheduler(st, fs, c)
	n, err := s1.runOnce(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "the first tick is the next one after the trigger is first seen")
	for _, at := range []time.Duration{30 * time.Second, 31 * time.Second, 90 * time.Second, 150 * time.Second} {
		c.Set(t0.Add(at))
		_, err := s1.runOnce(ctx)
		require.NoError(t, err)
	}
	require.Equal(t, minutes("2026-03-04T10:01:00Z", 3), fireDates(t, st), "10:01, 10:02, 10:03 once each, though 10:01 was looked at twice")

	// The scheduler is down from 10:03:00 to 10:07:40.
	c.Set(t0.Add(7*time.Minute + 10*time.Second))
	s2 := newScheduler(st, fs, c)
	n, err = s2.runOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 4, n, "10:04 … 10:07 are recovered")
	n, err = s2.runOnce(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing is fired twice")
	require.Equal(t, minutes("2026-03-04T10:01:00Z", 7), fireDates(t, st))

	stt, err := st.Triggers().Get(ctx, "acme", "every-minute", "schedule")
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 3, 4, 10, 8, 0, 0, time.UTC), stt.Next.UTC())
	require.Equal(t, time.Date(2026, 3, 4, 10, 7, 0, 0, time.UTC), stt.Last.UTC())
}

// TestStartStopLoop runs the real loop with a short poll and a clock that
// jumps: the loop fires and Stop waits for it.
func TestStartStopLoop(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	c := triggertest.NewClock(t0)
	s := newScheduler(st, parseFlows(t, scheduleFlow("")), c)
	s.o.Poll = 5 * time.Millisecond
	require.NoError(t, s.Start(t.Context()))
	require.Eventually(t, func() bool {
		_, err := st.Triggers().Get(t.Context(), "acme", "every-minute", "schedule")
		return err == nil
	}, 10*time.Second, 5*time.Millisecond)
	c.Set(t0.Add(time.Minute))
	require.Eventually(t, func() bool { return len(fireDates(t, st)) == 1 }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, s.Stop(t.Context()))
	require.NoError(t, s.Stop(t.Context()), "Stop is idempotent")
	require.Error(t, s.Start(t.Context()), "a stopped scheduler does not start again")
}

func TestRecoverMissedSchedules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, props string
		after       time.Duration // how long after 10:00:30 the scheduler comes back
		want        []string
	}{
		{"ALL", "recoverMissedSchedules: ALL", 5*time.Minute + 10*time.Second, minutes("2026-03-04T10:01:00Z", 5)},
		{"LAST", "recoverMissedSchedules: LAST", 5*time.Minute + 10*time.Second, []string{"2026-03-04T10:05:00Z"}},
		// 10:05 is 40 s late: within the 50 s grace.
		{"NONE on time", "recoverMissedSchedules: NONE", 5*time.Minute + 10*time.Second, []string{"2026-03-04T10:05:00Z"}},
		// 10:06 is 55 s late: missed.
		{"NONE late", "recoverMissedSchedules: NONE", 6*time.Minute + 25*time.Second, nil},
		// 10:01-10:03 are over two minutes late.
		{"lateMaximumDelay", "lateMaximumDelay: PT2M", 5*time.Minute + 10*time.Second, minutes("2026-03-04T10:04:00Z", 2)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := openSQLite(t)
			c := triggertest.NewClock(t0)
			s := newScheduler(st, parseFlows(t, scheduleFlow("    "+tc.props+"\n")), c)
			s.o.Grace = 50 * time.Second
			_, err := s.runOnce(t.Context())
			require.NoError(t, err)
			c.Set(t0.Add(tc.after))
			_, err = s.runOnce(t.Context())
			require.NoError(t, err)
			require.Equal(t, tc.want, fireDates(t, st))
			// Whatever was skipped, the schedule goes on from now.
			stt, err := st.Triggers().Get(t.Context(), "acme", "every-minute", "schedule")
			require.NoError(t, err)
			require.Equal(t, c.Now().Truncate(time.Minute).Add(time.Minute), stt.Next.UTC())
		})
	}
}

func TestScheduleInputsConditionsAndDisable(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	c := triggertest.NewClock(time.Date(2026, 3, 6, 23, 58, 30, 0, time.UTC)) // a Friday
	s := newScheduler(st, parseFlows(t, scheduleFlow(`    inputs:
      when: "{{ trigger.date }}"
    conditions:
      - type: io.kestra.plugin.core.condition.Weekend
`)), c)
	ctx := t.Context()
	_, err := s.runOnce(ctx)
	require.NoError(t, err)
	c.Set(time.Date(2026, 3, 7, 0, 0, 10, 0, time.UTC))
	_, err = s.runOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"2026-03-07T00:00:00Z"}, fireDates(t, st), "Friday 23:59 is not a weekend tick; Saturday 00:00 is")
	list, _, err := st.Executions().Search(ctx, store.ExecutionQuery{Namespace: "acme"})
	require.NoError(t, err)
	require.Equal(t, "2026-03-07T00:00:00Z", list[0].Inputs["when"], "inputs render with the trigger's variables")
	require.Equal(t, "2026-03-07T00:01:00Z", list[0].Trigger.Variables["next"])

	stt, err := st.Triggers().Get(ctx, "acme", "every-minute", "schedule")
	require.NoError(t, err)
	stt.Disabled = true
	require.NoError(t, st.Triggers().Put(ctx, stt))
	c.Set(time.Date(2026, 3, 7, 0, 5, 10, 0, time.UTC))
	_, err = s.runOnce(ctx)
	require.NoError(t, err)
	require.Len(t, fireDates(t, st), 1, "a trigger disabled through the API does not fire")
}

// TestScheduleOnDates fires each date once, recovers missed ones as
// recoverMissedSchedules says, and stops after the last date.
func TestScheduleOnDates(t *testing.T) {
	t.Parallel()
	src := strings.Replace(scheduleFlow(""), `    type: io.kestra.plugin.core.trigger.Schedule
    cron: "* * * * *"`, `    type: io.kestra.plugin.core.trigger.ScheduleOnDates
    dates:
      - 2026-03-04T10:05:00Z
      - "2026-03-04T11:00:00+01:00"
      - 2026-03-04T10:20:00Z
      - 2026-03-04T12:00:00Z`, 1)
	for _, tc := range []struct {
		recover string
		want    []string
	}{
		{"ALL", []string{"2026-03-04T10:00:00Z", "2026-03-04T10:05:00Z", "2026-03-04T10:20:00Z", "2026-03-04T12:00:00Z"}},
		{"LAST", []string{"2026-03-04T10:05:00Z", "2026-03-04T10:20:00Z", "2026-03-04T12:00:00Z"}},
	} {
		t.Run(tc.recover, func(t *testing.T) {
			t.Parallel()
			st := openSQLite(t)
			c := triggertest.NewClock(time.Date(2026, 3, 4, 9, 30, 0, 0, time.UTC))
			s := newScheduler(st, parseFlows(t, src+"    recoverMissedSchedules: "+tc.recover+"\n"), c)
			ctx := t.Context()
			// Passes at these times: 10:00 and 10:05 are both missed by
			// 10:06 (LAST fires only 10:05), 10:20 is missed by 10:30.
			for _, at := range []string{"09:30:00", "09:59:59", "10:06:00", "10:10:00", "10:30:00", "12:00:00", "12:00:01", "18:00:00"} {
				now, err := time.Parse(time.DateTime, "2026-03-04 "+at)
				require.NoError(t, err)
				c.Set(now)
				_, err = s.runOnce(ctx)
				require.NoError(t, err)
			}
			require.Equal(t, tc.want, fireDates(t, st), "each date once, none after the last")
			stt, err := st.Triggers().Get(ctx, "acme", "every-minute", "schedule")
			require.NoError(t, err)
			require.True(t, stt.Next.IsZero(), "no date is left")
		})
	}
}

func TestCronChangeRecomputesNext(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	c := triggertest.NewClock(t0)
	ctx := t.Context()
	_, err := newScheduler(st, parseFlows(t, scheduleFlow("")), c).runOnce(ctx)
	require.NoError(t, err)
	hourly := parseFlows(t, scheduleFlow(""))
	hourly.List[0].Triggers[0].Props["cron"] = "0 * * * *"
	_, err = newScheduler(st, hourly, c).runOnce(ctx)
	require.NoError(t, err)
	stt, err := st.Triggers().Get(ctx, "acme", "every-minute", "schedule")
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC), stt.Next.UTC())
}

func TestBackfill(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	fs := parseFlows(t, scheduleFlow(""))
	c := triggertest.NewClock(t0)
	s := newScheduler(st, fs, c)
	ctx := t.Context()
	s.o.Batch = 2
	b := Backfill{Start: time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 4, 9, 4, 0, 0, time.UTC),
		Labels: []flow.Label{{Key: "why", Value: "replay"}}}
	require.NoError(t, StartBackfill(ctx, st.Triggers(), fs.List[0], "schedule", b, c.Now()))
	require.ErrorIs(t, StartBackfill(ctx, st.Triggers(), fs.List[0], "schedule", b, c.Now()), store.ErrConflict)
	require.ErrorIs(t, StartBackfill(ctx, st.Triggers(), fs.List[0], "nope", b, c.Now()), store.ErrNotFound)

	for range 4 {
		n, err := s.runOnce(ctx)
		require.NoError(t, err)
		require.LessOrEqual(t, n, 2, "a pass fires at most Batch executions")
	}
	require.Equal(t, minutes("2026-03-04T09:00:00Z", 5), fireDates(t, st))
	list, _, err := st.Executions().Search(ctx, store.ExecutionQuery{Namespace: "acme"})
	require.NoError(t, err)
	require.Contains(t, list[0].Labels, flow.Label{Key: "why", Value: "replay"})
	_, err = st.Triggers().Get(ctx, "acme", "every-minute", "schedule"+BackfillSuffix)
	require.ErrorIs(t, err, store.ErrNotFound, "a finished backfill leaves no state behind")
}

// BenchmarkSchedulerPass measures a steady-state pass (nothing due) over
// 200 scheduled flows on SQLite: the cost the loop pays every second.
func BenchmarkSchedulerPass(b *testing.B) {
	st := openSQLite(b)
	var srcs []string
	for i := range 200 {
		srcs = append(srcs, strings.Replace(scheduleFlow(""), "id: every-minute", fmt.Sprintf("id: flow-%d", i), 1))
	}
	c := triggertest.NewClock(t0)
	s := newScheduler(st, parseFlows(b, srcs...), c)
	ctx := context.Background()
	_, err := s.runOnce(ctx)
	require.NoError(b, err)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.runOnce(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// crashingTriggers fails Fire as a scheduler dying around its commit
// would: before writing anything, or after the transaction committed.
type crashingTriggers struct {
	store.TriggerStore
	afterCommit bool
}

var errCrash = errors.New("scheduler died")

func (c crashingTriggers) Fire(ctx context.Context, prev *time.Time, s store.TriggerState, execs []*flow.Execution) (bool, error) {
	if len(execs) == 0 {
		return c.TriggerStore.Fire(ctx, prev, s, execs)
	}
	if c.afterCommit {
		_, _ = c.TriggerStore.Fire(ctx, prev, s, execs)
	}
	return false, errCrash
}

type crashingStore struct {
	store.Store
	afterCommit bool
}

func (c crashingStore) Triggers() store.TriggerStore {
	return crashingTriggers{c.Store.Triggers(), c.afterCommit}
}

// TestCrashAroundFire kills a scheduler's fire before and after its
// commit: the scheduler that takes over fires the tick once either way.
func TestCrashAroundFire(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	fs := parseFlows(t, scheduleFlow(""))
	c := triggertest.NewClock(t0)
	ctx := t.Context()
	healthy := newScheduler(st, fs, c)
	_, err := healthy.runOnce(ctx)
	require.NoError(t, err)

	c.Set(t0.Add(40 * time.Second)) // 10:01:10
	_, err = newScheduler(crashingStore{st, true}, fs, c).runOnce(ctx)
	require.ErrorIs(t, err, errCrash)
	_, err = newScheduler(st, fs, c).runOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, minutes("2026-03-04T10:01:00Z", 1), fireDates(t, st), "committed before the crash: not fired again")

	c.Set(t0.Add(100 * time.Second)) // 10:02:10
	_, err = newScheduler(crashingStore{st, false}, fs, c).runOnce(ctx)
	require.ErrorIs(t, err, errCrash)
	require.Len(t, fireDates(t, st), 1)
	_, err = newScheduler(st, fs, c).runOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, minutes("2026-03-04T10:01:00Z", 2), fireDates(t, st), "lost before the commit: fired by the next scheduler")
}

// fakePoller fires when ready is set, counting polls.
type fakePoller struct {
	mu    sync.Mutex
	polls int
	ready bool
}

func (p *fakePoller) Handles(typ string) bool { return typ == "io.kestra.plugin.core.http.Trigger" }
func (p *fakePoller) Interval(*flow.Trigger) (time.Duration, error) {
	return 30 * time.Second, nil
}
func (p *fakePoller) Poll(context.Context, *flow.Trigger, map[string]any) (bool, map[string]any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls++
	return p.ready, map[string]any{"code": 200, "body": "ok"}, nil
}

// TestPollingTrigger polls once per interval, however many schedulers
// pass, and starts an execution when the poll fires.
func TestPollingTrigger(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	fs := parseFlows(t, `
id: poll
namespace: acme
tasks:
  - {id: log, type: io.kestra.plugin.core.log.Log, message: "{{ trigger.body }}"}
triggers:
  - id: http
    type: io.kestra.plugin.core.http.Trigger
    uri: http://127.0.0.1:1/never-called
`)
	c := triggertest.NewClock(t0)
	p := &fakePoller{}
	s1, s2 := newScheduler(st, fs, c), newScheduler(st, fs, c)
	s1.o.Poller, s2.o.Poller = p, p
	ctx := t.Context()
	pass := func() {
		for _, s := range []*Scheduler{s1, s2} {
			_, err := s.runOnce(ctx)
			require.NoError(t, err)
		}
	}
	execs := func() []*flow.Execution {
		list, _, err := st.Executions().Search(ctx, store.ExecutionQuery{Namespace: "acme", FlowID: "poll"})
		require.NoError(t, err)
		return list
	}

	pass()
	require.Equal(t, 1, p.polls, "first sight polls at once; the second scheduler finds it not due")
	require.Empty(t, execs(), "not ready: nothing fires")
	c.Set(t0.Add(10 * time.Second))
	pass()
	require.Equal(t, 1, p.polls, "within the interval nothing is polled")

	p.ready = true
	c.Set(t0.Add(31 * time.Second))
	pass()
	require.Equal(t, 2, p.polls, "one poll per interval for both schedulers")
	list := execs()
	require.Len(t, list, 1)
	require.Equal(t, "http", list[0].Trigger.ID)
	require.Equal(t, "ok", list[0].Trigger.Variables["body"])

	stt, err := st.Triggers().Get(ctx, "acme", "poll", "http")
	require.NoError(t, err)
	stt.Disabled = true
	require.NoError(t, st.Triggers().Put(ctx, stt))
	c.Set(t0.Add(5 * time.Minute))
	pass()
	require.Equal(t, 2, p.polls, "a disabled trigger is not polled")
}
