// Package scheduler fires Kestra's Schedule triggers: cron expressions of
// five fields (six with withSeconds) in a time zone, missed ticks recovered
// as recoverMissedSchedules says, backfills asked through the API.
//
// A fire is a compare-and-swap on the trigger's stored next date
// (store.TriggerStore.Fire) that creates the execution in the same
// transaction: any number of schedulers can run against one database and
// each tick fires once, and a scheduler that restarts picks up exactly
// where the stored state says, never firing a tick twice or skipping one
// it was asked to recover. Time is injected, so all of it is tested
// without waiting.
package scheduler

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/trigger"
)

// Recovery modes of recoverMissedSchedules.
const (
	RecoverAll  = "ALL"  // fire every missed tick, oldest first (Kestra's default)
	RecoverLast = "LAST" // fire only the latest missed tick
	RecoverNone = "NONE" // fire none; resume at the next tick
)

// Schedule is a parsed Schedule trigger.
type Schedule struct {
	Trigger    *flow.Trigger
	Cron       string
	Location   *time.Location
	Recover    string
	Inputs     map[string]any
	Conditions []map[string]any
	// LateMaximumDelay, when set, skips a tick that would fire later than
	// this after its date.
	LateMaximumDelay time.Duration
	spec             cron.Schedule
}

var (
	fiveFields = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	sixFields  = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
)

// Parse reads a Schedule trigger's properties.
func Parse(t *flow.Trigger) (*Schedule, error) {
	s := &Schedule{Trigger: t, Location: time.UTC, Recover: RecoverAll}
	s.Cron, _ = t.Props["cron"].(string)
	if s.Cron == "" {
		return nil, fmt.Errorf("schedule %s: cron is required", t.ID)
	}
	if strings.HasPrefix(s.Cron, "CRON_TZ=") || strings.HasPrefix(s.Cron, "TZ=") {
		return nil, fmt.Errorf("schedule %s: write the time zone in timezone, not in cron", t.ID)
	}
	parser := fiveFields
	if ws, _ := t.Props["withSeconds"].(bool); ws {
		parser = sixFields
	}
	spec, err := parser.Parse(s.Cron)
	if err != nil {
		return nil, fmt.Errorf("schedule %s: cron %q: %w", t.ID, s.Cron, err)
	}
	s.spec = spec
	if tz, _ := t.Props["timezone"].(string); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, fmt.Errorf("schedule %s: timezone %q: %w", t.ID, tz, err)
		}
		s.Location = loc
	}
	if r, _ := t.Props["recoverMissedSchedules"].(string); r != "" {
		switch r = strings.ToUpper(r); r {
		case RecoverAll, RecoverLast, RecoverNone:
			s.Recover = r
		default:
			return nil, fmt.Errorf("schedule %s: recoverMissedSchedules %q: use ALL, LAST or NONE", t.ID, r)
		}
	}
	if d, _ := t.Props["lateMaximumDelay"].(string); d != "" {
		if s.LateMaximumDelay, err = flow.ParseDuration(d); err != nil {
			return nil, fmt.Errorf("schedule %s: lateMaximumDelay: %w", t.ID, err)
		}
	}
	s.Inputs, _ = t.Props["inputs"].(map[string]any)
	s.Conditions = trigger.Conditions(t.Props)
	// Kestra's older name for schedule conditions.
	if len(s.Conditions) == 0 {
		s.Conditions = trigger.Conditions(map[string]any{"conditions": t.Props["scheduleConditions"]})
	}
	return s, nil
}

// Next returns the first tick strictly after t, in UTC. Ticks are computed
// on the wall clock of the schedule's time zone. Across a DST change, as
// Vixie cron does: a tick in the skipped hour does not fire, and in the
// repeated hour a schedule of fixed hours fires once (02:30 daily is one
// run) while one that runs every hour fires in both.
func (s *Schedule) Next(t time.Time) time.Time {
	t = t.In(s.Location)
	n := s.spec.Next(t)
	for i := 0; i < 4 && !n.IsZero() && !s.everyHour() && !wall(n).After(wall(t)); i++ {
		n = s.spec.Next(n) // the repeated hour's second pass of a wall time already fired
	}
	if n.IsZero() {
		return n
	}
	return n.UTC()
}

// everyHour reports whether the hour field matches all 24 hours.
func (s *Schedule) everyHour() bool {
	spec, ok := s.spec.(*cron.SpecSchedule)
	if !ok {
		return true
	}
	const all = 1<<24 - 1
	return spec.Hour&all == all
}

// wall is t's local date and time read as if it were UTC, to compare wall
// clocks across an offset change.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// key identifies what the stored next date was computed from: when the
// cron or the time zone changes, the next date is computed again.
func (s *Schedule) key() string { return s.Cron + "|" + s.Location.String() }

// Variables are the trigger variables of an execution fired for tick
// ({{ trigger.date }}, .next, .previous), dates in the schedule's zone.
func (s *Schedule) Variables(tick time.Time, previous *time.Time) map[string]any {
	v := map[string]any{
		"date": s.format(tick),
		"next": s.format(s.Next(tick)),
	}
	if previous != nil {
		v["previous"] = s.format(*previous)
	}
	return v
}

func (s *Schedule) format(t time.Time) string {
	return t.In(s.Location).Format(time.RFC3339Nano)
}
