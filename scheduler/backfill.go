package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/schedule"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/trigger"
)

// BackfillSuffix ends the trigger id of a backfill's state. A backfill
// keeps its own state row, whose Next is the next tick to replay, so its
// fires are compare-and-swaps of their own and never race the live
// schedule's. Trigger ids cannot hold '#', so the row never collides.
const BackfillSuffix = "#backfill"

// Backfill is a replay of a schedule's ticks between Start and End, asked
// through the API, as Kestra's backfill.
type Backfill struct {
	Start  time.Time      `json:"start"`
	End    time.Time      `json:"end"`
	Inputs map[string]any `json:"inputs,omitempty"`
	Labels []flow.Label   `json:"labels,omitempty"`
	// Current is the next tick to replay; Paused is set through the API.
	Current *time.Time `json:"currentDate,omitempty"`
	Paused  bool       `json:"paused"`
}

// ErrNotSchedule is returned when a backfill names a trigger that is not a
// Schedule.
var ErrNotSchedule = errors.New("not a Schedule trigger")

// ErrInvalidBackfill is returned for a backfill whose dates or schedule
// cannot be replayed.
var ErrInvalidBackfill = errors.New("invalid backfill")

// StartBackfill records a backfill of a Schedule trigger; the scheduler
// fires its ticks, oldest first, on its next passes. It fails with
// store.ErrConflict while another backfill of the trigger runs.
func StartBackfill(ctx context.Context, ts store.TriggerStore, f *flow.Flow, triggerID string, b Backfill, now time.Time) error {
	var tr *flow.Trigger
	for _, t := range f.Triggers {
		if t.ID == triggerID {
			tr = t
		}
	}
	if tr == nil {
		return fmt.Errorf("trigger %s of %s.%s: %w", triggerID, f.Namespace, f.ID, store.ErrNotFound)
	}
	if trigger.Kind(tr.Type) != trigger.KindSchedule {
		return fmt.Errorf("trigger %s of %s.%s: %w", triggerID, f.Namespace, f.ID, ErrNotSchedule)
	}
	sch, err := schedule.Parse(tr)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidBackfill, err)
	}
	if b.End.IsZero() {
		b.End = now
	}
	if !b.End.After(b.Start) {
		return fmt.Errorf("%w: end %s is not after start %s", ErrInvalidBackfill, b.End.Format(time.RFC3339), b.Start.Format(time.RFC3339))
	}
	first := sch.Next(b.Start.Add(-time.Nanosecond))
	data, err := json.Marshal(b)
	if err != nil {
		return err
	}
	won, err := ts.Fire(ctx, nil, store.TriggerState{Namespace: f.Namespace, FlowID: f.ID, TriggerID: triggerID + BackfillSuffix,
		Next: &first, Data: data, Updated: now}, nil)
	if err != nil {
		return err
	}
	if !won {
		return fmt.Errorf("a backfill of %s.%s/%s is already running: %w", f.Namespace, f.ID, triggerID, store.ErrConflict)
	}
	return nil
}

// ReadBackfill returns the backfill state of a trigger, if one runs.
func ReadBackfill(st store.TriggerState) (Backfill, error) {
	var b Backfill
	if err := json.Unmarshal(st.Data, &b); err != nil {
		return b, fmt.Errorf("read backfill of %s: %w", strings.TrimSuffix(st.TriggerID, BackfillSuffix), err)
	}
	b.Current, b.Paused = st.Next, st.Disabled
	return b, nil
}

// backfill fires the due ticks of the trigger's backfill, if any.
func (s *Scheduler) backfill(ctx context.Context, f *flow.Flow, sch *schedule.Schedule, budget int) (int, error) {
	ts := s.o.Store.Triggers()
	id := sch.Trigger.ID + BackfillSuffix
	fired := 0
	for attempt := 0; fired < budget && attempt < budget+8; attempt++ {
		st, err := ts.Get(ctx, f.Namespace, f.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			return fired, nil
		}
		if err != nil {
			return fired, err
		}
		if st.Disabled || st.Next == nil {
			return fired, nil
		}
		b, err := ReadBackfill(st)
		if err != nil {
			return fired, err
		}
		now := s.now()
		tick := *st.Next
		if tick.IsZero() || tick.After(b.End) {
			// Done: the backfill's row goes away.
			if err := ts.Delete(ctx, f.Namespace, f.ID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fired, err
			}
			return fired, nil
		}
		if tick.After(now) {
			return fired, nil
		}
		labels := append([]flow.Label{{Key: "system.backfill", Value: "true"}}, b.Labels...)
		ex, err := s.execution(ctx, f, sch, tick, st.Last, b.Inputs, labels)
		if err != nil {
			return fired, err
		}
		var execs []*flow.Execution
		if ex != nil {
			execs = append(execs, ex)
			st.Last = &tick
		}
		prev := st.Next
		next := sch.Next(tick)
		st.Next = &next
		st.Updated = now
		won, err := ts.Fire(ctx, prev, st, execs)
		if err != nil {
			return fired, err
		}
		if won && len(execs) > 0 {
			fired++
		}
	}
	return fired, nil
}
