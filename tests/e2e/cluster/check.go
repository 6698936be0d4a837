package cluster

import (
	"fmt"
	"slices"
	"time"

	"github.com/ospreyhq/osprey/flow"
)

// Report is what the checks found over a set of executions.
type Report struct {
	Executions int
	Ended      int
	// Runs counts the marks of event "start"; Duplicates those beyond
	// their task run's attempts.
	Runs       int
	Duplicates int
	// Problems says what broke, one line each; empty when all holds.
	Problems []string
}

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Check verifies that every execution ended and that no task run ran (as
// the ledger's "start" marks say) more often than its attempts. Marks of
// executions outside exs are problems too: a task ran for an execution the
// API does not know.
func Check(exs []*flow.Execution, marks []Mark) Report {
	r := Report{Executions: len(exs)}
	byID := map[string]*flow.Execution{}
	for _, ex := range exs {
		byID[ex.ID] = ex
		if Terminal(ex) {
			r.Ended++
		} else {
			r.problem("execution %s of %s.%s did not end: %s", ex.ID, ex.Namespace, ex.FlowID, ex.State.Current)
		}
	}
	runs := map[string]int{}
	exOf := map[string]string{}
	for _, m := range marks {
		if m.Event != "start" {
			continue
		}
		r.Runs++
		runs[m.TaskRun]++
		exOf[m.TaskRun] = m.Execution
	}
	ids := make([]string, 0, len(runs))
	for id := range runs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, trID := range ids {
		n := runs[trID]
		ex := byID[exOf[trID]]
		if ex == nil {
			r.problem("task run %s ran %d time(s) for execution %s, which the API does not list", trID, n, exOf[trID])
			continue
		}
		tr := ex.TaskRunByID(trID)
		if tr == nil {
			r.problem("task run %s ran %d time(s) but execution %s has no such task run", trID, n, ex.ID)
			continue
		}
		if n > len(tr.Attempts) {
			r.Duplicates += n - len(tr.Attempts)
			r.problem("task run %s (task %s of execution %s) ran %d times but records %d attempt(s)",
				trID, tr.TaskID, ex.ID, n, len(tr.Attempts))
		}
	}
	return r
}

// MaxConcurrent is the most runs of flowID's tasks that ran at once, read
// from the ledger: a run counts from its "start" mark to its "end" mark,
// or, when it has none (its worker was killed), until the same task run
// starts again or the marks end. Both marks come from inside the task, on
// the ledger's one clock, so a count above the flow's limit means the
// limit was exceeded. The executions' state dates cannot tell this: an
// executor dates RUNNING before the save that takes the slot, so a start
// may carry a date earlier than the end that freed its slot.
func MaxConcurrent(marks []Mark, flowID string) int {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	open := map[string]time.Time{} // task run → start of its current run
	for _, m := range marks {
		if m.Flow != flowID {
			continue
		}
		switch m.Event {
		case "start":
			if began, ok := open[m.TaskRun]; ok {
				edges = append(edges, edge{began, +1}, edge{m.At, -1})
			}
			open[m.TaskRun] = m.At
		case "end":
			if began, ok := open[m.TaskRun]; ok {
				edges = append(edges, edge{began, +1}, edge{m.At, -1})
				delete(open, m.TaskRun)
			}
		}
	}
	now := time.Now()
	for _, began := range open {
		edges = append(edges, edge{began, +1}, edge{now, -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.delta - b.delta // an end before a start at the same instant
	})
	n, most := 0, 0
	for _, e := range edges {
		n += e.delta
		most = max(most, n)
	}
	return most
}

// Ticks returns the trigger dates (trigger.date) of executions a schedule
// started, oldest first, and problems: a date fired twice, or a gap of more
// than step between consecutive dates (a lost tick, when the schedule
// recovers ALL missed ticks).
func Ticks(exs []*flow.Execution, step time.Duration) ([]time.Time, []string) {
	var dates []time.Time
	var problems []string
	seen := map[time.Time]string{}
	for _, ex := range exs {
		if ex.Trigger == nil {
			continue
		}
		s, _ := ex.Trigger.Variables["date"].(string)
		d, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			problems = append(problems, fmt.Sprintf("execution %s: trigger.date %q: %v", ex.ID, s, err))
			continue
		}
		d = d.UTC()
		if other, dup := seen[d]; dup {
			problems = append(problems, fmt.Sprintf("tick %s fired twice: executions %s and %s", d.Format(time.RFC3339), other, ex.ID))
			continue
		}
		seen[d] = ex.ID
		dates = append(dates, d)
	}
	slices.SortFunc(dates, time.Time.Compare)
	for i := 1; i < len(dates); i++ {
		if gap := dates[i].Sub(dates[i-1]); gap > step {
			problems = append(problems, fmt.Sprintf("ticks lost between %s and %s", dates[i-1].Format(time.RFC3339), dates[i].Format(time.RFC3339)))
		}
	}
	return dates, problems
}
