// Command soak is Osprey's soak benchmark: several workers, two executors,
// two schedulers and a webserver, each a real process of the built binary
// on one real PostgreSQL, take a steady rate of executions for a while
// (plus a schedule firing every second) while one process is killed with
// SIGKILL and started again at every interval, round robin over the roles.
// At the end it reports what was completed and lost, task runs that ran
// more often than their attempts say, the schedule's ticks, submit→end
// latency and each process's memory, as a table and as JSON.
//
//	go run ./tests/e2e/soak                          # 10 minutes at 20/s
//	go run ./tests/e2e/soak -duration 20s -kill-every 4s -rate 5   # the CI smoke run
//
// Everything listens on 127.0.0.1. Without -dsn it starts its own
// PostgreSQL from the machine's binaries (as the tests do; run as root, it
// runs PostgreSQL as the postgres user). It exits 1 when an execution was
// lost, a task run ran beyond its attempts or a tick fired twice or was
// lost. It is not part of `go test ./...`: it runs for minutes, by design.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ospreyhq/osprey/devkit/pgtest"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/tests/e2e/cluster"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type config struct {
	duration, killEvery, restartDelay, drain time.Duration
	rate                                     float64
	workers, threads                         int
	dsn, bin, dir, jsonOut                   string
}

func run(args []string, stdout, stderr io.Writer) int {
	var c config
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&c.duration, "duration", 10*time.Minute, "how long executions are submitted")
	fs.Float64Var(&c.rate, "rate", 20, "executions submitted per second")
	fs.DurationVar(&c.killEvery, "kill-every", time.Minute, "one process is killed with SIGKILL at this interval (0: never)")
	fs.DurationVar(&c.restartDelay, "restart-delay", 2*time.Second, "how long a killed process stays down")
	fs.DurationVar(&c.drain, "drain", 3*time.Minute, "how long to wait, after the last submission, for every execution to end")
	fs.IntVar(&c.workers, "workers", 3, "worker processes")
	fs.IntVar(&c.threads, "worker-thread", 8, "--worker-thread of each worker")
	fs.StringVar(&c.dsn, "dsn", "", "PostgreSQL database to use (default: start a PostgreSQL of its own)")
	fs.StringVar(&c.bin, "bin", "", "osprey binary (default: build ./cmd/osprey)")
	fs.StringVar(&c.dir, "dir", "", "where process logs and the ledger go (default: a new temporary directory, removed when the run holds)")
	fs.StringVar(&c.jsonOut, "json", "", "also write the JSON report to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if c.rate <= 0 || c.duration <= 0 || c.workers < 1 {
		fmt.Fprintln(stderr, "soak: -rate and -duration must be positive and -workers at least 1")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := soak(ctx, c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "soak:", err)
		return 1
	}
	rep.table(stdout)
	raw, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Fprintln(stdout, string(raw))
	if c.jsonOut != "" {
		if err := os.WriteFile(c.jsonOut, append(raw, '\n'), 0o644); err != nil {
			fmt.Fprintln(stderr, "soak:", err)
			return 1
		}
	}
	if !rep.OK {
		fmt.Fprintln(stderr, "soak: FAILED:", rep.Problems)
		return 1
	}
	return 0
}

const namespace = "soak"

// Report is the soak benchmark's result.
type Report struct {
	Duration      string  `json:"duration"`
	Rate          float64 `json:"rate_per_second"`
	AchievedRate  float64 `json:"achieved_rate_per_second"`
	Topology      string  `json:"topology"`
	Kills         []Kill  `json:"kills"`
	Submitted     int     `json:"submitted"`
	Refused       int     `json:"refused_attempts"`
	Completed     int     `json:"completed"`
	Succeeded     int     `json:"succeeded"`
	Lost          int     `json:"lost"`
	Unacked       int     `json:"created_but_unacknowledged"`
	TaskRuns      int     `json:"task_runs"`
	DuplicateRuns int     `json:"duplicate_runs"`
	Ticks         int     `json:"ticks"`
	LatencyP50    float64 `json:"latency_p50_seconds"`
	LatencyP99    float64 `json:"latency_p99_seconds"`
	LatencyMax    float64 `json:"latency_max_seconds"`
	// MaxLimited is the most executions of the flow limited to 4 at once
	// that ran at the same time.
	MaxLimited int       `json:"max_concurrent_limited"`
	Processes  []ProcRSS `json:"processes"`
	Problems   []string  `json:"problems"`
	OK         bool      `json:"ok"`
	Dir        string    `json:"dir"`
}

// Kill is one process killed during the run.
type Kill struct {
	At      string `json:"at"`
	Process string `json:"process"`
}

// ProcRSS is one process's resident memory at the start and the end, and
// the processor time it used meanwhile (since its last restart, if it was
// restarted).
type ProcRSS struct {
	Name     string  `json:"name"`
	Restarts int     `json:"restarts"`
	StartMB  float64 `json:"rss_start_mb"`
	EndMB    float64 `json:"rss_end_mb"`
	CPU      float64 `json:"cpu_seconds"`
}

func (r *Report) table(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "topology\t%s\n", r.Topology)
	fmt.Fprintf(tw, "load\t%s at %.0f/s (achieved %.1f/s), %d processes killed with SIGKILL\n", r.Duration, r.Rate, r.AchievedRate, len(r.Kills))
	fmt.Fprintf(tw, "submitted\t%d (refused attempts, retried: %d)\n", r.Submitted, r.Refused)
	fmt.Fprintf(tw, "completed\t%d (SUCCESS %d)\n", r.Completed, r.Succeeded)
	fmt.Fprintf(tw, "lost\t%d\n", r.Lost)
	fmt.Fprintf(tw, "duplicate runs\t%d of %d task runs\n", r.DuplicateRuns, r.TaskRuns)
	fmt.Fprintf(tw, "schedule ticks\t%d (every second)\n", r.Ticks)
	fmt.Fprintf(tw, "limited flow\tat most %d running at once (limit 4)\n", r.MaxLimited)
	fmt.Fprintf(tw, "submit→end latency\tp50 %.3fs  p99 %.3fs  max %.3fs\n", r.LatencyP50, r.LatencyP99, r.LatencyMax)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "process\trestarts\tRSS start\tRSS end\tCPU (since last start)")
	for _, p := range r.Processes {
		fmt.Fprintf(tw, "%s\t%d\t%.1f MB\t%.1f MB\t%.1f s\n", p.Name, p.Restarts, p.StartMB, p.EndMB, p.CPU)
	}
	_ = tw.Flush() // the terminal: nobody to tell
}

// submission is one execution the load sent.
type submission struct {
	seq  int
	id   string
	sent time.Time
}

func soak(ctx context.Context, c config, logw io.Writer) (rep *Report, err error) {
	logf := func(format string, args ...any) {
		fmt.Fprintf(logw, "%s soak: %s\n", time.Now().Format(time.TimeOnly), fmt.Sprintf(format, args...))
	}
	if c.dir == "" {
		d, err := os.MkdirTemp("", "osprey-soak-")
		if err != nil {
			return nil, err
		}
		c.dir = d
		// A run that held is not worth its logs; one that failed keeps
		// them for whoever looks into it.
		defer func() {
			if rep != nil && rep.OK {
				_ = os.RemoveAll(d)
				rep.Dir = "(removed: the run held)"
			}
		}()
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, err
	}
	// Every task run tells it that it runs, over loopback HTTP.
	ledger, err := cluster.NewLedger(filepath.Join(c.dir, "ledger"))
	if err != nil {
		return nil, err
	}
	defer func() { _ = ledger.Close() }() // the marks are read before
	if c.bin == "" {
		logf("building ./cmd/osprey")
		bin, err := cluster.Build(ctx, c.dir)
		if err != nil {
			return nil, err
		}
		defer func() { _ = os.Remove(bin) }()
		c.bin = bin
	}
	pg := "the PostgreSQL at -dsn"
	if c.dsn == "" {
		pg = "PostgreSQL started from the machine's binaries (fsync off)"
		logf("starting PostgreSQL")
		srv, err := pgtest.NewServer()
		if err != nil {
			return nil, fmt.Errorf("start PostgreSQL: %w (or pass -dsn)", err)
		}
		defer srv.Close()
		if c.dsn, err = srv.CreateDatabase(ctx, "soak"); err != nil {
			return nil, err
		}
	}
	cl, err := cluster.New(cluster.Options{Binary: c.bin, DSN: c.dsn, Dir: c.dir, WorkerThreads: c.threads})
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	roles := []string{cluster.Webserver, cluster.Executor, cluster.Executor, cluster.Scheduler, cluster.Scheduler}
	for range c.workers {
		roles = append(roles, cluster.Worker)
	}
	for _, r := range roles {
		if _, err := cl.Start(r); err != nil {
			return nil, err
		}
	}
	api := cl.API()
	readyCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
	err = api.WaitReady(readyCtx)
	if err == nil {
		err = cl.WaitStarted(readyCtx)
	}
	cancel()
	if err != nil {
		return nil, err
	}
	for id, src := range map[string]string{"work": workFlow(ledger), "limited": limitedFlow(ledger), "tick": tickFlow(ledger, false)} {
		if err := api.PutFlow(ctx, namespace, id, src); err != nil {
			return nil, fmt.Errorf("store flow %s: %w", id, err)
		}
	}
	time.Sleep(2 * time.Second) // every process up and past its first passes
	rep = &Report{
		Duration: c.duration.String(), Rate: c.rate, Dir: c.dir,
		Topology: fmt.Sprintf("1 webserver, 2 executors, 2 schedulers, %d workers × %d threads; %s", c.workers, c.threads, pg),
	}
	startRSS := map[string]int64{}
	startCPU := map[string]time.Duration{}
	for _, p := range cl.Procs() {
		if rss, err := p.RSS(); err == nil {
			startRSS[p.Name] = rss
		}
		if cpu, err := p.CPU(); err == nil {
			startCPU[p.Name] = cpu
		}
	}
	logf("%d processes up, logs in %s; submitting %.0f/s for %s", len(cl.Procs()), c.dir, c.rate, c.duration)

	// The killer: one process every interval, round robin over roles and
	// over the instances of each role.
	loadCtx, stopLoad := context.WithTimeout(ctx, c.duration)
	defer stopLoad()
	var killWG sync.WaitGroup
	var killsMu sync.Mutex
	if c.killEvery > 0 {
		killWG.Add(1)
		go func() {
			defer killWG.Done()
			order := []string{cluster.Worker, cluster.Executor, cluster.Scheduler, cluster.Webserver}
			next := map[string]int{}
			t := time.NewTicker(c.killEvery)
			defer t.Stop()
			for i := 0; ; i++ {
				select {
				case <-loadCtx.Done():
					return
				case <-t.C:
				}
				role := order[i%len(order)]
				procs := cl.Role(role)
				p := procs[next[role]%len(procs)]
				next[role]++
				if err := p.Kill(); err != nil {
					logf("kill %s: %v", p.Name, err)
				}
				logf("killed %s (pid %d) with SIGKILL", p.Name, p.PID())
				killsMu.Lock()
				rep.Kills = append(rep.Kills, Kill{At: time.Now().UTC().Format(time.RFC3339), Process: p.Name})
				killsMu.Unlock()
				time.Sleep(c.restartDelay)
				if err := p.Restart(); err != nil {
					logf("restart %s: %v", p.Name, err)
				}
			}
		}()
	}

	// The load: one submission per 1/rate, each retried until accepted
	// (a killed webserver refuses for a few seconds).
	var (
		mu    sync.Mutex
		subs  []submission
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 64)
		began = time.Now()
	)
	interval := time.Duration(float64(time.Second) / c.rate)
	tick := time.NewTicker(interval)
	seq := 0
load:
	for {
		select {
		case <-loadCtx.Done():
			break load
		case <-tick.C:
		}
		seq++
		flowID := "work"
		if seq%10 == 0 {
			flowID = "limited"
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(seq int, flowID string) {
			defer func() { <-sem; wg.Done() }()
			for attempt := 0; ; attempt++ {
				sent := time.Now()
				sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				id, err := api.Submit(sctx, namespace, flowID, "soak.seq:"+strconv.Itoa(seq))
				cancel()
				if err == nil {
					mu.Lock()
					subs = append(subs, submission{seq: seq, id: id, sent: sent})
					mu.Unlock()
					return
				}
				mu.Lock()
				rep.Refused++
				mu.Unlock()
				if ctx.Err() != nil || attempt > 60 {
					logf("submission %d given up: %v", seq, err)
					return
				}
				time.Sleep(500 * time.Millisecond)
			}
		}(seq, flowID)
	}
	tick.Stop()
	wg.Wait()
	loadTime := time.Since(began)
	killWG.Wait()
	rep.Submitted = len(subs)
	rep.AchievedRate = float64(len(subs)) / loadTime.Seconds()
	logf("submitted %d in %s; stopping the schedule and waiting up to %s for every execution to end", len(subs), loadTime.Round(time.Second), c.drain)
	// The last process killed may be the webserver, still starting.
	readyCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 90*time.Second)
	err = api.WaitReady(readyCtx)
	cancel()
	if err == nil {
		err = api.PutFlow(context.WithoutCancel(ctx), namespace, "tick", tickFlow(ledger, true))
	}
	if err != nil {
		return nil, fmt.Errorf("disable the schedule: %w", err)
	}

	// Drain: wait until nothing is left running.
	var exs []*flow.Execution
	deadline := time.Now().Add(c.drain)
	for {
		exs, err = api.Executions(context.WithoutCancel(ctx), namespace, "")
		open := 0
		if err == nil {
			for _, ex := range exs {
				if !cluster.Terminal(ex) {
					open++
				}
			}
			if open == 0 && len(exs) >= len(subs) {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			logf("drain ended with %d executions still open (err %v)", open, err)
			break
		}
		time.Sleep(2 * time.Second)
	}

	for _, p := range cl.Procs() {
		pr := ProcRSS{Name: p.Name, Restarts: p.Restarts(), StartMB: mb(startRSS[p.Name])}
		if rss, err := p.RSS(); err == nil {
			pr.EndMB = mb(rss)
		}
		if cpu, err := p.CPU(); err == nil {
			if p.Restarts() == 0 {
				cpu -= startCPU[p.Name]
			}
			pr.CPU = cpu.Seconds()
		}
		rep.Processes = append(rep.Processes, pr)
	}
	judge(rep, exs, subs, ledger.Marks())
	return rep, nil
}

// judge fills the report's counts and problems from the executions the API
// lists, the submissions and the ledger.
func judge(rep *Report, exs []*flow.Execution, subs []submission, marks []cluster.Mark) {
	byID := map[string]*flow.Execution{}
	bySeq := map[string][]*flow.Execution{}
	var ticks []*flow.Execution
	for _, ex := range exs {
		byID[ex.ID] = ex
		if ex.FlowID == "tick" {
			ticks = append(ticks, ex)
		}
		if s := cluster.Label(ex, "soak.seq"); s != "" {
			bySeq[s] = append(bySeq[s], ex)
		}
	}
	acked := map[string]bool{}
	var lat []time.Duration
	for _, s := range subs {
		acked[s.id] = true
		ex := byID[s.id]
		if ex == nil || !cluster.Terminal(ex) {
			rep.Lost++
			state := "missing"
			if ex != nil {
				state = string(ex.State.Current)
			}
			rep.Problems = append(rep.Problems, fmt.Sprintf("execution %s (submission %d) did not end: %s", s.id, s.seq, state))
			continue
		}
		rep.Completed++
		if ex.State.Current == flow.StateSuccess {
			rep.Succeeded++
		}
		if end := ex.State.EndDate; end != nil {
			lat = append(lat, end.Sub(s.sent))
		} else if n := len(ex.State.Histories); n > 0 {
			lat = append(lat, ex.State.Histories[n-1].Date.Sub(s.sent))
		}
	}
	for _, ex := range exs {
		// a submission whose answer was lost but whose execution was created
		if ex.FlowID != "tick" && !acked[ex.ID] {
			rep.Unacked++
			if !cluster.Terminal(ex) {
				rep.Problems = append(rep.Problems, fmt.Sprintf("unacknowledged execution %s did not end", ex.ID))
			}
		}
	}
	chk := cluster.Check(exs, marks)
	rep.TaskRuns, rep.DuplicateRuns = chk.Runs, chk.Duplicates
	rep.Problems = append(rep.Problems, chk.Problems...)
	dates, tickProblems := cluster.Ticks(ticks, time.Second)
	rep.Ticks = len(dates)
	rep.Problems = append(rep.Problems, tickProblems...)
	rep.MaxLimited = cluster.MaxConcurrent(marks, "limited")
	if rep.MaxLimited > 4 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("the limited flow ran %d at once, over its limit of 4", rep.MaxLimited))
	}
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		rep.LatencyP50 = lat[n/2].Seconds()
		rep.LatencyP99 = lat[min(n-1, n*99/100)].Seconds()
		rep.LatencyMax = lat[n-1].Seconds()
	}
	rep.OK = len(rep.Problems) == 0
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// The flows: a shell task tells the ledger it runs, so a run the store
// forgot is still counted.
func workFlow(ledger *cluster.Ledger) string {
	return fmt.Sprintf(`id: work
namespace: soak
tasks:
  - id: mark
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - %s
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "done {{ execution.id }}"
`, strconv.Quote(ledger.MarkCommand("start")))
}

func limitedFlow(ledger *cluster.Ledger) string {
	return fmt.Sprintf(`id: limited
namespace: soak
concurrency:
  limit: 4
  behavior: QUEUE
tasks:
  - id: mark
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - %s
      - sleep 0.2
      - %s
`, strconv.Quote(ledger.MarkCommand("start")), strconv.Quote(ledger.MarkCommand("end")))
}

func tickFlow(ledger *cluster.Ledger, disabled bool) string {
	return fmt.Sprintf(`id: tick
namespace: soak
triggers:
  - id: every-second
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "* * * * * *"
    withSeconds: true
    recoverMissedSchedules: ALL
    disabled: %t
tasks:
  - id: mark
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - %s
`, disabled, strconv.Quote(ledger.MarkCommand("start")))
}
