// Package scheduler fires Kestra's Schedule and ScheduleOnDates triggers
// (read by package schedule), missed ticks recovered as
// recoverMissedSchedules says, backfills asked through the API.
//
// A fire is a compare-and-swap on the trigger's stored next date
// (store.TriggerStore.Fire) that creates the execution in the same
// transaction: any number of schedulers can run against one database and
// each tick fires once, and a scheduler that restarts picks up exactly
// where the stored state says, never firing a tick twice or skipping one
// it was asked to recover. Time is injected, so all of it is tested
// without waiting.
package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/schedule"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/trigger"
)

// Options configure a Scheduler.
type Options struct {
	Store    store.Store
	Flows    trigger.FlowSource
	Build    trigger.Builder
	Renderer trigger.Renderer
	Vars     trigger.VarsFunc
	// Sealer encrypts inputs that resolve a secret (see
	// trigger.BuildWithInputs).
	Sealer trigger.Sealer
	// Holidays are the calendars the PublicHoliday condition reads; nil:
	// the built-in ones.
	Holidays trigger.Holidays
	// Poller evaluates polling triggers (http.Trigger); nil: none are.
	Poller Poller
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Poll is how often a pass runs; default 1s.
	Poll time.Duration
	// Batch bounds the fires of one pass, so a long catch-up (ALL after a
	// long outage) never holds a pass for long; default 100.
	Batch int
	// Grace is how late a tick may fire under recoverMissedSchedules NONE
	// before it counts as missed; default 1 minute.
	Grace time.Duration
	// Metrics receives the scheduler's metrics (executions fired, pass
	// errors); nil keeps none.
	Metrics prometheus.Registerer
}

// Poller evaluates polling triggers: the scheduler asks it, every
// interval, whether a trigger fires (tasks.HTTPPoller for http.Trigger).
type Poller interface {
	// Handles reports whether triggers of type typ are polled.
	Handles(typ string) bool
	// Interval is how often t is polled.
	Interval(t *flow.Trigger) (time.Duration, error)
	// Poll checks t once with the flow's variables: whether it fires, and
	// the trigger variables of the execution it then starts.
	Poll(ctx context.Context, t *flow.Trigger, vars map[string]any) (fire bool, variables map[string]any, err error)
}

// Scheduler fires Schedule triggers. It is a component: Start launches
// its loop, Stop ends it and waits.
type Scheduler struct {
	o   Options
	log *slog.Logger

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	stopped bool

	// lastPass is when the loop last turned (Unix nanoseconds, wall clock):
	// liveness reads it to tell a wedged loop from a busy one.
	lastPass         atomic.Int64
	fired, passError prometheus.Counter
}

// LastPass is when the scheduler's loop last turned. A pass runs every
// Poll and is bounded to 30 seconds, so an old value means a wedged loop.
func (s *Scheduler) LastPass() time.Time { return time.Unix(0, s.lastPass.Load()) }

// New returns a scheduler.
func New(o Options) *Scheduler {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Grace <= 0 {
		o.Grace = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{o: o, log: o.Logger.With(slog.String("component", "scheduler")),
		fired: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "osprey", Subsystem: "scheduler",
			Name: "executions_fired_total", Help: "Executions created by schedules, backfills and polling triggers."}),
		passError: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "osprey", Subsystem: "scheduler",
			Name: "pass_errors_total", Help: "Scheduler passes that ended in an error."}),
	}
	if o.Metrics != nil {
		o.Metrics.MustRegister(s.fired, s.passError)
	}
	s.lastPass.Store(time.Now().UnixNano())
	return s
}

func (s *Scheduler) now() time.Time {
	if s.o.Now != nil {
		return s.o.Now().UTC()
	}
	return time.Now().UTC()
}

// Start launches the loop: a pass every Poll, each bounded in time.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil || s.stopped {
		return errors.New("scheduler: already started")
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.o.Poll)
		defer t.Stop()
		for {
			s.lastPass.Store(time.Now().UnixNano())
			pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
			n, err := s.runOnce(pctx)
			s.fired.Add(float64(n))
			if err != nil && ctx.Err() == nil {
				s.passError.Inc()
				s.log.WarnContext(ctx, "scheduler pass", "err", err)
			}
			pcancel()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// Stop ends the loop and waits for the pass under way. It is idempotent.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.stopped = true
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runOnce fires what is due and returns how many executions it created.
func (s *Scheduler) runOnce(ctx context.Context) (int, error) {
	flows, err := s.o.Flows.All(ctx)
	if err != nil {
		return 0, fmt.Errorf("list flows: %w", err)
	}
	// One read of every state instead of one per trigger: most passes
	// find nothing due and end here.
	list, err := s.o.Store.Triggers().List(ctx)
	if err != nil {
		return 0, fmt.Errorf("list trigger states: %w", err)
	}
	states := make(map[string]store.TriggerState, len(list))
	for _, st := range list {
		states[stateKey(st.Namespace, st.FlowID, st.TriggerID)] = st
	}
	fired := 0
	var errs []error
	for _, f := range flows {
		if f.Disabled {
			continue
		}
		for _, t := range f.Triggers {
			if !t.Disabled && s.o.Poller != nil && s.o.Poller.Handles(t.Type) {
				st, known := states[stateKey(f.Namespace, f.ID, t.ID)]
				if known && (st.Disabled || st.Next != nil && st.Next.After(s.now())) {
					continue // not due
				}
				n, err := s.poll(ctx, f, t)
				fired += n
				if err != nil {
					errs = append(errs, fmt.Errorf("poll %s.%s/%s: %w", f.Namespace, f.ID, t.ID, err))
				}
				continue
			}
			if t.Disabled || !schedule.Scheduled(t.Type) {
				continue
			}
			if fired >= s.o.Batch {
				return fired, errors.Join(errs...)
			}
			sch, err := schedule.Parse(t)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.%s: %w", f.Namespace, f.ID, err))
				continue
			}
			if st, ok := states[stateKey(f.Namespace, f.ID, t.ID)]; ok && !due(st, sch, s.now()) {
				if _, running := states[stateKey(f.Namespace, f.ID, t.ID+BackfillSuffix)]; !running {
					continue
				}
			}
			n, err := s.schedule(ctx, f, sch, s.o.Batch-fired)
			fired += n
			if err != nil {
				errs = append(errs, fmt.Errorf("schedule %s.%s/%s: %w", f.Namespace, f.ID, t.ID, err))
			}
			if fired >= s.o.Batch {
				continue
			}
			n, err = s.backfill(ctx, f, sch, s.o.Batch-fired)
			fired += n
			if err != nil {
				errs = append(errs, fmt.Errorf("backfill %s.%s/%s: %w", f.Namespace, f.ID, t.ID, err))
			}
		}
	}
	return fired, errors.Join(errs...)
}

func stateKey(ns, flowID, triggerID string) string { return ns + "\x00" + flowID + "\x00" + triggerID }

// due reports whether a stored state may need work: disabled states and
// states whose next tick is ahead need none.
func due(st store.TriggerState, sch *schedule.Schedule, now time.Time) bool {
	if st.Disabled {
		return false
	}
	if st.Next == nil || len(st.Data) == 0 {
		return true
	}
	var data scheduleData
	if json.Unmarshal(st.Data, &data) != nil || data.Key != sch.Key() {
		return true
	}
	return !st.Next.IsZero() && !st.Next.After(now)
}

// scheduleData is what a Schedule trigger keeps in its state's Data.
type scheduleData struct {
	// Key is the cron and time zone Next was computed from.
	Key string `json:"key"`
}

// maxScan bounds the ticks looked at to find the latest missed one.
const maxScan = 100_000

// schedule fires the due ticks of one trigger, at most budget of them.
func (s *Scheduler) schedule(ctx context.Context, f *flow.Flow, sch *schedule.Schedule, budget int) (int, error) {
	ts := s.o.Store.Triggers()
	fired := 0
	for attempt := 0; fired < budget && attempt < budget+8; attempt++ {
		now := s.now()
		st, err := ts.Get(ctx, f.Namespace, f.ID, sch.Trigger.ID)
		if errors.Is(err, store.ErrNotFound) {
			st = store.TriggerState{Namespace: f.Namespace, FlowID: f.ID, TriggerID: sch.Trigger.ID}
		} else if err != nil {
			return fired, err
		}
		if st.Disabled {
			return fired, nil
		}
		var data scheduleData
		if len(st.Data) > 0 {
			_ = json.Unmarshal(st.Data, &data) // unreadable: computed again below
		}
		prev := st.Next
		if prev == nil || data.Key != sch.Key() {
			// First sight of this schedule, or its cron changed: the
			// first tick is the next one from now, as in Kestra.
			next := sch.Next(now)
			if next.IsZero() {
				return fired, nil
			}
			st.Next = &next
			if st.Data, err = json.Marshal(scheduleData{Key: sch.Key()}); err != nil {
				return fired, err
			}
			st.Updated = now
			if _, err := ts.Fire(ctx, prev, st, nil); err != nil {
				return fired, err
			}
			return fired, nil
		}
		if prev.After(now) || prev.IsZero() {
			return fired, nil // not yet due, or no date left (ScheduleOnDates after its last)
		}
		tick, next, fire := s.pick(sch, *prev, now)
		if sch.LateMaximumDelay > 0 && now.Sub(tick) > sch.LateMaximumDelay {
			fire = false
		}
		var execs []*flow.Execution
		if fire {
			ex, err := s.execution(ctx, f, sch, tick, st.Last, nil, nil)
			if err != nil {
				return fired, err
			}
			if ex != nil {
				execs = append(execs, ex)
				st.Last = &tick
			}
		}
		st.Next = &next
		st.Updated = now
		won, err := ts.Fire(ctx, prev, st, execs)
		if err != nil {
			return fired, err
		}
		if won && len(execs) > 0 {
			fired++
			s.log.InfoContext(ctx, "schedule fired", "namespace", f.Namespace, "flow_id", f.ID,
				"trigger_id", sch.Trigger.ID, "date", tick, "execution_id", execs[0].ID)
		}
		if next.IsZero() {
			return fired, nil
		}
	}
	return fired, nil
}

// poll evaluates a polling trigger that is due. The poll is claimed first
// (a compare-and-swap moving its next date an interval ahead), so however
// many schedulers run, one of them polls per interval; the execution it
// fires is created after the poll.
func (s *Scheduler) poll(ctx context.Context, f *flow.Flow, t *flow.Trigger) (int, error) {
	ts := s.o.Store.Triggers()
	now := s.now()
	st, err := ts.Get(ctx, f.Namespace, f.ID, t.ID)
	if errors.Is(err, store.ErrNotFound) {
		st = store.TriggerState{Namespace: f.Namespace, FlowID: f.ID, TriggerID: t.ID}
	} else if err != nil {
		return 0, err
	}
	if st.Disabled || st.Next != nil && st.Next.After(now) {
		return 0, nil
	}
	interval, err := s.o.Poller.Interval(t)
	if err != nil {
		return 0, err
	}
	prev := st.Next
	next := now.Add(interval)
	st.Next, st.Updated = &next, now
	if won, err := ts.Fire(ctx, prev, st, nil); err != nil || !won {
		return 0, err
	}
	stub := &flow.Execution{Namespace: f.Namespace, FlowID: f.ID, FlowRevision: f.Revision,
		State: flow.StateInfo{Current: flow.StateCreated}}
	fire, tv, err := s.o.Poller.Poll(ctx, t, s.o.Vars(f, stub))
	if err != nil || !fire {
		return 0, err
	}
	et := &flow.ExecutionTrigger{ID: t.ID, Type: t.Type, Variables: tv}
	stub.Trigger = et
	if conds := trigger.Conditions(t.Props); len(conds) > 0 {
		ok, err := trigger.CheckAll(ctx, conds, trigger.Context{Execution: stub, Vars: s.o.Vars(f, stub), Now: now, Renderer: s.o.Renderer, Holidays: s.o.Holidays})
		if err != nil || !ok {
			return 0, err
		}
	}
	ex, err := s.o.Build(f, nil)
	if err != nil {
		return 0, err
	}
	ex.Trigger = et
	if err := s.o.Store.Executions().Create(ctx, ex); err != nil {
		return 0, fmt.Errorf("create execution: %w", err)
	}
	s.log.InfoContext(ctx, "polling trigger fired", "namespace", f.Namespace, "flow_id", f.ID, "trigger_id", t.ID, "execution_id", ex.ID)
	return 1, nil
}

// pick decides, for a trigger due since due, which tick fires (if any) and
// the next date to store, following recoverMissedSchedules.
func (s *Scheduler) pick(sch *schedule.Schedule, due, now time.Time) (tick, next time.Time, fire bool) {
	if sch.Recover == schedule.RecoverAll {
		return due, sch.Next(due), true
	}
	latest := due
	for i := 0; i < maxScan; i++ {
		n := sch.Next(latest)
		if n.IsZero() || n.After(now) {
			break
		}
		latest = n
	}
	next = sch.Next(latest)
	if sch.Recover == schedule.RecoverLast {
		return latest, next, true
	}
	return latest, next, now.Sub(latest) <= s.o.Grace
}

// execution builds the execution of a tick; nil when the trigger's
// conditions do not hold for it.
func (s *Scheduler) execution(ctx context.Context, f *flow.Flow, sch *schedule.Schedule, tick time.Time, previous *time.Time, inputs map[string]any, labels []flow.Label) (*flow.Execution, error) {
	et := &flow.ExecutionTrigger{ID: sch.Trigger.ID, Type: sch.Trigger.Type, Variables: sch.Variables(tick, previous)}
	stub := &flow.Execution{Namespace: f.Namespace, FlowID: f.ID, FlowRevision: f.Revision, Trigger: et,
		State: flow.StateInfo{Current: flow.StateCreated}}
	vars := s.o.Vars(f, stub)
	if len(sch.Conditions) > 0 {
		ok, err := trigger.CheckAll(ctx, sch.Conditions, trigger.Context{Execution: stub, Vars: vars, Now: tick, Renderer: s.o.Renderer, Holidays: s.o.Holidays})
		if err != nil {
			return nil, fmt.Errorf("conditions: %w", err)
		}
		if !ok {
			return nil, nil
		}
	}
	if inputs == nil {
		inputs = sch.Inputs
	}
	ex, err := trigger.BuildWithInputs(ctx, s.o.Renderer, s.o.Build, s.o.Sealer, f, sch.Trigger.ID, inputs, vars)
	if err != nil {
		return nil, err
	}
	ex.Trigger = et
	ex.Labels = append(ex.Labels, labels...)
	return ex, nil
}
