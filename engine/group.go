package engine

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"time"

	"github.com/ospreyhq/osprey/flow"
)

// Sequential runs tasks one after the other under parent (nil: the
// execution's top level), then errors if one failed, then finally. Child
// task runs inherit the parent's loop value, as Kestra's do.
func (s *Scope) Sequential(parent *flow.TaskRun, tasks, errs, finally []*flow.Task) Outcome {
	return s.List(parent, inherited(parent), nil, tasks, errs, finally, 1)
}

// Parallel runs tasks at once, at most concurrent at a time (0: no limit).
func (s *Scope) Parallel(parent *flow.TaskRun, tasks, errs, finally []*flow.Task, concurrent int) Outcome {
	return s.List(parent, inherited(parent), nil, tasks, errs, finally, concurrent)
}

func inherited(parent *flow.TaskRun) string {
	if parent == nil {
		return ""
	}
	return parent.Value
}

// List runs tasks under parent with the given loop value, concurrency at
// a time (1: sequential, 0: all at once); when one fails it runs errs,
// then finally in every case. The outcome is the worst state of the main
// tasks (errors handled or not, a failure stays a failure, as in Kestra)
// and of the finally tasks.
func (s *Scope) List(parent *flow.TaskRun, value string, iteration *int, tasks, errs, finally []*flow.Task, concurrency int) Outcome {
	st, done := s.Block(parent, value, iteration, tasks, concurrency)
	if !done {
		return Outcome{}
	}
	if st == flow.StateFailed && hasEnabled(errs) {
		if _, done := s.Block(parent, value, iteration, errs, 1); !done {
			return Outcome{}
		}
	}
	if hasEnabled(finally) {
		fst, done := s.Block(parent, value, iteration, finally, 1)
		if !done {
			return Outcome{}
		}
		st = Worst(st, fst)
	}
	return Outcome{Done: true, State: st}
}

// Block starts what may start of tasks under parent/value and reports the
// worst state once every started task run has ended. After a failure no
// new task starts.
func (s *Scope) Block(parent *flow.TaskRun, value string, iteration *int, tasks []*flow.Task, concurrency int) (flow.State, bool) {
	worst := flow.StateSuccess
	running := 0
	for _, t := range tasks {
		if t.Disabled {
			continue
		}
		tr := s.Run(parent, t.ID, value, iteration)
		if tr == nil {
			if worst == flow.StateFailed || worst == flow.StateKilled {
				continue
			}
			if concurrency > 0 && running >= concurrency {
				break
			}
			tr = s.Create(t, parent, value, iteration)
		}
		if !tr.State.Current.IsTerminal() {
			running++
			continue
		}
		worst = Worst(worst, tr.State.Current)
	}
	if running > 0 {
		return "", false
	}
	return worst, true
}

func hasEnabled(ts []*flow.Task) bool {
	for _, t := range ts {
		if !t.Disabled {
			return true
		}
	}
	return false
}

var severity = map[flow.State]int{
	flow.StateSuccess: 0,
	flow.StateSkipped: 0,
	flow.StateWarning: 1,
	flow.StateFailed:  2,
	flow.StateKilled:  3,
}

// Worst returns the more severe of two terminal states
// (SUCCESS < WARNING < FAILED < KILLED; SKIPPED counts as SUCCESS).
func Worst(a, b flow.State) flow.State {
	if severity[b] > severity[a] {
		return b
	}
	if a == flow.StateSkipped {
		return flow.StateSuccess
	}
	return a
}

// retryPolicy is the retry policy of t, run as tr: its own, else the
// nearest parent task's (as Kestra looks one up), else the flow's.
func (s *Scope) retryPolicy(t *flow.Task, tr *flow.TaskRun) map[string]any {
	if len(t.Retry) > 0 {
		return t.Retry
	}
	for p := s.byID[tr.ParentTaskRunID]; p != nil; p = s.byID[p.ParentTaskRunID] {
		if pt := s.findTask(p.TaskID); pt != nil && len(pt.Retry) > 0 {
			return pt.Retry
		}
	}
	return s.flow.Retry
}

// retriesExecution reports whether policy p retries by creating a new
// execution rather than a new attempt of the task.
func retriesExecution(p map[string]any) bool {
	b, _ := p["behavior"].(string)
	return b == "CREATE_NEW_EXECUTION"
}

// nextRetry decides whether a failed attempt of tr is retried and when,
// from policy p: the attempts counted are the task run's.
func (s *Scope) nextRetry(p map[string]any, tr *flow.TaskRun) (time.Time, bool) {
	var first time.Time
	if len(tr.Attempts) > 0 {
		first = tr.Attempts[0].State.Histories[0].Date
	}
	return s.retryDate(p, len(tr.Attempts), first)
}

// nextExecutionRetry decides whether the execution is retried as a new
// execution (CREATE_NEW_EXECUTION) and when: the attempts counted are the
// executions of the chain (metadata.attemptNumber), and maxDuration runs
// from the first one's creation.
func (s *Scope) nextExecutionRetry(p map[string]any) (time.Time, bool) {
	attempts := 1
	var first time.Time
	if len(s.exec.State.Histories) > 0 {
		first = s.exec.State.Histories[0].Date
	}
	if m := s.exec.Metadata; m != nil {
		attempts = max(m.AttemptNumber, 1)
		if m.OriginalCreatedDate != nil {
			first = *m.OriginalCreatedDate
		}
	}
	return s.retryDate(p, attempts, first)
}

// retryDate applies Kestra's retry policy (constant, exponential, random)
// after the given number of attempts, the first of which started at first.
func (s *Scope) retryDate(p map[string]any, attempts int, first time.Time) (time.Time, bool) {
	return retryAt(p, attempts, first, s.now)
}

// RetryAt is when policy p runs the next attempt of a task that failed
// attempts times, the first started at first, as of now; false when p
// retries no more. A group's worker retries its children with it.
func RetryAt(p map[string]any, attempts int, first, now time.Time) (time.Time, bool) {
	if retriesExecution(p) {
		return time.Time{}, false
	}
	return retryAt(p, attempts, first, now)
}

func retryAt(p map[string]any, attempts int, first, now time.Time) (time.Time, bool) {
	if len(p) == 0 {
		return time.Time{}, false
	}
	if max := intOf(p["maxAttempt"]); max > 0 && attempts >= max {
		return time.Time{}, false
	} else if max == 0 && p["maxDuration"] == nil {
		return time.Time{}, false
	}
	interval := durOf(p["interval"])
	switch p["type"] {
	case "exponential":
		factor := floatOf(p["delayFactor"], 2)
		interval = time.Duration(float64(interval) * math.Pow(factor, float64(attempts-1)))
		if maxI := durOf(p["maxInterval"]); maxI > 0 && interval > maxI {
			interval = maxI
		}
	case "random":
		// Kestra draws each wait between minInterval and maxInterval.
		lo, hi := durOf(p["minInterval"]), durOf(p["maxInterval"])
		interval = lo
		if hi > lo {
			interval = lo + time.Duration(rand.Int64N(int64(hi-lo)))
		}
	}
	next := now.Add(interval)
	if maxD := durOf(p["maxDuration"]); maxD > 0 && !first.IsZero() && next.Sub(first) > maxD {
		return time.Time{}, false
	}
	return next, true
}

func intOf(v any) int {
	switch v := v.(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	case json.Number: // a policy carried in a job's payload
		n, _ := v.Float64()
		return int(n)
	}
	return 0
}

func floatOf(v any, def float64) float64 {
	switch v := v.(type) {
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case float64:
		return v
	case json.Number:
		if n, err := v.Float64(); err == nil {
			return n
		}
	}
	return def
}

func durOf(v any) time.Duration {
	str, _ := v.(string)
	d, _ := flow.ParseDuration(str)
	return d
}
