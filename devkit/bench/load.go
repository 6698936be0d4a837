package bench

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// sample is what one submitted execution gave.
type sample struct {
	latency  time.Duration // submit → end as the client saw it
	taskRuns int
	ok       bool // ended in SUCCESS
	err      error
}

// tally collects samples from concurrent submitters.
type tally struct {
	mu       sync.Mutex
	samples  []sample
	firstErr error
}

func (t *tally) add(s sample) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.samples = append(t.samples, s)
	if s.err != nil && t.firstErr == nil {
		t.firstErr = s.err
	}
}

// submit runs one execution of flowID with ?wait=true and records it.
func submit(ctx context.Context, c *client, flowID string, t *tally) {
	began := time.Now()
	e, err := c.run(ctx, flowID, true)
	s := sample{latency: time.Since(began), err: err}
	if err == nil {
		s.taskRuns = len(e.TaskRunList)
		s.ok = e.State.Current == "SUCCESS"
	}
	t.add(s)
}

// fixedRate submits rate executions a second for d (open loop: a slow
// answer does not slow the next submission), at most inflight at once,
// then waits up to grace for the last answers. It returns how many it
// could not send because inflight were already waiting.
func fixedRate(ctx context.Context, c *client, flowID string, rate int, d, grace time.Duration, inflight int, t *tally) int {
	total := int(float64(rate) * d.Seconds())
	interval := time.Duration(float64(time.Second) / float64(rate))
	sem := make(chan struct{}, inflight)
	var wg sync.WaitGroup
	reqCtx, cancel := context.WithTimeout(ctx, d+grace)
	defer cancel()
	start := time.Now()
	skipped := 0
	for i := range total {
		// Pace by the schedule, not by the last send, so no drift builds up.
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			select {
			case <-ctx.Done():
				return skipped
			case <-time.After(wait):
			}
		}
		select {
		case sem <- struct{}{}:
		default:
			skipped++
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			submit(reqCtx, c, flowID, t)
		}()
	}
	wg.Wait()
	return skipped
}

// closedLoop keeps workers clients each submitting the next execution as
// soon as the last one ended, for d or until max executions were sent.
func closedLoop(ctx context.Context, c *client, flowID string, workers int, d time.Duration, maxCount int, t *tally) {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	stop := time.Now().Add(d)
	var sent atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) && ctx.Err() == nil && sent.Add(1) <= int64(maxCount) {
				submit(ctx, c, flowID, t)
			}
		}()
	}
	wg.Wait()
}

// percentile returns the p-th percentile (0–100) of sorted durations,
// nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// latencies returns the sorted latencies of the successful samples.
func latencies(samples []sample) []time.Duration {
	out := make([]time.Duration, 0, len(samples))
	for _, s := range samples {
		if s.err == nil {
			out = append(out, s.latency)
		}
	}
	slices.Sort(out)
	return out
}
