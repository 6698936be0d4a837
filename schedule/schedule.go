// Package schedule reads the time-based triggers — Kestra's Schedule (a
// cron expression of five fields, six with withSeconds, in a time zone)
// and ScheduleOnDates (a list of dates) — and computes their ticks. The
// scheduler fires them; flow validation checks them when a flow is saved.
package schedule

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/trigger"
)

// Recovery modes of recoverMissedSchedules.
const (
	RecoverAll  = "ALL"  // fire every missed tick, oldest first (Kestra's default)
	RecoverLast = "LAST" // fire only the latest missed tick
	RecoverNone = "NONE" // fire none; resume at the next tick
)

// Schedule is a parsed Schedule or ScheduleOnDates trigger.
type Schedule struct {
	Trigger *flow.Trigger
	// Cron is the Schedule's expression; empty for ScheduleOnDates.
	Cron string
	// Dates are ScheduleOnDates' dates, sorted, in UTC.
	Dates      []time.Time
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

// Scheduled reports whether the scheduler fires triggers of type typ.
func Scheduled(typ string) bool {
	k := trigger.Kind(typ)
	return k == trigger.KindSchedule || k == trigger.KindScheduleOnDates
}

// PropError is a trigger property the scheduler cannot use.
type PropError struct {
	Trigger string // the trigger's id
	Prop    string // the property, as written in the flow
	Err     error
}

func (e *PropError) Error() string {
	return fmt.Sprintf("schedule %s: %s: %v", e.Trigger, e.Prop, e.Err)
}

func (e *PropError) Unwrap() error { return e.Err }

// Check validates a Schedule or ScheduleOnDates trigger's properties when
// its flow is saved, so a bad cron is refused with its line rather than
// found by the scheduler later.
func Check(t *flow.Trigger) []*flow.Error {
	if _, err := Parse(t); err != nil {
		var pe *PropError
		if errors.As(err, &pe) {
			return []*flow.Error{{Path: pe.Prop, Message: pe.Err.Error()}}
		}
		return []*flow.Error{{Message: err.Error()}}
	}
	return nil
}

// Parse reads a Schedule or ScheduleOnDates trigger's properties.
func Parse(t *flow.Trigger) (*Schedule, error) {
	s := &Schedule{Trigger: t, Location: time.UTC, Recover: RecoverAll}
	bad := func(prop string, format string, args ...any) error {
		return &PropError{Trigger: t.ID, Prop: prop, Err: fmt.Errorf(format, args...)}
	}
	if tz, _ := t.Props["timezone"].(string); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, bad("timezone", "%q is not a time zone: use an IANA name such as Europe/Paris or America/New_York", tz)
		}
		s.Location = loc
	}
	if trigger.Kind(t.Type) == trigger.KindScheduleOnDates {
		if err := s.parseDates(t.Props["dates"], bad); err != nil {
			return nil, err
		}
	} else if err := s.parseCron(t, bad); err != nil {
		return nil, err
	}
	if r, _ := t.Props["recoverMissedSchedules"].(string); r != "" {
		switch r = strings.ToUpper(r); r {
		case RecoverAll, RecoverLast, RecoverNone:
			s.Recover = r
		default:
			return nil, bad("recoverMissedSchedules", "%q: use ALL, LAST or NONE", r)
		}
	}
	if d, _ := t.Props["lateMaximumDelay"].(string); d != "" {
		var err error
		if s.LateMaximumDelay, err = flow.ParseDuration(d); err != nil {
			return nil, bad("lateMaximumDelay", "%w", err)
		}
	}
	s.Inputs, _ = ordered.AsMap(t.Props["inputs"])
	s.Conditions = trigger.Conditions(t.Props)
	// Kestra's older name for schedule conditions.
	if len(s.Conditions) == 0 {
		s.Conditions = trigger.Conditions(map[string]any{"conditions": t.Props["scheduleConditions"]})
	}
	return s, nil
}

func (s *Schedule) parseCron(t *flow.Trigger, bad func(string, string, ...any) error) error {
	s.Cron, _ = t.Props["cron"].(string)
	if s.Cron == "" {
		return bad("cron", "cron is required, for example \"0 * * * *\" (every hour)")
	}
	if strings.HasPrefix(s.Cron, "CRON_TZ=") || strings.HasPrefix(s.Cron, "TZ=") {
		return bad("cron", "write the time zone in timezone, not in cron")
	}
	parser := fiveFields
	if ws, _ := t.Props["withSeconds"].(bool); ws {
		parser = sixFields
	}
	spec, err := parser.Parse(s.Cron)
	if err != nil {
		return bad("cron", "%q: %w", s.Cron, err)
	}
	s.spec = spec
	return nil
}

// parseDates reads ScheduleOnDates' dates: ISO 8601 date-times with an
// offset, or without one in the trigger's time zone.
func (s *Schedule) parseDates(v any, bad func(string, string, ...any) error) error {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return bad("dates", "dates is required: a list of ISO 8601 date-times such as 2026-12-24T17:00:00+01:00")
	}
	for i, d := range list {
		var t time.Time
		switch d := d.(type) {
		case time.Time:
			t = d
		case string:
			if strings.Contains(d, "{{") {
				return bad(fmt.Sprintf("dates[%d]", i), "%q: Osprey reads dates as written; expressions are not rendered here, write the date itself", d)
			}
			var err error
			if t, err = flow.ParseDateTime(d, s.Location); err != nil {
				return bad(fmt.Sprintf("dates[%d]", i), "%q is not an ISO 8601 date-time such as 2026-12-24T17:00:00+01:00", d)
			}
		default:
			return bad(fmt.Sprintf("dates[%d]", i), "%v is not a date-time", d)
		}
		s.Dates = append(s.Dates, t.UTC())
	}
	slices.SortFunc(s.Dates, time.Time.Compare)
	s.Dates = slices.CompactFunc(s.Dates, time.Time.Equal)
	s.spec = dateList(s.Dates)
	return nil
}

// dateList is ScheduleOnDates' dates as a cron.Schedule: Next is the
// first date after t, the zero time after the last.
type dateList []time.Time

func (d dateList) Next(t time.Time) time.Time {
	i, _ := slices.BinarySearchFunc(d, t, func(e, t time.Time) int {
		if e.After(t) {
			return 1
		}
		return -1
	})
	if i == len(d) {
		return time.Time{}
	}
	return d[i].In(t.Location())
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

// Key identifies what the stored next date was computed from: when the
// cron, the dates or the time zone change, the next date is computed again.
func (s *Schedule) Key() string {
	if s.Dates == nil {
		return s.Cron + "|" + s.Location.String()
	}
	var b strings.Builder
	b.WriteString("dates:")
	for _, d := range s.Dates {
		b.WriteString(d.Format(time.RFC3339Nano))
		b.WriteByte(',')
	}
	return b.String() + "|" + s.Location.String()
}

// Variables are the trigger variables of an execution fired for tick
// ({{ trigger.date }}, .next, .previous), dates in the schedule's zone.
func (s *Schedule) Variables(tick time.Time, previous *time.Time) map[string]any {
	v := map[string]any{"date": s.format(tick)}
	if next := s.Next(tick); !next.IsZero() {
		v["next"] = s.format(next) // none after ScheduleOnDates' last date
	}
	if previous != nil {
		v["previous"] = s.format(*previous)
	}
	return v
}

func (s *Schedule) format(t time.Time) string {
	return t.In(s.Location).Format(time.RFC3339Nano)
}
