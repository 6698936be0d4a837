// Package worker runs runnable task runs: it claims jobs from the store's
// queue with a lease, runs each on a pool of goroutines, keeps the lease
// alive with heartbeats, stops a job whose kill was asked, and reports the
// result (outputs and errors masked) back to the executor through the
// store.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/internal/seal"
	"github.com/ospreyhq/osprey/mask"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/taskproc"
)

// Tasks gives the runnable implementation of a task.
type Tasks interface {
	Runnable(t *flow.Task) (Runnable, error)
}

// Flows loads parsed flow revisions.
type Flows interface {
	Get(ctx context.Context, namespace, id string, rev int) (*flow.Flow, error)
}

// Renderers builds the renderer of one job. Secrets resolved while
// rendering are reported to learn so the worker masks them.
type Renderers interface {
	ForJob(learn func(secret string)) Renderer
}

// Options configure a Worker.
type Options struct {
	Store     store.Store
	Tasks     Tasks
	Flows     Flows
	Renderers Renderers
	Logger    *slog.Logger
	ID        string
	// Threads is how many task runs run at once (--worker-thread).
	Threads int
	// Lease is how long a claim lasts without a heartbeat (default 30s).
	Lease time.Duration
	// Poll is how often it looks for jobs without a wake-up (default 500ms).
	Poll time.Duration
	// TmpDir is where task runs get scratch directories.
	TmpDir string
	// Secrets opens sealed SECRET-type inputs for the task that runs.
	Secrets *seal.Box
	// Storage is internal storage, handed to task runs.
	Storage storage.Storage
	// Processes starts task processes (script tasks) under the server's
	// deny list; nil gives the default policy.
	Processes *taskproc.Runner
	// MaxLeaseExpiries is how many times a job may lose its worker (its
	// lease ran out) before its task run fails instead of running again:
	// a task that crashes the worker would otherwise crash every worker
	// that claims it (default 3).
	MaxLeaseExpiries int
	// Metrics receives the worker's metrics (claims, running task runs,
	// task durations by state); nil keeps none.
	Metrics prometheus.Registerer
	// Identities gives each task run the variables of its Azure identity
	// endpoint (package taskidentity); nil gives none.
	Identities Identities
	// Masks keeps what the jobs' maskers learn of the secrets they
	// resolve, for the next jobs that resolve them; nil learns them anew
	// in every job.
	Masks *mask.Cache
	// Commands sends commands to existing executions for the tasks that
	// steer them (core.execution.Resume); nil leaves those tasks failing
	// with a message.
	Commands Commands
}

// Commands sends a command to an existing execution through the store
// (store.ExecutionStore.Send), checked first against the execution as it
// is stored; the executor applies it in its next step. A task never
// changes another execution itself: only the executor writes executions.
type Commands interface {
	// Resume asks the executor to resume a PAUSED execution; inputs are the
	// paused tasks' onResume values. It fails at once when the execution
	// is not paused or the inputs do not fit.
	Resume(ctx context.Context, executionID string, inputs map[string]any) error
}

// Identities grants a task run variables for its processes (the Azure
// managed-identity endpoint and its per-run secret header). learn teaches
// the job's masker a secret; log writes to the task run's log. The worker
// calls release when the task run ends.
type Identities interface {
	Grant(ctx context.Context, tr *flow.TaskRun, learn func(secret string), log func(level, msg string)) (env []string, release func())
}

// DefaultMaxLeaseExpiries is Options.MaxLeaseExpiries's default.
const DefaultMaxLeaseExpiries = 3

// Worker is the worker component.
type Worker struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc
	// handBack is set when Stop's deadline passed: the jobs still running
	// are stopped and handed back to the queue, not completed.
	handBack bool
	handErrs []error
	// landlockABI is taskproc.ABI, replaced in tests.
	landlockABI func() (int, error)
	wg          sync.WaitGroup
	slots       chan struct{}
	// freed wakes the claim loop when a thread finishes a job, so a job
	// queued while every thread was busy starts as soon as one is free.
	freed chan struct{}
	// completions stores the results of jobs that end together in one
	// transaction.
	completions completions

	cancel   context.CancelFunc // stops claiming
	done     chan struct{}      // closed when the claim loop has ended
	hbCancel context.CancelFunc // stops the heartbeat, once nothing runs
	hbDone   chan struct{}
	once     sync.Once

	// lastPass is when the claim loop last turned (Unix nanoseconds):
	// liveness reads it to tell a wedged loop from a busy one.
	lastPass atomic.Int64
	metrics  metrics
}

// metrics are the worker's metrics.
type metrics struct {
	claimed  prometheus.Counter
	running  prometheus.Gauge
	duration *prometheus.HistogramVec
	// taskCounter and taskTimer export the metrics tasks report
	// (Kestra.counter, Kestra.timer), by flow, task and metric name.
	taskCounter *prometheus.CounterVec
	taskTimer   *prometheus.HistogramVec
}

// observeTask exports a task run's metrics. Tags are not labels: their
// keys differ from task to task and Prometheus needs fixed label names;
// they stay on the attempt in the execution.
func (m metrics) observeTask(tr *flow.TaskRun, ms []flow.Metric) {
	for _, x := range ms {
		switch x.Type {
		case "counter":
			if x.Value >= 0 {
				m.taskCounter.WithLabelValues(tr.Namespace, tr.FlowID, tr.TaskID, x.Name).Add(x.Value)
			}
		case "timer":
			m.taskTimer.WithLabelValues(tr.Namespace, tr.FlowID, tr.TaskID, x.Name).Observe(x.Value)
		}
	}
}

func newMetrics(reg prometheus.Registerer, threads int) metrics {
	m := metrics{
		claimed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "osprey", Subsystem: "worker",
			Name: "jobs_claimed_total", Help: "Jobs (task run attempts) claimed from the queue."}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "osprey", Subsystem: "worker",
			Name: "jobs_running", Help: "Task runs running now."}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "osprey", Subsystem: "worker",
			Name: "task_duration_seconds", Help: "How long task runs took, by final state.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)}, []string{"state"}),
		taskCounter: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "osprey", Subsystem: "task",
			Name: "counter_total", Help: "Counters reported by task runs (a script's Kestra.counter), summed."},
			[]string{"namespace", "flow_id", "task_id", "metric"}),
		taskTimer: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "osprey", Subsystem: "task",
			Name: "timer_seconds", Help: "Timers reported by task runs (a script's Kestra.timer).",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)}, []string{"namespace", "flow_id", "task_id", "metric"}),
	}
	if reg != nil {
		threadsGauge := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "osprey", Subsystem: "worker",
			Name: "threads", Help: "Task runs this worker runs at once (--worker-thread)."})
		threadsGauge.Set(float64(threads))
		reg.MustRegister(m.claimed, m.running, m.duration, threadsGauge, m.taskCounter, m.taskTimer)
	}
	return m
}

// LastPass is when the worker's claim loop last turned. The loop turns at
// least every Poll while it is healthy, even with every thread busy, so an
// old value means a wedged loop.
func (w *Worker) LastPass() time.Time { return time.Unix(0, w.lastPass.Load()) }

// New returns a worker; Start runs it.
func New(opts Options) *Worker {
	if opts.Threads <= 0 {
		// Most task runs wait on I/O, not the CPU. GOMAXPROCS follows the
		// container's CPU limit, so a pod limited to 2 CPUs on a 16-CPU
		// node gets 16 threads, not 128 (Kestra's "auto" counts the CPUs
		// its JVM may use the same way).
		opts.Threads = 8 * runtime.GOMAXPROCS(0)
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Poll <= 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.MaxLeaseExpiries <= 0 {
		opts.MaxLeaseExpiries = DefaultMaxLeaseExpiries
	}
	if opts.ID == "" {
		opts.ID = "worker-" + flow.NewID()[:8]
	}
	if opts.TmpDir == "" {
		opts.TmpDir = os.TempDir()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Worker{opts: opts, log: log.With("component", "worker"), running: map[string]context.CancelCauseFunc{},
		slots: make(chan struct{}, opts.Threads), freed: make(chan struct{}, 1), metrics: newMetrics(opts.Metrics, opts.Threads)}
	w.lastPass.Store(time.Now().UnixNano())
	return w
}

// Start launches the claim and heartbeat loops and returns.
func (w *Worker) Start(ctx context.Context) error {
	loopCtx, cancel := context.WithCancel(ctx)
	wake, err := w.opts.Store.Queue().Subscribe(loopCtx, store.TopicJobs)
	if err != nil {
		cancel()
		return fmt.Errorf("subscribe to jobs: %w", err)
	}
	// The heartbeat outlives the claim loop: while Stop lets running jobs
	// finish it keeps their leases (so no other worker runs them again)
	// and still delivers their kills.
	hbCtx, hbCancel := context.WithCancel(context.WithoutCancel(ctx))
	kills, err := w.opts.Store.Queue().Subscribe(hbCtx, store.TopicKills)
	if err != nil {
		cancel()
		hbCancel()
		return fmt.Errorf("subscribe to kills: %w", err)
	}
	w.cancel, w.hbCancel = cancel, hbCancel
	w.warnUnconfined(ctx)
	w.done, w.hbDone = make(chan struct{}), make(chan struct{})
	go w.heartbeat(hbCtx, kills)
	go w.loop(loopCtx, wake)
	w.log.InfoContext(ctx, "worker started", "id", w.opts.ID, "threads", w.opts.Threads)
	return nil
}

// Stop stops claiming, then waits for running task runs until ctx ends.
// Those still running then are stopped (their process groups killed) and
// handed back to the queue, so that another worker runs them at once; Stop
// returns an error if one could not be handed back (its job then waits for
// its lease to run out). Call it before closing the store.
func (w *Worker) Stop(ctx context.Context) error {
	w.once.Do(func() {
		if w.cancel != nil {
			w.cancel()
		}
	})
	if w.done == nil {
		return nil
	}
	<-w.done
	defer func() {
		w.hbCancel()
		<-w.hbDone
	}()
	finished := make(chan struct{})
	go func() { w.wg.Wait(); close(finished) }()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
	}
	w.mu.Lock()
	w.handBack = true
	n := len(w.running)
	for _, c := range w.running {
		c(errShutdown)
	}
	w.mu.Unlock()
	w.log.Warn("shutdown grace period over: stopping running task runs and handing their jobs back", "jobs", n)
	// A cancelled task ends as soon as its process group is killed; the
	// bound only guards against a task that ignores its context.
	select {
	case <-finished:
	case <-time.After(handBackWait):
		w.mu.Lock()
		w.handErrs = append(w.handErrs, fmt.Errorf("%d task runs did not stop within %s", len(w.running), handBackWait))
		w.mu.Unlock()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := errors.Join(w.handErrs...); err != nil {
		return fmt.Errorf("hand jobs back: %w", err)
	}
	return nil
}

// errShutdown stops the task runs still running past the shutdown grace
// period; it is a cancellation, so the run ends KILLED and goes back.
var errShutdown = fmt.Errorf("the worker is shutting down and its grace period is over: the task run goes back to the queue: %w", context.Canceled)

// handBackWait bounds the wait for cancelled task runs to end past the
// shutdown grace period.
const handBackWait = 10 * time.Second

// warnUnconfined says at start-up, once, what task processes can reach on
// a kernel that cannot confine them.
func (w *Worker) warnUnconfined(ctx context.Context) {
	if err := taskproc.HardenWorker(); err != nil {
		w.log.WarnContext(ctx, "task processes may read this worker's environment through /proc", "err", err)
	}
	abi := w.landlockABI
	if abi == nil {
		abi = taskproc.ABI
	}
	v, err := abi()
	if v < 1 {
		w.log.WarnContext(ctx, "task processes are not confined: script tasks can read every file this worker's user can, "+
			"the data directory, key files, configuration files and the federated token file included; "+
			"run the worker in a pod of its own with no token projected (docs/task-isolation.md)", "reason", err)
		return
	}
	w.log.InfoContext(ctx, "task processes are confined with Landlock", "abi", v)
}

// loop claims as many jobs as there are free threads, whenever jobs may be
// waiting: at start, on a wake-up (a job was queued), on the poll tick (the
// fallback for a lost wake-up), and when a thread frees up after a claim
// that filled every free thread (more may be queued behind it).
func (w *Worker) loop(ctx context.Context, wake <-chan struct{}) {
	defer close(w.done)
	tick := time.NewTicker(w.opts.Poll)
	defer tick.Stop()
	pending := true // queued jobs may be waiting for a thread
	for {
		w.lastPass.Store(time.Now().UnixNano())
		if free := cap(w.slots) - len(w.slots); free > 0 && pending {
			jobs, err := w.opts.Store.Queue().ClaimJobs(ctx, w.opts.ID, free, w.opts.Lease)
			if err != nil && ctx.Err() == nil {
				w.log.ErrorContext(ctx, "claim jobs", "err", err)
			}
			w.metrics.claimed.Add(float64(len(jobs)))
			for _, j := range jobs {
				w.start(ctx, j)
			}
			// A claim that took fewer than asked emptied the queue; a
			// full one may have left jobs behind.
			pending = err == nil && len(jobs) == free
			if pending {
				continue
			}
		}
		var freed <-chan struct{}
		if pending {
			freed = w.freed
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
			pending = true
		case <-tick.C:
			pending = true
		case <-freed:
		}
	}
}

// start runs claimed job j on a thread the caller checked was free.
func (w *Worker) start(ctx context.Context, j store.Job) {
	w.slots <- struct{}{}
	w.wg.Add(1)
	// Jobs outlive the loop's context: a stopping worker drains them (Stop
	// cancels them past its deadline).
	jctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	if j.Cancel {
		// Killed before it was claimed: the kill's wake-up came before
		// this worker held the job, so no heartbeat would stop it soon.
		// It ends at once.
		cancel(nil)
	}
	w.mu.Lock()
	w.running[j.ID] = cancel
	w.mu.Unlock()
	go w.run(jctx, j)
}

// heartbeat renews the leases of running jobs and stops those that were
// killed, every third of a lease and on every wake-up of the kills topic.
// (It once woke with every job queued: a write of every running job's
// lease for each job, most of the queue's writes at saturation.)
func (w *Worker) heartbeat(ctx context.Context, kills <-chan struct{}) {
	defer close(w.hbDone)
	t := time.NewTicker(w.opts.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-kills:
		}
		w.mu.Lock()
		ids := make([]string, 0, len(w.running))
		for id := range w.running {
			ids = append(ids, id)
		}
		w.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		cancel, err := w.opts.Store.Queue().Heartbeat(ctx, w.opts.ID, ids, w.opts.Lease)
		if err != nil {
			w.log.ErrorContext(ctx, "heartbeat", "err", err)
			continue
		}
		w.mu.Lock()
		for _, id := range cancel {
			if c, ok := w.running[id]; ok {
				c(nil)
			}
		}
		w.mu.Unlock()
	}
}

func (w *Worker) run(ctx context.Context, j store.Job) {
	defer func() {
		w.mu.Lock()
		if c, ok := w.running[j.ID]; ok {
			c(nil)
			delete(w.running, j.ID)
		}
		w.mu.Unlock()
		<-w.slots
		select {
		case w.freed <- struct{}{}:
		default: // the loop has a wake-up pending already
		}
		w.metrics.running.Dec()
		w.wg.Done()
	}()
	w.metrics.running.Inc()
	res, logs := w.execute(ctx, j)
	w.metrics.duration.WithLabelValues(string(res.State)).Observe(res.Ended.Sub(res.Started).Seconds())
	st := w.opts.Store
	w.mu.Lock()
	// A task that ended on its own as the grace period ran out keeps its
	// result; one stopped by it goes back.
	handBack := w.handBack && ctx.Err() != nil && res.State == flow.StateKilled
	w.mu.Unlock()
	if handBack {
		// Stopped by the shutdown, not by a kill: another worker runs
		// it again, as a new attempt.
		if len(logs) > 0 {
			if err := st.Logs().Append(context.WithoutCancel(ctx), logs); err != nil {
				w.log.ErrorContext(ctx, "store task logs", "job", j.ID, "err", err)
			}
		}
		err := st.Queue().Release(context.WithoutCancel(ctx), w.opts.ID, j.ID)
		if err == nil {
			_ = st.Queue().Notify(context.WithoutCancel(ctx), store.TopicJobs)
			w.log.Info("job handed back", "job", j.ID)
			return
		}
		w.mu.Lock()
		w.handErrs = append(w.handErrs, fmt.Errorf("job %s: %w", j.ID, err))
		w.mu.Unlock()
		return
	}
	raw, err := json.Marshal(res)
	if err != nil {
		w.log.ErrorContext(ctx, "encode result", "job", j.ID, "err", err)
		if err := st.Logs().Append(context.WithoutCancel(ctx), logs); err != nil {
			w.log.ErrorContext(ctx, "store task logs", "job", j.ID, "err", err)
		}
		return
	}
	// The result and the lines not stored yet commit together (and the
	// store wakes the executors).
	if err := w.complete(ctx, store.Completion{JobID: j.ID, Result: raw, Logs: logs}); err != nil {
		w.log.WarnContext(ctx, "complete job", "job", j.ID, "err", err)
	}
}

// execute runs one job and returns its result and log lines, masked.
func (w *Worker) execute(ctx context.Context, j store.Job) (res engine.Result, logs []flow.LogEntry) {
	res = engine.Result{TaskRunID: j.TaskRunID, Attempt: j.Attempt, Started: time.Now().UTC(), WorkerID: w.opts.ID, Lost: j.Lost}
	m := mask.Masker{Cache: w.opts.Masks}
	buf := &logBuffer{}
	// Lines are stored as they come, so a follower sees a long task live.
	stopFlush := w.flushLogs(ctx, j, buf)
	defer stopFlush()
	fail := func(msg string) (engine.Result, []flow.LogEntry) {
		res.State = flow.StateFailed
		res.Error = m.Mask(msg)
		res.Ended = time.Now().UTC()
		return res, buf.take()
	}
	var p engine.Payload
	if err := flow.DecodeJSON(j.Payload, &p); err != nil {
		return fail(fmt.Sprintf("unreadable job: %v", err))
	}
	if j.Expired >= w.opts.MaxLeaseExpiries {
		// Not run again: the last lost run is the attempt that fails.
		res.Lost = max(j.Lost-1, 0)
		return fail(fmt.Sprintf("the worker running this task stopped %d times; the task may crash the worker "+
			"(memory or CPU exhausted, a process killed by the system): it is not run again. "+
			"Look at the worker's log and its container's restarts and OOM kills since %s", j.Expired,
			j.Created.UTC().Format(time.RFC3339)))
	}
	if err := w.openInputs(p.Vars, &m); err != nil {
		return fail(err.Error())
	}
	f, err := w.opts.Flows.Get(ctx, p.Namespace, p.FlowID, p.Revision)
	if err != nil {
		return fail(err.Error())
	}
	t := f.FindTask(p.TaskID)
	if t == nil {
		return fail(fmt.Sprintf("task %q not found in %s.%s revision %d", p.TaskID, p.Namespace, p.FlowID, p.Revision))
	}
	r, err := w.opts.Tasks.Runnable(t)
	if err != nil {
		return fail(err.Error())
	}
	tmp := filepath.Join(w.opts.TmpDir, j.ID)
	rc := &RunContext{
		// Lost runs come first in the task run's attempts.
		Task: t, TaskRun: p.TaskRun, Attempt: p.Attempt + j.Lost, Vars: p.Vars, TmpDir: tmp, WorkerID: w.opts.ID, KV: w.opts.Store.KV(), Files: w.opts.Store.Files(), Storage: w.opts.Storage, Logs: w.opts.Store.Logs(),
		Flows: w.opts.Store.Flows(), Triggers: w.opts.Store.Triggers(),
		Executions: w.opts.Store.Executions(), Commands: w.opts.Commands,
		renderer: w.opts.Renderers.ForJob(m.Add), logs: buf, mask: m.Mask, processes: w.opts.Processes,
	}
	defer os.RemoveAll(tmp)
	if t.LogToFile && w.opts.Storage != nil {
		defer w.logToFile(ctx, buf, p.TaskRun, &res, &logs)()
	}
	if w.opts.Identities != nil {
		env, release := w.opts.Identities.Grant(ctx, p.TaskRun, m.Add, rc.Log)
		defer release()
		rc.env = env
	}
	if t.Timeout != "" {
		d, err := flow.ParseDuration(t.Timeout)
		if err != nil {
			return fail(fmt.Sprintf("timeout: %v", err))
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, fmt.Errorf("task %s timed out after %s", t.ID, t.Timeout))
		defer cancel()
	}
	if len(p.Children) > 0 {
		return w.runGroup(ctx, f, p, r, rc, &m, res), buf.take()
	}
	outputs, err := w.runSafe(ctx, r, rc)
	if ctx.Err() != nil {
		// the deadline or the kill explains the failure better than
		// what the task made of its cancelled context
		err = context.Cause(ctx)
	}
	res.Ended = time.Now().UTC()
	for _, l := range rc.labels {
		// labels are stored with the execution and shown by the API
		res.Labels = append(res.Labels, flow.Label{Key: m.Mask(l.Key), Value: m.Mask(l.Value)})
	}
	res.Metrics = rc.maskedMetrics(m.Mask)
	w.metrics.observeTask(rc.TaskRun, res.Metrics)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, context.Canceled) {
			res.State = flow.StateKilled
		} else {
			res.State = flow.StateFailed
		}
		rc.Log("ERROR", msg)
		res.Error = m.Mask(msg)
		return res, buf.take()
	}
	res.State = flow.StateSuccess
	if outputs != nil {
		res.Outputs, _ = m.Value(map[string]any(outputs)).(map[string]any)
	}
	return res, buf.take()
}

// flushLogs stores buf's lines every logFlushEvery until the returned
// function is called; the caller stores what is left.
func (w *Worker) flushLogs(ctx context.Context, j store.Job, buf *logBuffer) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(logFlushEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if lines := buf.take(); len(lines) > 0 {
					if err := w.opts.Store.Logs().Append(context.WithoutCancel(ctx), lines); err != nil {
						w.log.ErrorContext(ctx, "store task logs", "job", j.ID, "err", err)
					}
				}
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// logFlushEvery is how often a running task's log lines are stored.
const logFlushEvery = 250 * time.Millisecond

// openInputs replaces sealed SECRET inputs in vars by their values, in
// memory only, and teaches the job's masker each of them.
func (w *Worker) openInputs(vars map[string]any, m *mask.Masker) error {
	inputs, _ := vars["inputs"].(map[string]any)
	for k, v := range inputs {
		if w.opts.Secrets == nil {
			if mv, ok := ordered.AsMap(v); ok && mv["type"] == seal.Type {
				return fmt.Errorf("input %q is sealed but this worker has no key: set kestra.encryption.secret-key as on the webserver", k)
			}
			continue
		}
		plain, ok, err := w.opts.Secrets.Unwrap(v)
		if err != nil {
			return fmt.Errorf("open SECRET input %q: %w (is kestra.encryption.secret-key the same on every component?)", k, err)
		}
		if ok {
			m.Add(plain)
			inputs[k] = plain
		}
	}
	return nil
}

// runSafe runs r, turning a panic into an error that names the task.
func (w *Worker) runSafe(ctx context.Context, r Runnable, rc *RunContext) (out map[string]any, err error) {
	defer func() {
		if p := recover(); p != nil {
			// The stack goes to the process log, not to the user.
			w.log.ErrorContext(ctx, "task panicked", "task", rc.Task.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("task %s failed unexpectedly (panic: %v); the worker's log has the stack", rc.Task.ID, p)
		}
	}()
	return r.Run(ctx, rc)
}
