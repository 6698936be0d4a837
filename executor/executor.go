// Package executor runs the engine against the store: it claims executions
// that need a look (new, a worker result arrived, a timer is due, an API
// action), advances them with the engine, and saves the result and the work
// it produced in one transaction. Several executors may share a store: a
// claim is a lease, and a stale save loses on the execution's version.
package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/mask"
	"github.com/ospreyhq/osprey/store"
)

// Flows loads parsed flow revisions.
type Flows interface {
	Get(ctx context.Context, namespace, id string, rev int) (*flow.Flow, error)
}

// Options configure an Executor.
type Options struct {
	Store  store.Store
	Engine *engine.Engine
	Flows  Flows
	Logger *slog.Logger
	// ID names this executor in claims; a random one when empty.
	ID string
	// Batch is how many executions one pass claims (default 32).
	Batch int
	// Parallel is how many executions the loop steps at once (default 4).
	// A step of a wide execution (a ForEach of thousands) takes long; the
	// others keep moving beside it.
	Parallel int
	// Lease is how long a claim lasts (default 30s).
	Lease time.Duration
	// Slice is how many new task runs, with their jobs, one transaction
	// of a step stores at most (default 1,000). A step that creates more
	// (a ForEach of 100,000 values, no concurrency limit) stores them in
	// several, holding its claim between them, so that it never holds
	// every job's payload at once, nor the store's writer for seconds.
	Slice int
	// Poll is how often it looks for due timers without a wake-up
	// (default 200ms).
	Poll time.Duration
	// OnChange is called after a step that changed an execution's state was
	// saved (Flow triggers listen to every state, as in Kestra; most only
	// to the terminal ones).
	OnChange func(ctx context.Context, ex *flow.Execution)
	// OnEnd is called after an execution ended and was saved (flow
	// triggers listen here).
	OnEnd func(ctx context.Context, ex *flow.Execution)
	Now   func() time.Time
	// Metrics receives the executor's metrics (claims, steps, lease
	// expiries); nil keeps none.
	Metrics prometheus.Registerer
}

// Executor is the executor component.
type Executor struct {
	opts   Options
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	// lastPass is when the loop last turned (Unix nanoseconds): liveness
	// reads it to tell a wedged loop from a busy one.
	lastPass atomic.Int64
	metrics  metrics
	warm     warm
}

// metrics are the executor's counters; the zero value counts into nothing.
type metrics struct {
	claimed, steps, failedSteps, requeued prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "osprey", Subsystem: "executor", Name: name, Help: help})
	}
	m := metrics{
		claimed:     c("executions_claimed_total", "Executions claimed for a step."),
		steps:       c("steps_total", "Execution steps saved or attempted."),
		failedSteps: c("step_errors_total", "Execution steps that ended in an error (retried on the next claim)."),
		requeued:    c("lease_expiries_total", "Jobs put back in the queue because their worker's lease ran out."),
	}
	if reg != nil {
		reg.MustRegister(m.claimed, m.steps, m.failedSteps, m.requeued)
	}
	return m
}

// LastPass is when the executor's loop last turned. The loop turns at
// least every Poll while it is healthy, so an old value means a wedged
// loop (a store call that never returns).
func (x *Executor) LastPass() time.Time {
	n := x.lastPass.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// New returns an executor; Start runs it.
func New(opts Options) *Executor {
	if opts.Batch <= 0 {
		opts.Batch = 32
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Slice <= 0 {
		opts.Slice = 1000
	}
	if opts.Poll <= 0 {
		opts.Poll = 200 * time.Millisecond
	}
	if opts.ID == "" {
		opts.ID = "executor-" + flow.NewID()[:8]
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	x := &Executor{opts: opts, log: log.With("component", "executor"), metrics: newMetrics(opts.Metrics), warm: warm{max: 4 * opts.Batch}}
	x.lastPass.Store(time.Now().UnixNano())
	return x
}

// Start launches the executor loop and returns.
func (x *Executor) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	wake, err := x.opts.Store.Queue().Subscribe(ctx, store.TopicExecutions)
	if err != nil {
		cancel()
		return fmt.Errorf("subscribe to executions: %w", err)
	}
	x.cancel = cancel
	x.done = make(chan struct{})
	go x.loop(ctx, wake)
	x.log.InfoContext(ctx, "executor started", "id", x.opts.ID)
	return nil
}

// Stop ends the loop after the step in progress; it is idempotent.
func (x *Executor) Stop(ctx context.Context) error {
	x.once.Do(func() {
		if x.cancel != nil {
			x.cancel()
		}
	})
	if x.done == nil {
		return nil
	}
	select {
	case <-x.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loop keeps up to Parallel steps in flight. It claims as many executions
// as it has free slots whenever some may be waiting: at start, on a
// wake-up, on the poll tick (due timers, and the fallback for a lost
// wake-up), and when a step ends after a claim that filled every slot.
func (x *Executor) loop(ctx context.Context, wake <-chan struct{}) {
	defer close(x.done)
	tick := time.NewTicker(x.opts.Poll)
	defer tick.Stop()
	reap := time.NewTicker(x.opts.Lease / 3)
	defer reap.Stop()
	slots := make(chan struct{}, x.opts.Parallel)
	freed := make(chan struct{}, 1)
	// One goroutine per slot, kept for the loop's life: a step goes deep
	// into the store's driver, and a goroutine started per step grew its
	// stack to that depth again each time (3 % of the CPU at saturation).
	work := make(chan claimed, x.opts.Parallel)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(work)
	for range x.opts.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				x.metrics.steps.Inc()
				if err := x.step(ctx, c.id, c.pre); err != nil {
					x.metrics.failedSteps.Inc()
					if ctx.Err() == nil {
						x.log.ErrorContext(ctx, "executor step", "execution_id", c.id, "err", err)
					}
				}
				<-slots
				select {
				case freed <- struct{}{}:
				default:
				}
			}
		}()
	}
	pending := true // executions may be waiting for a slot
	for {
		x.lastPass.Store(time.Now().UnixNano())
		if free := cap(slots) - len(slots); free > 0 && pending {
			n := min(free, x.opts.Batch)
			ids, err := x.opts.Store.Queue().ClaimExecutions(ctx, x.opts.ID, n, x.opts.Lease)
			if err != nil && ctx.Err() == nil {
				x.log.ErrorContext(ctx, "claim executions", "err", err)
			}
			x.metrics.claimed.Add(float64(len(ids)))
			pre := x.readAhead(ctx, ids)
			for i, id := range ids {
				slots <- struct{}{}
				work <- claimed{id: id, pre: pre[i]}
			}
			pending = err == nil && len(ids) == n
			if pending {
				continue
			}
		}
		var fr <-chan struct{}
		if pending {
			fr = freed
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
			pending = true
		case <-tick.C:
			pending = true
		case <-fr:
		case <-reap.C:
			if n, err := x.opts.Store.Queue().RequeueExpired(ctx); err != nil {
				x.log.ErrorContext(ctx, "requeue expired jobs", "err", err)
			} else if n > 0 {
				x.metrics.requeued.Add(float64(n))
				x.log.WarnContext(ctx, "requeued jobs whose worker stopped answering", "jobs", n)
				_ = x.opts.Store.Queue().Notify(ctx, store.TopicJobs)
			}
		}
	}
}

// RunOnce claims a batch of executions and steps each; it returns how many
// it claimed.
func (x *Executor) RunOnce(ctx context.Context) (int, error) {
	ids, err := x.opts.Store.Queue().ClaimExecutions(ctx, x.opts.ID, x.opts.Batch, x.opts.Lease)
	if err != nil {
		return 0, fmt.Errorf("claim executions: %w", err)
	}
	x.metrics.claimed.Add(float64(len(ids)))
	var errs []error
	for _, id := range ids {
		x.metrics.steps.Inc()
		if err := x.step(ctx, id, nil); err != nil {
			x.metrics.failedSteps.Inc()
			errs = append(errs, fmt.Errorf("execution %s: %w", id, err))
		}
	}
	return len(ids), errors.Join(errs...)
}

// errStale is a save that lost to a change made since the step read the
// execution (or since the executor kept it warm).
var errStale = errors.New("execution changed during the step")

// claimed is an execution one claim gave the loop, with the inputs of its
// step read ahead (nil: the step reads its own).
type claimed struct {
	id  string
	pre *store.StepInput
}

// readAhead reads the inputs of the steps of ids, which one claim gave
// this executor, in one round trip when the store can
// (store.StepBatchReader): an execution's results and commands, and the
// execution itself unless it is kept warm. An execution whose step will
// first let results gather (warm.pause) is left out, to be read when its
// step starts, as is every execution when the read fails.
func (x *Executor) readAhead(ctx context.Context, ids []string) []*store.StepInput {
	out := make([]*store.StepInput, len(ids))
	r, ok := x.opts.Store.Queue().(store.StepBatchReader)
	if !ok || len(ids) == 0 {
		return out
	}
	var reads []store.StepRead
	var at []int
	for i, id := range ids {
		if x.warm.pause(id) > 0 {
			continue
		}
		reads = append(reads, store.StepRead{ExecutionID: id, WithExecution: !x.warm.has(id)})
		at = append(at, i)
	}
	if len(reads) == 0 {
		return out
	}
	in, err := r.ReadSteps(ctx, reads)
	if err != nil {
		if ctx.Err() == nil {
			x.log.WarnContext(ctx, "read the inputs of claimed executions; each step reads its own", "err", err)
		}
		return out
	}
	for k, i := range at {
		out[i] = &in[k]
	}
	return out
}

// step advances execution id once, from the inputs read ahead with its
// claim when pre is set. A step that loses its save to another
// change (another executor's step, or a warm copy that went stale) is run
// again at once on a fresh read, while this executor still holds the
// claim.
func (x *Executor) step(ctx context.Context, id string, pre *store.StepInput) error {
	if d := x.warm.pause(id); d > 0 {
		// Its last step was costly (a wide ForEach rewrites a large
		// document): let more results gather so one step applies them
		// all, rather than one step per result. Other executions keep
		// stepping in the other slots meanwhile.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
	began := time.Now()
	defer func() { x.warm.cost(id, time.Since(began)) }()
	err := x.stepOnce(ctx, id, false, false, pre)
	for range 2 {
		switch {
		case errors.Is(err, store.ErrNoSlot):
			// Another executor took the last slot between our look and
			// our save: the execution waits as its flow's limit says.
			err = x.stepOnce(ctx, id, true, true, nil)
		case errors.Is(err, errStale):
			err = x.stepOnce(ctx, id, false, true, nil)
		}
	}
	if errors.Is(err, errStale) || errors.Is(err, store.ErrNoSlot) {
		// Changing still: look again later.
		return x.opts.Store.Executions().MarkDirty(ctx, id)
	}
	return err
}

// stepOnce loads an execution with what happened since its last step
// (worker results, commands), advances it and saves the result. full
// says the flow's concurrency limit was found reached by the save itself;
// fresh reads the execution from the store rather than the warm copy; pre,
// when set, is what was read ahead with the claim.
func (x *Executor) stepOnce(ctx context.Context, id string, full, fresh bool, pre *store.StepInput) error {
	ex, ver, snap, index, ok := x.warm.take(ctx, id)
	load := !ok || fresh || snap == nil
	var in store.StepInput
	if pre != nil && (!load || pre.Execution != nil) {
		in = *pre
	} else {
		// Not read ahead, or the warm copy it counted on was dropped
		// meanwhile.
		var err error
		if in, err = x.read(ctx, id, load); err != nil {
			return err
		}
	}
	if load {
		ex, ver = in.Execution, in.Version
		snap, index = newSnapshot(ex), nil
	}
	if index == nil {
		index = engine.NewIndex()
	}
	before := ex.State.Current
	jobs := in.Results
	p := saveParts{before: before, version: ver, settled: ex.Settled(), snap: snap, index: index}
	if n := x.resultsPerStep(ex, len(jobs)); len(jobs) > n {
		// Tens of thousands of results of a wide fan-out: this step
		// applies the oldest of them, and the next step (at once: the
		// save marks the execution) the others, which stay stored,
		// unacknowledged, until then.
		jobs, p.more = jobs[:n], true
	}
	results := make([]engine.Result, 0, len(jobs))
	for _, j := range jobs {
		p.acks, p.ackRuns = append(p.acks, j.ID), append(p.ackRuns, j.TaskRunID)
		var r engine.Result
		if err := flow.DecodeJSON(j.Result, &r); err != nil {
			x.log.ErrorContext(ctx, "unreadable job result", "job", j.ID, "err", err)
			continue
		}
		results = append(results, r)
	}
	cmds := x.commands(ctx, id, in.Commands, &p)
	f, ferr := x.opts.Flows.Get(ctx, ex.Namespace, ex.FlowID, ex.FlowRevision)
	if ferr != nil {
		f = nil // Apply refuses the commands that need it
	}
	applied, logs := engine.ApplyAll(x.opts.Engine.Types, f, ex, cmds, x.opts.Now())
	p.logs = logs
	if applied.KillSubflows {
		var err error
		if p.send, err = x.killSubflows(ctx, ex); err != nil {
			return err
		}
	}
	if applied.WakeParent && ex.ParentID != "" {
		p.wake = append(p.wake, ex.ParentID)
	}
	if ferr != nil {
		// The flow revision is gone or no longer parses: end the execution
		// rather than retry forever.
		var fx engine.Effects
		if !ex.State.Current.IsTerminal() {
			ex.Error = ferr.Error()
			end := flow.StateFailed
			if ex.State.Current == flow.StateKilling {
				end = flow.StateKilled
			}
			now := x.opts.Now()
			// Its task runs end with it, so that it settles: nothing can
			// advance them any more, and a parent waits for a settled child.
			for _, tr := range ex.TaskRunList {
				if !tr.State.Current.IsTerminal() {
					tr.State.Set(end, now)
				}
			}
			ex.State.Set(end, now)
			fx.Ended = true
		}
		return x.save(ctx, nil, ex, p, fx)
	}
	related, err := x.related(ctx, ex)
	if err != nil {
		return err
	}
	starting := ex.State.Current == flow.StateCreated || ex.State.Current == flow.StateQueued
	if starting && !applied.ForceRun {
		if ex.State.Current == flow.StateCreated && ex.ScheduleDate != nil && x.opts.Now().Before(*ex.ScheduleDate) {
			// Scheduled for later (a scheduleDate, or the next execution
			// of a CREATE_NEW_EXECUTION retry): it stays CREATED until then.
			return x.save(ctx, f, ex, p, engine.Effects{WakeAt: ex.ScheduleDate})
		}
		if c := f.Concurrency; c != nil && c.Limit > 0 {
			if full || x.limitReached(ctx, f, ex) {
				ended := x.waitForSlot(f, ex)
				return x.save(ctx, f, ex, p, engine.Effects{WakeAt: ptr(x.opts.Now().Add(time.Second)), Ended: ended})
			}
			p.slot = &store.Slot{Limit: c.Limit}
		}
	}
	// Secrets resolved by the step itself (flow outputs, conditions)
	// are learnt here and masked before anything is stored.
	p.mask = new(mask.Masker)
	sctx := flow.WithExecution(mask.NewContext(ctx, p.mask), ex)
	fx, err := x.opts.Engine.Advance(sctx, engine.Step{Flow: f, Exec: ex, Results: results, Related: related, Now: x.opts.Now(), Index: p.index})
	if err != nil {
		return fmt.Errorf("advance: %w", err)
	}
	return x.save(ctx, f, ex, p, fx)
}

// saveParts is what a step gathers, besides the engine's effects, for its
// one Save.
type saveParts struct {
	before  flow.State
	settled bool // the execution was settled (flow.Execution.Settled) before the step
	version int64
	acks    []string // job results applied
	ackRuns []string // their task runs, in the same order
	cmdAcks []int64  // commands applied or refused
	send    []store.Command
	wake    []string        // executions to step (a parent waiting on a refused restart)
	logs    []flow.LogEntry // commands refused
	slot    *store.Slot
	// snap is the execution's task runs as stored: the save writes only
	// those that differ from it.
	snap *snapshot
	// more: results are left for the next step, which follows at once.
	more bool
	// index is the engine's index of the task runs, kept for the next step.
	index *engine.Index
	// mask holds the secrets the step resolved (nil: none).
	mask *mask.Masker
}

// read loads what a step of execution id starts from: the execution
// itself when load (not kept warm), its results and its commands. One read
// when the store is a StepReader.
func (x *Executor) read(ctx context.Context, id string, load bool) (store.StepInput, error) {
	st := x.opts.Store
	if r, ok := st.Executions().(store.StepReader); ok {
		in, err := r.ReadStep(ctx, id, load)
		if err != nil {
			return in, fmt.Errorf("load: %w", err)
		}
		return in, nil
	}
	var in store.StepInput
	var err error
	if load {
		if in.Execution, in.Version, err = st.Executions().Get(ctx, id); err != nil {
			return in, fmt.Errorf("load: %w", err)
		}
	}
	if in.Results, err = st.Queue().Results(ctx, id); err != nil {
		return in, fmt.Errorf("load results: %w", err)
	}
	if in.Commands, err = st.Executions().Commands(ctx, id); err != nil {
		return in, fmt.Errorf("load commands: %w", err)
	}
	return in, nil
}

// commands decodes the execution's pending commands; each is acknowledged
// by the step's save, an unreadable one too (after a log line).
func (x *Executor) commands(ctx context.Context, id string, stored []store.Command, p *saveParts) []engine.Command {
	cmds := make([]engine.Command, 0, len(stored))
	for _, c := range stored {
		p.cmdAcks = append(p.cmdAcks, c.ID)
		var cmd engine.Command
		if err := flow.DecodeJSON(c.Payload, &cmd); err != nil {
			x.log.ErrorContext(ctx, "unreadable command", "execution_id", id, "command", c.ID, "err", err)
			continue
		}
		cmds = append(cmds, cmd)
	}
	return cmds
}

// killSubflows returns a kill command for every subflow execution of ex
// not already killed, as Kestra cascades a kill; each of them cascades to
// its own in its step.
func (x *Executor) killSubflows(ctx context.Context, ex *flow.Execution) ([]store.Command, error) {
	children, _, err := x.opts.Store.Executions().Search(ctx, store.ExecutionQuery{ParentID: ex.ID, Size: maxKillCascade})
	if err != nil {
		return nil, fmt.Errorf("list subflows to kill: %w", err)
	}
	payload, err := marshal(engine.Command{Kind: engine.CommandKill})
	if err != nil {
		return nil, fmt.Errorf("encode kill: %w", err)
	}
	var out []store.Command
	for _, c := range children {
		if c.State.Current == flow.StateKilled || c.State.Current == flow.StateKilling {
			continue
		}
		out = append(out, store.Command{ExecutionID: c.ID, Payload: payload})
	}
	return out, nil
}

// maxKillCascade bounds how many subflows of one execution a kill reaches.
const maxKillCascade = 10000

// resultsPerStep is how many of n results waiting a step of ex applies:
// five slices' worth (Options.Slice), as the step's cost is mostly a walk
// over every task run and its save stores them a slice at a time; one
// slice when they may be the last ones, since a step that ends the
// execution is stored in one transaction.
func (x *Executor) resultsPerStep(ex *flow.Execution, n int) int {
	if n <= x.opts.Slice {
		return n
	}
	open := 0
	for _, tr := range ex.TaskRunList {
		if !tr.State.Current.IsTerminal() {
			open++
		}
	}
	if open-n < x.opts.Slice {
		return x.opts.Slice
	}
	return 5 * x.opts.Slice
}

func ptr[T any](v T) *T { return &v }

// maskStep hides secrets the step resolved in everything it will store:
// the task runs it changed (the others were stored masked by the steps
// that changed them), the execution's outputs and error, new executions'
// labels and log lines. The dispatched jobs' variables are masked as
// each is encoded (maskVars).
func maskStep(m *mask.Masker, ex *flow.Execution, changed []*flow.TaskRun, fx *engine.Effects) {
	if m.Empty() {
		return
	}
	if ex.Outputs != nil {
		ex.Outputs, _ = m.Value(ex.Outputs).(map[string]any)
	}
	ex.Error = m.Mask(ex.Error)
	for _, tr := range changed {
		if tr.Outputs != nil {
			tr.Outputs, _ = m.Value(tr.Outputs).(map[string]any)
		}
		tr.Error = m.Mask(tr.Error)
		tr.Value = m.Mask(tr.Value)
		if len(tr.Items) > 0 {
			// a new slice: the stored one is never written in place
			items := make([]string, len(tr.Items))
			for i, it := range tr.Items {
				items[i] = m.Mask(it)
			}
			tr.Items = items
		}
	}
	for _, e := range fx.NewExecutions {
		// a subflow's labels are rendered in this step; its inputs were
		// sealed when it was built
		for i, l := range e.Labels {
			e.Labels[i] = flow.Label{Key: m.Mask(l.Key), Value: m.Mask(l.Value)}
		}
	}
	for i := range fx.Logs {
		fx.Logs[i].Message = m.Mask(fx.Logs[i].Message)
	}
}

// maskVars masks a dispatch's variables, reusing the masked copy of a map
// already masked for another dispatch of the step.
func maskVars(m *mask.Masker, vars map[string]any, masked map[unsafe.Pointer]any) map[string]any {
	out := make(map[string]any, len(vars))
	for k, v := range vars {
		mv, ok := v.(map[string]any)
		if !ok || mv == nil {
			out[m.Mask(k)] = m.Value(v)
			continue
		}
		p := reflect.ValueOf(mv).UnsafePointer()
		c, ok := masked[p]
		if !ok {
			c = m.Value(mv)
			masked[p] = c
		}
		out[m.Mask(k)] = c
	}
	return out
}

// limitReached is the cheap first look at the flow's concurrency limit;
// the save's slot is what makes it hold under several executors.
func (x *Executor) limitReached(ctx context.Context, f *flow.Flow, ex *flow.Execution) bool {
	n, err := x.opts.Store.Executions().CountActive(ctx, ex.Namespace, ex.FlowID)
	return err == nil && n >= f.Concurrency.Limit
}

// waitForSlot applies the flow's concurrency behaviour to an execution
// that found no slot: it waits QUEUED, or is cancelled or failed; it
// reports whether the execution ended.
func (x *Executor) waitForSlot(f *flow.Flow, ex *flow.Execution) bool {
	c := f.Concurrency
	now := x.opts.Now()
	switch c.Behavior {
	case "CANCEL":
		ex.State.Set(flow.StateCancelled, now)
		return true
	case "FAIL":
		ex.Error = fmt.Sprintf("flow concurrency limit of %d reached", c.Limit)
		ex.State.Set(flow.StateFailed, now)
		return true
	default:
		if ex.State.Current != flow.StateQueued {
			ex.State.Set(flow.StateQueued, now)
		}
		return false
	}
}

// related loads the subflow executions that running Subflow task runs wait
// on and, when a ForEachItem waits on its batches (a running task run with
// outputs.numberOfBatches), every subflow execution of ex.
func (x *Executor) related(ctx context.Context, ex *flow.Execution) (map[string]*flow.Execution, error) {
	var out map[string]*flow.Execution
	all := false
	for _, tr := range ex.TaskRunList {
		if tr.State.Current.IsTerminal() {
			continue
		}
		if _, batches := tr.Outputs["numberOfBatches"]; batches && !all {
			all = true
			children, _, err := x.opts.Store.Executions().Search(ctx, store.ExecutionQuery{ParentID: ex.ID})
			if err != nil {
				return nil, fmt.Errorf("load the subflow executions of %s: %w", tr.TaskID, err)
			}
			if out == nil {
				out = make(map[string]*flow.Execution, len(children))
			}
			for _, c := range children {
				out[c.ID] = c
			}
			continue
		}
		cid, _ := tr.Outputs["executionId"].(string)
		if cid == "" {
			continue
		}
		child, _, err := x.opts.Store.Executions().Get(ctx, cid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("load subflow execution %s: %w", cid, err)
		}
		if child.State.Current == flow.StateRetried {
			if child, err = x.retryOf(ctx, ex.ID, child); err != nil {
				return nil, err
			}
		}
		if out == nil {
			out = map[string]*flow.Execution{}
		}
		out[cid] = child
	}
	return out, nil
}

// retryOf follows a subflow execution retried with CREATE_NEW_EXECUTION to
// the latest execution of its chain, which the parent waits on instead.
func (x *Executor) retryOf(ctx context.Context, parentID string, child *flow.Execution) (*flow.Execution, error) {
	siblings, _, err := x.opts.Store.Executions().Search(ctx, store.ExecutionQuery{ParentID: parentID, Size: 1000})
	if err != nil {
		return nil, fmt.Errorf("find the retry of subflow execution %s: %w", child.ID, err)
	}
	for found := true; found && child.State.Current == flow.StateRetried; {
		found = false
		for _, e := range siblings {
			if e.OriginalID == child.ID {
				child, found = e, true
				break
			}
		}
	}
	return child, nil
}

func (x *Executor) save(ctx context.Context, f *flow.Flow, ex *flow.Execution, p saveParts, fx engine.Effects) error {
	st := x.opts.Store
	stored := len(p.snap.fps)
	delta, positions := p.snap.diff(ex)
	if !p.mask.Empty() {
		// Masking may change a loop value, which places a task run in the
		// engine's index: the next step builds the index again.
		p.index = nil
	}
	maskStep(p.mask, ex, delta.Changed, &fx)
	moved := p.snap.moved
	p.snap.refresh(ex, positions)
	var parts []*store.TaskRunDelta
	// A step that only applied results and went on from them is stored
	// in slices whatever it changed: each result is acknowledged with the
	// last slice touching its task run (ackParts), so a crash between two
	// leaves the others unacknowledged, to be applied again by the next
	// step, and the engine creates again what their slices would have.
	// Commands, subflows, kills and sends are all or nothing: such a step
	// stores the task runs it changed in its first slice, and slices only
	// those it created.
	pure := len(p.cmdAcks) == 0 && len(fx.NewExecutions) == 0 && len(p.send) == 0 && len(fx.Send) == 0 && len(fx.Cancel) == 0
	if !moved && !ex.State.Current.IsTerminal() {
		// A step that ends the execution is stored whole: its end must
		// never be seen with only some of its task runs.
		if pure {
			stored = 0 // every task run it changed is sliced, not only the new ones
		}
		parts = split(delta, positions, stored, x.opts.Slice)
	} else {
		parts = []*store.TaskRunDelta{delta}
	}
	acks := ackParts(p.acks, p.ackRuns, parts, pure)
	// The dispatches of one step share most of their variables (outputs,
	// inputs, globals, …, the same maps): each shared map is masked once,
	// not once per dispatch, or a wide step would copy the outputs n times.
	// Each dispatch's variables are built, encoded and dropped in turn, and
	// the jobs of one slice are encoded just before it is stored, so a
	// wide step never holds them all.
	var masked map[unsafe.Pointer]any
	if !p.mask.Empty() {
		masked = map[unsafe.Pointer]any{}
	}
	dispatch := sliceDispatches(fx.Dispatch, parts)
	encode := func(ds []engine.Dispatch) ([]store.Job, error) {
		jobs := make([]store.Job, 0, len(ds))
		for _, d := range ds {
			vars := d.Variables()
			if masked != nil {
				vars = maskVars(p.mask, vars, masked)
			}
			pl := engine.Payload{Namespace: ex.Namespace, FlowID: ex.FlowID, Revision: ex.FlowRevision, TaskID: d.Task.ID, TaskRun: d.TaskRun, Attempt: d.Attempt, Vars: vars, Children: d.Children}
			raw, err := marshal(pl)
			if err != nil {
				return nil, fmt.Errorf("encode job for task %s: %w", d.Task.ID, err)
			}
			jobs = append(jobs, store.Job{ID: engine.JobID(d.TaskRun.ID, d.Attempt), ExecutionID: ex.ID, TaskRunID: d.TaskRun.ID, Attempt: d.Attempt, Payload: raw, State: store.JobQueued})
		}
		return jobs, nil
	}
	var cancel []string
	for _, trID := range fx.Cancel {
		if tr := ex.TaskRunByID(trID); tr != nil {
			cancel = append(cancel, engine.JobID(trID, len(tr.Attempts)+1))
		}
	}
	ended := fx.Ended && ex.State.Current.IsTerminal()
	// The parent and the executions queued on the flow's limit look again
	// once the execution settles: ended, its afterExecution tasks too, as
	// Kestra waits for them before it answers a parent or frees a slot.
	settled := !p.settled && ex.Settled()
	wake := p.wake
	if p.more && !ex.State.Current.IsTerminal() {
		wake = append(slices.Clip(wake), ex.ID)
	}
	if settled && ex.ParentID != "" && !slices.Contains(wake, ex.ParentID) {
		// The parent's wake-up commits with the child's end: no crash
		// between the two can leave the parent waiting.
		wake = append(wake, ex.ParentID)
	}
	if settled && f != nil && f.Concurrency != nil && f.Concurrency.Limit > 0 {
		queued, err := x.queued(ctx, ex)
		if err != nil {
			return err
		}
		wake = append(wake, queued...)
	}
	for _, c := range fx.Send {
		raw, err := marshal(c.Command)
		if err != nil {
			return fmt.Errorf("encode %s for execution %s: %w", c.Command.Kind, c.ExecutionID, err)
		}
		p.send = append(p.send, store.Command{ExecutionID: c.ExecutionID, Payload: raw})
	}
	changed := ex.State.Current != p.before
	// The save releases the claim before this step keeps its copy (put):
	// a step that starts meanwhile waits for the copy (lend) rather than
	// reading the execution again, and then finding the copy stale.
	x.warm.lend(ex.ID)
	// When the callbacks below read the execution, it is kept only once
	// they are done with it.
	callbacks := (changed && x.opts.OnChange != nil) || ended
	saved, queued, err := p.version, 0, error(nil)
	for i, part := range parts {
		var jobs []store.Job
		if jobs, err = encode(dispatch[i]); err != nil {
			break
		}
		sp := store.SaveParams{Execution: ex, Version: saved, Jobs: jobs, WakeAt: fx.WakeAt, Owner: x.opts.ID, Delta: part, FirstTurn: queued, AckResults: acks[i]}
		if i == 0 {
			// Everything else goes with the first slice: the commands
			// applied, with the changes they made.
			sp.NewExecutions, sp.CancelJobs = fx.NewExecutions, cancel
			sp.AckCommands, sp.Send, sp.Wake, sp.Slot = p.cmdAcks, p.send, wake, p.slot
			if len(parts) > 1 && !slices.Contains(sp.Wake, ex.ID) {
				// Marked for a step, in case this executor dies before its
				// last slice: the next claim (once the lease runs out)
				// reads what was stored and the engine creates the rest.
				sp.Wake = append(slices.Clip(wake), ex.ID)
			}
		}
		if i < len(parts)-1 {
			// No claim owner: the claim is kept until the last slice, so
			// no other step of this execution can start in between.
			sp.Owner = ""
		}
		queued += len(jobs)
		if saved, err = st.Executions().Save(ctx, sp); err != nil {
			break
		}
	}
	if err != nil {
		x.warm.drop(ex.ID)
	}
	if err == nil {
		if callbacks {
			defer x.warm.put(ex, saved, p.snap, p.index, p.more)
		} else {
			x.warm.put(ex, saved, p.snap, p.index, p.more)
		}
	}
	if errors.Is(err, store.ErrConflict) {
		// The execution changed meanwhile (another executor's step after
		// a lease ran out, or the warm copy was stale): look again.
		return errStale
	}
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if logs := append(p.logs, fx.Logs...); len(logs) > 0 {
		if err := st.Logs().Append(ctx, logs); err != nil {
			x.log.ErrorContext(ctx, "store executor log lines", "execution_id", ex.ID, "err", err)
		}
	}
	if queued > 0 || len(cancel) > 0 {
		// workers watch this topic for new jobs and for kills
		_ = st.Queue().Notify(ctx, store.TopicJobs)
	}
	if len(fx.NewExecutions) > 0 || len(p.send) > 0 || len(wake) > 0 {
		_ = st.Queue().Notify(ctx, store.TopicExecutions)
	}
	if changed && x.opts.OnChange != nil {
		x.opts.OnChange(ctx, ex)
	}
	if ended {
		x.log.DebugContext(ctx, "execution ended", "execution_id", ex.ID, "state", ex.State.Current)
		if x.opts.OnEnd != nil {
			x.opts.OnEnd(ctx, ex)
		}
	}
	return nil
}

// queued lists executions of ex's flow waiting on its concurrency limit,
// to look at again once ex frees its slot.
func (x *Executor) queued(ctx context.Context, ex *flow.Execution) ([]string, error) {
	queued, _, err := x.opts.Store.Executions().Search(ctx, store.ExecutionQuery{Namespace: ex.Namespace, FlowID: ex.FlowID, States: []flow.State{flow.StateQueued}, Size: 10})
	if err != nil {
		return nil, fmt.Errorf("list executions queued on the flow's limit: %w", err)
	}
	var out []string
	for _, q := range queued {
		if q.Namespace == ex.Namespace && q.FlowID == ex.FlowID {
			out = append(out, q.ID)
		}
	}
	return out, nil
}
