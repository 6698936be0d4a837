package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/teambition/rrule-go"
)

// ICS is a holiday calendar read from an iCalendar (RFC 5545) file, the
// format governments and calendar services publish holidays in. Every
// VEVENT is a holiday, as RFC 5545 defines the time it takes:
//
//   - an all-day event (DTSTART;VALUE=DATE) covers its calendar days, from
//     DTSTART up to DTEND, which is exclusive (or DTSTART plus DURATION, or
//     one day), read in the checked date's own location as a built-in
//     calendar's days are;
//   - a timed event covers the instants from DTSTART up to DTEND (its TZID,
//     UTC with Z, or the checked date's wall clock when floating);
//   - RRULE and RDATE repeat it, EXDATE and an overriding VEVENT (same UID,
//     RECURRENCE-ID) remove an occurrence, STATUS:CANCELLED removes the
//     event or the occurrence it overrides.
//
// TRANSP is not read: RFC 5545 gives it meaning only for free/busy time,
// and the public holiday calendars calendar services publish mark every
// holiday TRANSPARENT.
//
// The file is parsed with arran4/golang-ical, a maintained and fuzzed Go
// iCalendar library (emersion/go-ical, the other one, panics on some
// malformed lines, and its recurrence set takes EXDATEs for RDATEs), and
// recurrences are expanded with teambition/rrule-go; what this file adds is
// reading the parsed events as RFC 5545 says, and placing every problem on
// its line, which the library's errors do not.
type ICS struct {
	events []*event
}

// event is one VEVENT: when it starts and how long it lasts, and the
// other starts of its recurrence set.
type event struct {
	allDay bool
	// floating is a timed event with neither TZID nor Z: its times are
	// wall-clock times, held here in UTC and compared with the checked
	// date's wall clock.
	floating bool
	start    time.Time
	// days is an all-day event's length; length a timed event's.
	days   int
	length time.Duration
	rule   *rrule.RRule
	// years caches the rule's starts by year (int → []time.Time): the
	// rule is walked from DTSTART, decades for a holiday kept since long,
	// so each year is walked once and then looked up.
	years  sync.Map
	rdates []time.Time
	// exdates are removed starts: instants for a timed event, dates (UTC
	// midnight) for an all-day one.
	exdates []time.Time
}

// maxICSBytes bounds one file: the largest published holiday calendars,
// decades of every country's days, are a few hundred KiB.
const maxICSBytes = 16 << 20

// ParseICS reads an iCalendar file of holidays. name is the file's name,
// used in errors; an error names the line when one is to blame, and says
// how to fix it.
func ParseICS(name string, src []byte) (*ICS, error) {
	if len(src) > maxICSBytes {
		return nil, named(name, lineErr(0, "%d bytes is more than a holiday calendar holds (16 MiB at most): keep the years you need", len(src)))
	}
	src = bytes.TrimPrefix(src, []byte("\ufeff"))
	idx, norm, err := scanICS(src)
	if err != nil {
		return nil, named(name, err)
	}
	// Properties between components are not RFC 5545's, but exports
	// write them; they are kept aside rather than refused.
	parsed, err := ics.ParseCalendarWithOptions(strings.NewReader(norm), ics.WithUnknownPropertyHandler(ics.AcceptUnknownPropertyHandler))
	if err != nil {
		return nil, named(name, lineErr(0, "not a valid iCalendar file (RFC 5545): %v", err))
	}
	vevents := parsed.Events()
	if len(vevents) != len(idx) {
		return nil, named(name, lineErr(0, "%d VEVENTs were read where the file has %d: check that every BEGIN:VEVENT has its END:VEVENT", len(vevents), len(idx)))
	}
	if len(vevents) == 0 {
		return nil, named(name, lineErr(0, "the calendar holds no VEVENT, so no holiday: export the holiday calendar itself as an .ics file"))
	}
	out := &ICS{}
	// masters are the events with a UID and no RECURRENCE-ID: overrides
	// remove the occurrence they replace from theirs.
	masters := map[string]*event{}
	cancelled := map[string]bool{}
	type override struct {
		uid string
		id  time.Time // the start of the occurrence it replaces
		ev  *event    // nil when it cancels that occurrence
	}
	var overrides []override
	for i, v := range vevents {
		lines := idx[i]
		p := props{v: v, lines: lines}
		ev, err := readEvent(p)
		if err != nil {
			return nil, named(name, err)
		}
		uid := p.value(ics.ComponentPropertyUniqueId)
		isCancelled := strings.EqualFold(strings.TrimSpace(p.value(ics.ComponentPropertyStatus)), "CANCELLED")
		if rid := p.get(ics.ComponentPropertyRecurrenceId); rid != nil {
			t, _, _, err := parseTime(rid)
			if err != nil {
				return nil, named(name, lineErr(lines.of(rid.IANAToken), "RECURRENCE-ID: %v", err))
			}
			o := override{uid: uid, id: t}
			if !isCancelled {
				ev.rule, ev.rdates = nil, nil // an override is the one occurrence
				o.ev = ev
			}
			overrides = append(overrides, o)
			continue
		}
		if isCancelled {
			if uid != "" {
				cancelled[uid] = true
			}
			continue
		}
		if uid != "" {
			masters[uid] = ev
		}
		out.events = append(out.events, ev)
	}
	for _, o := range overrides {
		if cancelled[o.uid] {
			continue // the whole series is cancelled
		}
		if m := masters[o.uid]; m != nil {
			m.exdates = append(m.exdates, exdateOf(m, o.id))
		}
		if o.ev != nil {
			out.events = append(out.events, o.ev)
		}
	}
	return out, nil
}

// exdateOf reduces a start to what ev's starts are compared with: a date
// for an all-day event.
func exdateOf(ev *event, t time.Time) time.Time {
	if ev.allDay {
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// props reads one VEVENT's properties, knowing the line of each.
type props struct {
	v     *ics.VEvent
	lines eventLines
}

func (p props) get(name ics.ComponentProperty) *ics.IANAProperty {
	return p.v.GetProperty(name)
}

func (p props) value(name ics.ComponentProperty) string {
	if pr := p.get(name); pr != nil {
		return pr.Value
	}
	return ""
}

// readEvent reads a VEVENT's start, length and recurrence.
func readEvent(p props) (*event, error) {
	at := func(name ics.ComponentProperty) int { return p.lines.of(string(name)) }
	start := p.get(ics.ComponentPropertyDtStart)
	if start == nil {
		return nil, lineErr(p.lines.begin, "the VEVENT starting here has no DTSTART: give each holiday its day, e.g. DTSTART;VALUE=DATE:20270101")
	}
	t, allDay, floating, err := parseTime(start)
	if err != nil {
		return nil, lineErr(at(ics.ComponentPropertyDtStart), "DTSTART: %v", err)
	}
	ev := &event{allDay: allDay, floating: floating, start: t, days: 1}
	end, dur := p.get(ics.ComponentPropertyDtEnd), p.get(ics.ComponentPropertyDuration)
	switch {
	case end != nil && dur != nil:
		return nil, lineErr(at(ics.ComponentPropertyDuration), "a VEVENT has DTEND or DURATION, not both: remove one")
	case end != nil:
		e, eAllDay, _, err := parseTime(end)
		if err != nil {
			return nil, lineErr(at(ics.ComponentPropertyDtEnd), "DTEND: %v", err)
		}
		if eAllDay != allDay {
			return nil, lineErr(at(ics.ComponentPropertyDtEnd), "DTEND must be a date when DTSTART is one, and a date-time when DTSTART is one (RFC 5545 3.6.1)")
		}
		if e.Before(t) {
			return nil, lineErr(at(ics.ComponentPropertyDtEnd), "DTEND %s is before DTSTART %s: DTEND is the exclusive end, e.g. the day after a one-day holiday", end.Value, start.Value)
		}
		if allDay {
			// DTEND equal to DTSTART is read as one day, as calendar
			// applications read it.
			ev.days = max(1, int(e.Sub(t).Hours()/24))
		} else {
			ev.length = e.Sub(t)
		}
	case dur != nil:
		d, err := parseDuration(dur.Value)
		if err != nil {
			return nil, lineErr(at(ics.ComponentPropertyDuration), "DURATION: %v", err)
		}
		if allDay {
			if d%(24*time.Hour) != 0 {
				return nil, lineErr(at(ics.ComponentPropertyDuration), "DURATION %s: an all-day event lasts whole days (P1D, P2D, P1W)", dur.Value)
			}
			ev.days = max(1, int(d/(24*time.Hour)))
		} else {
			ev.length = d
		}
	}
	if rr := p.get(ics.ComponentPropertyRrule); rr != nil {
		loc := time.UTC
		if !allDay && !floating {
			loc = t.Location()
		}
		opt, err := rrule.StrToROptionInLocation(rr.Value, loc)
		if err != nil {
			return nil, lineErr(at(ics.ComponentPropertyRrule), "RRULE %s: %v; write e.g. RRULE:FREQ=YEARLY for a holiday on the same date every year", rr.Value, err)
		}
		if opt.Freq > rrule.DAILY {
			// A rule of hours or seconds would make every check walk
			// millions of occurrences, and no holiday repeats that often.
			return nil, lineErr(at(ics.ComponentPropertyRrule), "RRULE %s: a holiday repeats daily at most often; write e.g. RRULE:FREQ=YEARLY", rr.Value)
		}
		opt.Dtstart = t
		if ev.rule, err = rrule.NewRRule(*opt); err != nil {
			return nil, lineErr(at(ics.ComponentPropertyRrule), "RRULE %s: %v", rr.Value, err)
		}
	}
	for _, kind := range []ics.ComponentProperty{ics.ComponentPropertyRdate, ics.ComponentPropertyExdate} {
		for i, pr := range p.v.GetProperties(kind) {
			if strings.EqualFold(param(pr, "VALUE"), "PERIOD") {
				return nil, lineErr(p.lines.nth(string(kind), i), "%s;VALUE=PERIOD is not read: list the dates (%s;VALUE=DATE:20270102,20270103)", kind, kind)
			}
			for _, v := range strings.Split(pr.Value, ",") {
				one := *pr
				one.Value = strings.TrimSpace(v)
				t, _, _, err := parseTime(&one)
				if err != nil {
					return nil, lineErr(p.lines.nth(string(kind), i), "%s: %v", kind, err)
				}
				t = exdateOf(ev, t)
				if kind == ics.ComponentPropertyRdate {
					ev.rdates = append(ev.rdates, t)
				} else {
					ev.exdates = append(ev.exdates, t)
				}
			}
		}
	}
	return ev, nil
}

// param is a property parameter's first value; parameter names are
// case-insensitive.
func param(p *ics.IANAProperty, name string) string {
	for k, v := range p.ICalParameters {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

var (
	dateRe     = regexp.MustCompile(`^\d{8}$`)
	dateTimeRe = regexp.MustCompile(`^\d{8}T\d{6}Z?$`)
)

// parseTime reads a DATE or DATE-TIME value: a date as UTC midnight
// (allDay), a time in its TZID or UTC, or a floating time as UTC wall
// clock.
func parseTime(p *ics.IANAProperty) (t time.Time, allDay, floating bool, err error) {
	v := strings.TrimSpace(p.Value)
	valueType := strings.ToUpper(param(p, "VALUE"))
	switch {
	case valueType == "DATE" || (valueType == "" && dateRe.MatchString(v)):
		if !dateRe.MatchString(v) {
			return t, false, false, fmt.Errorf("%q is not a date: write YYYYMMDD, e.g. 20270101", v)
		}
		t, err = time.ParseInLocation("20060102", v, time.UTC)
		if err != nil {
			return t, false, false, fmt.Errorf("%q is not a date: %w", v, err)
		}
		return t, true, false, nil
	case valueType != "" && valueType != "DATE-TIME":
		return t, false, false, fmt.Errorf("VALUE=%s: write VALUE=DATE for a day, or a date-time such as 20270101T090000", valueType)
	case !dateTimeRe.MatchString(v):
		return t, false, false, fmt.Errorf("%q is not a date-time: write YYYYMMDDTHHMMSS (with Z for UTC), or VALUE=DATE:YYYYMMDD for a day", v)
	case strings.HasSuffix(v, "Z"):
		t, err = time.ParseInLocation("20060102T150405Z", v, time.UTC)
	case param(p, "TZID") != "":
		tz := strings.TrimPrefix(param(p, "TZID"), "/")
		loc, lerr := time.LoadLocation(tz)
		if lerr != nil {
			return t, false, false, fmt.Errorf("TZID %q is not an IANA time zone: write one such as Europe/Berlin, or use UTC times (…Z)", tz)
		}
		t, err = time.ParseInLocation("20060102T150405", v, loc)
	default:
		t, err = time.ParseInLocation("20060102T150405", v, time.UTC)
		floating = true
	}
	if err != nil {
		return t, false, false, fmt.Errorf("%q is not a date-time: %w", v, err)
	}
	return t, false, floating, nil
}

var durationRe = regexp.MustCompile(`^\+?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// parseDuration reads an RFC 5545 DURATION (P1D, P1W, PT12H30M); a
// negative one has no meaning for a holiday.
func parseDuration(v string) (time.Duration, error) {
	m := durationRe.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil || v == "P" || strings.HasSuffix(v, "T") {
		return 0, fmt.Errorf("%q is not a positive duration: write e.g. P1D, P1W or PT12H", v)
	}
	units := []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}
	var d time.Duration
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.Atoi(m[i+1])
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("%q is too long a duration for a holiday", v)
		}
		d += time.Duration(n) * u
	}
	return d, nil
}

// holds reports whether date falls on one of the calendar's holidays.
func (c *ICS) holds(date time.Time) bool {
	return slices.ContainsFunc(c.events, func(ev *event) bool { return ev.covers(date) })
}

// covers reports whether an occurrence of ev covers date: its calendar
// day for an all-day event, its instant for a timed one.
func (ev *event) covers(date time.Time) bool {
	var q time.Time
	var span time.Duration
	switch {
	case ev.allDay:
		y, m, d := date.Date()
		q = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		span = time.Duration(ev.days-1) * 24 * time.Hour
	case ev.floating:
		y, m, d := date.Date()
		q = time.Date(y, m, d, date.Hour(), date.Minute(), date.Second(), date.Nanosecond(), time.UTC)
		span = ev.length
	default:
		q, span = date, ev.length
	}
	// An occurrence starting in [q-span, q] may cover q.
	lo := q.Add(-span)
	inside := func(s time.Time) bool {
		if s.Before(lo) || s.After(q) || slices.ContainsFunc(ev.exdates, s.Equal) {
			return false
		}
		if ev.allDay {
			return true
		}
		return s.Add(span).After(q) || (span == 0 && s.Equal(q))
	}
	if inside(ev.start) || slices.ContainsFunc(ev.rdates, inside) {
		return true
	}
	if ev.rule == nil {
		return false
	}
	loc := ev.start.Location()
	for y := lo.In(loc).Year(); y <= q.In(loc).Year(); y++ {
		if slices.ContainsFunc(ev.startsIn(y), inside) {
			return true
		}
	}
	return false
}

// maxCachedYears bounds the years a rule keeps: schedules ask about a few,
// an expression may ask about any.
const maxCachedYears = 64

// startsIn returns the rule's starts in year y (in the event's location).
func (ev *event) startsIn(y int) []time.Time {
	if v, ok := ev.years.Load(y); ok {
		return v.([]time.Time)
	}
	loc := ev.start.Location()
	from, to := time.Date(y, 1, 1, 0, 0, 0, 0, loc), time.Date(y+1, 1, 1, 0, 0, 0, 0, loc)
	starts := ev.rule.Between(from, to.Add(-time.Second), true)
	n := 0
	ev.years.Range(func(any, any) bool { n++; return n < maxCachedYears })
	if n < maxCachedYears {
		ev.years.Store(y, starts)
	}
	return starts
}

// eventLines are the lines of one VEVENT's properties in the file.
type eventLines struct {
	begin int
	// props maps a property name to its lines, in order.
	props map[string][]int
}

// of is the line of a property's first occurrence (the VEVENT's first
// line when it is not there).
func (l eventLines) of(name string) int { return l.nth(name, 0) }

// nth is the line of a property's i-th occurrence.
func (l eventLines) nth(name string, i int) int {
	if ls := l.props[strings.ToUpper(name)]; i < len(ls) {
		return ls[i]
	}
	return l.begin
}

// scanICS reads the file's content lines (unfolding continuation lines)
// and checks its structure, so a problem is reported on its line: the
// library's own errors do not say where. It returns the lines of each
// VEVENT's properties, in the order the library lists the events, and the
// file for the library to parse: unfolded, with the names RFC 5545 reads
// case-insensitively in upper case, as the library expects them.
func scanICS(src []byte) ([]eventLines, string, error) {
	type logical struct {
		line int
		text string
	}
	var lines []logical
	for i, raw := range strings.Split(string(src), "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		if len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t') && len(lines) > 0 {
			lines[len(lines)-1].text += raw[1:]
			continue
		}
		if strings.TrimSpace(raw) == "" {
			continue
		}
		lines = append(lines, logical{line: i + 1, text: raw})
	}
	if len(lines) == 0 {
		return nil, "", lineErr(0, "the file is empty: it must be an iCalendar file (BEGIN:VCALENDAR … END:VCALENDAR)")
	}
	var (
		stack  []string
		events []eventLines
		cur    *eventLines
		norm   strings.Builder
	)
	for n, l := range lines {
		p, err := ics.ParseProperty(ics.ContentLine(l.text))
		if err != nil {
			return nil, "", lineErr(l.line, "%v: a content line is NAME;PARAM=value:value", err)
		}
		if p == nil {
			return nil, "", lineErr(l.line, "%q is not an iCalendar content line (NAME:value, or NAME;PARAM=value:value)", clip(l.text))
		}
		name, value := strings.ToUpper(p.IANAToken), strings.ToUpper(strings.TrimSpace(p.Value))
		if name == "BEGIN" || name == "END" {
			norm.WriteString(name + ":" + value + "\r\n")
		} else {
			norm.WriteString(name + l.text[len(p.IANAToken):] + "\r\n")
		}
		if n == 0 && (name != "BEGIN" || value != "VCALENDAR") {
			return nil, "", lineErr(l.line, "the file must start with BEGIN:VCALENDAR: it is not an iCalendar file (a web page saved instead of the .ics?)")
		}
		switch {
		case name == "BEGIN":
			if len(stack) == 0 && n > 0 {
				return nil, "", lineErr(l.line, "BEGIN:%s after END:VCALENDAR: keep one calendar per file", value)
			}
			stack = append(stack, value)
			if value == "VEVENT" && len(stack) == 2 {
				events = append(events, eventLines{begin: l.line, props: map[string][]int{}})
				cur = &events[len(events)-1]
			}
		case name == "END":
			if len(stack) == 0 || stack[len(stack)-1] != value {
				open := "nothing"
				if len(stack) > 0 {
					open = "BEGIN:" + stack[len(stack)-1]
				}
				return nil, "", lineErr(l.line, "END:%s does not close %s", value, open)
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 1 {
				cur = nil
			}
		case cur != nil && len(stack) == 2:
			cur.props[name] = append(cur.props[name], l.line)
		}
	}
	if len(stack) > 0 {
		return nil, "", lineErr(lines[len(lines)-1].line, "BEGIN:%s is never closed: the file ends without END:%s (cut short?)", stack[len(stack)-1], stack[len(stack)-1])
	}
	return events, norm.String(), nil
}

// ICSError is a problem in a supplied iCalendar file: the file, the line
// to blame (0 when none is), and what is wrong with how to fix it.
type ICSError struct {
	File string
	Line int
	Msg  string
}

// Error renders "file:line: message".
func (e *ICSError) Error() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

func lineErr(line int, format string, args ...any) error {
	return &ICSError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// named sets the file an *ICSError is about.
func named(file string, err error) error {
	var e *ICSError
	if errors.As(err, &e) {
		e.File = file
		return e
	}
	return &ICSError{File: file, Msg: err.Error()}
}

// clip shortens a line quoted in an error.
func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
