package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
)

// checkSLA evaluates the flow's SLAs on a running execution, as Kestra's
// executor does (ExecutorService#handleExecutionChangedSLA for
// EXECUTION_ASSERTION on every change, the SLA monitor for MAX_DURATION at
// its deadline; SLAService logs each violation). Each violated SLA is
// logged at WARN and adds its labels; the first one's behavior then
// applies: FAIL ends the execution FAILED, CANCEL ends it CANCELLED, NONE
// leaves it running. An SLA is acted on once per execution. An assertion
// that cannot be rendered is ignored with an ERROR line, as Kestra. It
// reports whether the execution ended.
func (s *Scope) checkSLA() bool {
	type violation struct {
		sla    *flow.SLA
		reason string
	}
	var found []violation
	for i, sla := range s.flow.SLA {
		mark := strconv.Itoa(i) + ":" + sla.ID
		if slices.Contains(s.exec.SLAViolated, mark) {
			continue
		}
		reason, violated := s.evaluateSLA(sla)
		if !violated {
			continue
		}
		s.exec.SLAViolated = append(s.exec.SLAViolated, mark)
		s.touch()
		found = append(found, violation{sla, reason})
	}
	for _, v := range found {
		s.execLog("WARN", fmt.Sprintf("SLA '%s' violated: %s", v.sla.ID, v.reason))
		if len(v.sla.Labels) > 0 {
			s.exec.Labels = mergeLabels(s.exec.Labels, v.sla.Labels)
		}
	}
	if len(found) == 0 {
		return false
	}
	first := found[0]
	var end flow.State
	switch first.sla.Behavior {
	case flow.SLAFail:
		s.execLog("ERROR", fmt.Sprintf("Execution failed due to SLA '%s' violated: %s", first.sla.ID, first.reason))
		end = flow.StateFailed
	case flow.SLACancel:
		end = flow.StateCancelled
	default:
		return false
	}
	// Kestra's markAs: the last task run still going takes the new state,
	// the others are killed, and so is what workers run.
	for i := len(s.exec.TaskRunList) - 1; i >= 0; i-- {
		if tr := s.exec.TaskRunList[i]; !tr.State.Current.IsTerminal() {
			if tr.State.Current == flow.StateRunning && s.hasJob(s.findTask(tr.TaskID)) {
				s.fx.Cancel = append(s.fx.Cancel, tr.ID)
			}
			s.setRunState(tr, end)
			break
		}
	}
	s.stopRuns()
	if s.exec.Error == "" {
		s.exec.Error = fmt.Sprintf("SLA '%s' violated: %s", first.sla.ID, first.reason)
	}
	s.setExecState(end)
	s.fx.Ended = true
	return true
}

// evaluateSLA reports whether sla is violated now, and why. A
// MAX_DURATION SLA not yet due asks for a wake-up at its deadline.
func (s *Scope) evaluateSLA(sla *flow.SLA) (string, bool) {
	switch sla.Type {
	case flow.SLAMaxDuration:
		d, err := flow.ParseDuration(sla.Duration)
		if err != nil || len(s.exec.State.Histories) == 0 {
			return "", false
		}
		start := s.exec.State.Histories[0].Date
		deadline := start.Add(d)
		if s.now.Before(deadline) {
			s.WakeAt(deadline)
			return "", false
		}
		return fmt.Sprintf("execution duration of %s exceed the maximum duration of %s.", isoDuration(s.now.Sub(start).Truncate(time.Millisecond)), isoDuration(d)), true
	case flow.SLAExecutionAssertion:
		out, err := s.Render(nil, sla.Assert)
		if err != nil {
			s.execLog("ERROR", fmt.Sprintf("Ignoring SLA '%s' because of the error: %v", sla.ID, err))
			return "", false
		}
		if Truthy(out) {
			return "", false
		}
		return "assertion is false: " + sla.Assert + ".", true
	}
	return "", false
}

// execLog adds a line to the execution's log, outside any task run.
func (s *Scope) execLog(level, msg string) {
	s.fx.Logs = append(s.fx.Logs, flow.LogEntry{
		Namespace: s.exec.Namespace, FlowID: s.exec.FlowID, ExecutionID: s.exec.ID,
		Timestamp: s.now, Level: level, Thread: "executor", Message: msg,
	})
}

// isoDuration prints d as Java's Duration#toString does: PT1H2M3.5S.
func isoDuration(d time.Duration) string {
	if d == 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteString("PT")
	if d < 0 {
		b.WriteString("-")
		d = -d
	}
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dH", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dM", m)
		d -= m * time.Minute
	}
	if d > 0 {
		b.WriteString(strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S")
	}
	return b.String()
}
