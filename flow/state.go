package flow

import (
	"slices"
	"time"

	"github.com/ospreyhq/osprey/internal/isoduration"
)

// State is the lifecycle state of an execution, a task run or an attempt,
// spelled as Kestra spells it.
type State string

// The states Kestra defines. Osprey uses the same names on the wire.
const (
	StateCreated     State = "CREATED"
	StateQueued      State = "QUEUED"
	StateRunning     State = "RUNNING"
	StatePaused      State = "PAUSED"
	StateRestarted   State = "RESTARTED"
	StateKilling     State = "KILLING"
	StateSuccess     State = "SUCCESS"
	StateWarning     State = "WARNING"
	StateFailed      State = "FAILED"
	StateKilled      State = "KILLED"
	StateCancelled   State = "CANCELLED"
	StateRetrying    State = "RETRYING"
	StateRetried     State = "RETRIED"
	StateSkipped     State = "SKIPPED"
	StateBreakpoint  State = "BREAKPOINT"
	StateResubmitted State = "RESUBMITTED"
)

// IsTerminal reports whether nothing more happens in s without an outside
// action (restart, resume).
func (s State) IsTerminal() bool {
	switch s {
	case StateSuccess, StateWarning, StateFailed, StateKilled, StateCancelled, StateRetried, StateSkipped, StateResubmitted:
		return true
	}
	return false
}

// IsFailed reports whether s counts as a failure for the parent's outcome.
func (s State) IsFailed() bool {
	return s == StateFailed || s == StateKilled
}

// IsRunning reports whether s is an active, non-terminal state.
func (s State) IsRunning() bool {
	return s == StateRunning || s == StateKilling || s == StateRetrying
}

// StateHistory is one entry of a state's history.
type StateHistory struct {
	State State     `json:"state"`
	Date  time.Time `json:"date"`
}

// StateInfo is Kestra's State object: the current state and every state it
// went through, oldest first.
type StateInfo struct {
	Current   State          `json:"current"`
	Histories []StateHistory `json:"histories"`
	StartDate *time.Time     `json:"startDate,omitempty"`
	EndDate   *time.Time     `json:"endDate,omitempty"`
	Duration  string         `json:"duration,omitempty"`
}

// NewStateInfo returns a StateInfo that starts in s at now.
func NewStateInfo(s State, now time.Time) StateInfo {
	var si StateInfo
	si.Set(s, now)
	return si
}

// Set moves to s at now, recording it in the history and keeping the start,
// end and duration fields current. Setting the current state again is a no-op.
func (si *StateInfo) Set(s State, now time.Time) {
	if si.Current == s && len(si.Histories) > 0 {
		return
	}
	// Kestra keeps millisecond precision; so do we, so that dates print
	// the same (2024-01-01T10:00:00.123Z) in expressions and the API.
	now = now.UTC().Truncate(time.Millisecond)
	si.Current = s
	si.Histories = append(si.Histories, StateHistory{State: s, Date: now})
	start := si.Histories[0].Date
	si.StartDate = &start
	if s.IsTerminal() || s == StatePaused {
		end := now
		si.EndDate = &end
	} else {
		si.EndDate = nil
	}
	si.Duration = isoduration.Format(now.Sub(start))
}

// Has reports whether the history contains s.
func (si StateInfo) Has(s State) bool {
	return slices.ContainsFunc(si.Histories, func(h StateHistory) bool { return h.State == s })
}
