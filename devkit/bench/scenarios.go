package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// scenarios lists every scenario; Options pick which run and how long.
func scenarios(o Options) []scenario {
	rates := []int{100, 300}
	if o.Short {
		rates = []int{50}
	}
	var out []scenario
	for _, rate := range rates {
		out = append(out, scenario{
			name: fmt.Sprintf("two-tasks-%d/s", rate), flow: twoTasks, short: true, full: true,
			run: func(ctx context.Context, r *runner, res *Result) ([]sample, error) {
				var t tally
				skipped := fixedRate(ctx, r.c, "two_tasks", rate, r.opts.Duration, 30*time.Second, 2000, &t)
				if skipped > 0 {
					res.Note = fmt.Sprintf("%d submissions skipped: 2,000 were waiting", skipped)
				}
				return t.samples, nil
			},
		})
	}
	out = append(out,
		scenario{name: "two-tasks-saturation", flow: twoTasks, short: true, full: true,
			run: func(ctx context.Context, r *runner, res *Result) ([]sample, error) {
				var t tally
				closedLoop(ctx, r.c, "two_tasks", r.opts.Clients, r.opts.Duration, 1_000_000, &t)
				res.Note = fmt.Sprintf("%d clients, each waiting for its execution's end before the next", r.opts.Clients)
				return t.samples, nil
			}},
		scenario{name: "ten-ifs", flow: tenIfs(), short: true, full: true,
			run: func(ctx context.Context, r *runner, res *Result) ([]sample, error) {
				var t tally
				closedLoop(ctx, r.c, "ten_ifs", 8, r.opts.Duration, 1_000_000, &t)
				res.Note = "8 clients"
				return t.samples, nil
			}},
		scenario{name: "chain-40", flow: chain(40), short: true, full: true,
			run: func(ctx context.Context, r *runner, res *Result) ([]sample, error) {
				var t tally
				closedLoop(ctx, r.c, "chain_40", 1, r.opts.Duration, 1_000_000, &t)
				res.Note = "1 client: the latency of 40 hand-offs"
				return t.samples, nil
			}},
		scenario{name: "three-secrets", flow: threeSecrets, short: true, full: true,
			run: func(ctx context.Context, r *runner, res *Result) ([]sample, error) {
				var t tally
				closedLoop(ctx, r.c, "three_secrets", 4, r.opts.Duration, 1_000_000, &t)
				res.Note = "4 clients; secret() against the local Key Vault over HTTPS"
				return t.samples, nil
			}},
		scenario{name: "log-follow", flow: logLines, short: true, full: true, run: runLogFollow},
		forEachScenario(100, true, true),
		forEachScenario(1_000, true, false),
		forEachScenario(10_000, false, true),
		forEachScenario(100_000, false, true),
	)
	return out
}

// forEachScenario runs ForEach over n values: a few times for small n,
// once for large n, bounded by Options.Timeout, with a two-task execution
// submitted every second meanwhile to show whether the wide one starves
// the rest.
func forEachScenario(n int, short, full bool) scenario {
	id := fmt.Sprintf("foreach_%d", n)
	return scenario{name: fmt.Sprintf("foreach-%d", n), flow: forEach(n), short: short, full: full,
		run: func(ctx context.Context, r *runner, res *Result) ([]sample, error) {
			if n <= 1000 {
				var t tally
				closedLoop(ctx, r.c, id, 1, r.opts.Duration, 20, &t)
				res.Note = "1 client"
				return t.samples, nil
			}
			return runWide(ctx, r, id, n, res)
		}}
}

// runWide runs one wide execution to its end or the timeout, and two-task
// executions beside it. It waits with ?wait=true, as a user would: polling
// the execution would cost the server more than the execution itself.
func runWide(ctx context.Context, r *runner, id string, n int, res *Result) ([]sample, error) {
	var side tally
	sideCtx, stopSide := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for sideCtx.Err() == nil {
			select {
			case <-sideCtx.Done():
			case <-time.After(time.Second):
				submit(sideCtx, r.c, "two_tasks", &side)
			}
		}
	}()
	began := time.Now()
	wctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	last, err := r.c.run(wctx, id, true)
	cancel()
	took := time.Since(began)
	stopSide()
	wg.Wait()
	r.stored++
	res.Executions, res.Seconds = 1, took.Seconds()
	res.P50Millis, res.P95Millis, res.P99Millis, res.MaxMillis = millis(took), millis(took), millis(took), millis(took)
	switch {
	case err != nil && wctx.Err() != nil && ctx.Err() == nil:
		// Out of time: find it, say how far it got, and kill it.
		res.Failed = 1
		found, ferr := r.c.latest(ctx, id)
		if ferr != nil {
			return nil, ferr
		}
		res.TaskRuns = len(found.TaskRunList)
		res.Note = fmt.Sprintf("did not end within %s: %d of %d task runs created, %d succeeded, state %s; killed",
			r.opts.Timeout, len(found.TaskRunList), n+1, found.succeeded(), found.State.Current)
		_ = r.c.kill(ctx, found.ID)
	case err != nil:
		return nil, err
	default:
		res.TaskRuns = len(last.TaskRunList)
		if last.State.Current != "SUCCESS" {
			res.Failed = 1
			res.Note = "ended " + last.State.Current
			if why := last.reason(); why != "" {
				res.Note += ": " + why
			}
		}
	}
	lat := latencies(side.samples)
	if len(lat) > 0 {
		res.Note = strings.TrimPrefix(fmt.Sprintf("%s; meanwhile %d two-task executions took p50 %.1f ms, max %.1f ms",
			res.Note, len(lat), millis(percentile(lat, 50)), millis(percentile(lat, 100))), "; ")
	}
	return nil, nil
}

// runLogFollow follows the logs of executions that log three lines while
// they run and measures each line's delay from its timestamp to its SSE
// event: the worker stores a Log task's line as the task ends, so the delay
// is storage plus push.
func runLogFollow(ctx context.Context, r *runner, res *Result) ([]sample, error) {
	stop := time.Now().Add(max(r.opts.Duration, 2*time.Second))
	var lags []time.Duration
	for time.Now().Before(stop) && ctx.Err() == nil {
		e, err := r.c.run(ctx, "log_lines", false)
		if err != nil {
			return nil, err
		}
		ch := make(chan time.Duration, 16)
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = r.c.followLogs(fctx, e.ID, ch)
		cancel()
		close(ch)
		if err != nil {
			return nil, err
		}
		for l := range ch {
			lags = append(lags, l)
		}
		res.Executions++
		res.TaskRuns += 6
	}
	r.stored += res.Executions
	samples := make([]sample, len(lags))
	for i, l := range lags {
		samples[i] = sample{latency: l, ok: true}
	}
	res.Note = fmt.Sprintf("%d log lines: latency is line timestamp → SSE event", len(lags))
	lat := latencies(samples)
	res.P50Millis, res.P95Millis = millis(percentile(lat, 50)), millis(percentile(lat, 95))
	res.P99Millis, res.MaxMillis = millis(percentile(lat, 99)), millis(percentile(lat, 100))
	return samples, nil
}
