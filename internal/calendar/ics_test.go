package calendar_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/internal/calendar"
)

// vcal wraps VEVENT lines in a calendar, with CRLF line ends as RFC 5545
// writes them.
func vcal(body string) []byte {
	s := "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Osprey//test//EN\n" + strings.TrimSpace(body) + "\nEND:VCALENDAR\n"
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// at parses an RFC 3339 time, or a date read in UTC.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	if len(s) == len(time.DateOnly) {
		d, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err)
		return d
	}
	d, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return d
}

// TestParseICS reads calendars as RFC 5545 defines their events' time:
// each case is a calendar and dates that are, or are not, its holidays.
func TestParseICS(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		ics      string
		holidays []string
		workdays []string
	}{
		{
			name: "all-day single: DTEND is exclusive",
			ics: `BEGIN:VEVENT
UID:fiestas@example.org
DTSTART;VALUE=DATE:20270918
DTEND;VALUE=DATE:20270919
SUMMARY:Fiestas Patrias
END:VEVENT`,
			holidays: []string{"2027-09-18", "2027-09-18T23:59:59-04:00", "2027-09-18T00:00:00+14:00"},
			workdays: []string{"2027-09-17", "2027-09-19", "2026-09-18", "2027-09-19T00:30:00-04:00"},
		},
		{
			name: "all-day without DTEND is one day",
			ics: `BEGIN:VEVENT
UID:one@example.org
DTSTART;VALUE=DATE:20270101
END:VEVENT`,
			holidays: []string{"2027-01-01"},
			workdays: []string{"2027-01-02", "2026-12-31"},
		},
		{
			name: "multi-day: every day up to the exclusive end, each read in the date's own location",
			ics: `BEGIN:VEVENT
UID:fiestas@example.org
DTSTART;VALUE=DATE:20270918
DTEND;VALUE=DATE:20270921
END:VEVENT`,
			holidays: []string{"2027-09-18", "2027-09-19", "2027-09-20", "2027-09-20T23:30:00-04:00"},
			// the same instant as the last holiday, read in UTC: the 21st
			workdays: []string{"2027-09-17", "2027-09-21", "2027-09-21T03:30:00Z"},
		},
		{
			name: "DURATION in days",
			ics: `BEGIN:VEVENT
UID:newyear@example.org
DTSTART;VALUE=DATE:20270101
DURATION:P2D
END:VEVENT`,
			holidays: []string{"2027-01-01", "2027-01-02"},
			workdays: []string{"2027-01-03"},
		},
		{
			name: "DTEND equal to DTSTART on a date is one day, as calendar applications read it",
			ics: `BEGIN:VEVENT
UID:zero@example.org
DTSTART;VALUE=DATE:20270501
DTEND;VALUE=DATE:20270501
END:VEVENT`,
			holidays: []string{"2027-05-01"},
			workdays: []string{"2027-05-02", "2027-04-30"},
		},
		{
			name: "yearly RRULE on a date",
			ics: `BEGIN:VEVENT
UID:newyear@example.org
DTSTART;VALUE=DATE:20200101
DTEND;VALUE=DATE:20200102
RRULE:FREQ=YEARLY
END:VEVENT`,
			holidays: []string{"2020-01-01", "2027-01-01", "2093-01-01"},
			workdays: []string{"2019-01-01", "2027-01-02", "2026-12-31"},
		},
		{
			name: "yearly RRULE on a weekday of a month (third Monday of January), bounded by COUNT",
			ics: `BEGIN:VEVENT
UID:mlk@example.org
DTSTART;VALUE=DATE:20250120
RRULE:FREQ=YEARLY;BYMONTH=1;BYDAY=3MO;COUNT=4
END:VEVENT`,
			holidays: []string{"2025-01-20", "2026-01-19", "2027-01-18", "2028-01-17"},
			workdays: []string{"2027-01-11", "2027-01-25", "2029-01-15"},
		},
		{
			name: "RRULE with UNTIL as a date",
			ics: `BEGIN:VEVENT
UID:old@example.org
DTSTART;VALUE=DATE:20200501
RRULE:FREQ=YEARLY;UNTIL=20260501
END:VEVENT`,
			holidays: []string{"2026-05-01"},
			workdays: []string{"2027-05-01"},
		},
		{
			name: "EXDATE removes occurrences, several on one line and on several lines",
			ics: `BEGIN:VEVENT
UID:fiestas@example.org
DTSTART;VALUE=DATE:20250918
RRULE:FREQ=YEARLY
EXDATE;VALUE=DATE:20270918,20280918
EXDATE;VALUE=DATE:20300918
END:VEVENT`,
			holidays: []string{"2025-09-18", "2026-09-18", "2029-09-18", "2031-09-18"},
			workdays: []string{"2027-09-18", "2028-09-18", "2030-09-18"},
		},
		{
			name: "RDATE adds days to a holiday's set",
			ics: `BEGIN:VEVENT
UID:bridge@example.org
DTSTART;VALUE=DATE:20270101
RDATE;VALUE=DATE:20270615,20270616
END:VEVENT`,
			holidays: []string{"2027-01-01", "2027-06-15", "2027-06-16"},
			workdays: []string{"2027-06-14", "2027-06-17"},
		},
		{
			name: "STATUS:CANCELLED is no holiday; TRANSP:TRANSPARENT still is",
			ics: `BEGIN:VEVENT
UID:election@example.org
DTSTART;VALUE=DATE:20271107
STATUS:CANCELLED
END:VEVENT
BEGIN:VEVENT
UID:eid@example.org
DTSTART;VALUE=DATE:20270310
DTEND;VALUE=DATE:20270311
TRANSP:TRANSPARENT
STATUS:CONFIRMED
END:VEVENT`,
			holidays: []string{"2027-03-10"},
			workdays: []string{"2027-11-07"},
		},
		{
			name: "an overriding VEVENT moves one occurrence, a cancelled one removes it",
			ics: `BEGIN:VEVENT
UID:labour@example.org
DTSTART;VALUE=DATE:20250501
RRULE:FREQ=YEARLY
END:VEVENT
BEGIN:VEVENT
UID:labour@example.org
RECURRENCE-ID;VALUE=DATE:20270501
DTSTART;VALUE=DATE:20270503
END:VEVENT
BEGIN:VEVENT
UID:labour@example.org
RECURRENCE-ID;VALUE=DATE:20280501
STATUS:CANCELLED
DTSTART;VALUE=DATE:20280501
END:VEVENT`,
			holidays: []string{"2026-05-01", "2027-05-03", "2029-05-01"},
			workdays: []string{"2027-05-01", "2028-05-01"},
		},
		{
			name: "a cancelled series takes its overrides with it",
			ics: `BEGIN:VEVENT
UID:gone@example.org
DTSTART;VALUE=DATE:20250601
RRULE:FREQ=YEARLY
STATUS:CANCELLED
END:VEVENT
BEGIN:VEVENT
UID:gone@example.org
RECURRENCE-ID;VALUE=DATE:20270601
DTSTART;VALUE=DATE:20270602
END:VEVENT`,
			workdays: []string{"2026-06-01", "2027-06-01", "2027-06-02"},
		},
		{
			name: "a timed event covers its instants only, in its TZID",
			ics: `BEGIN:VEVENT
UID:xmas-eve@example.org
DTSTART;TZID=Europe/Berlin:20271224T120000
DTEND;TZID=Europe/Berlin:20271225T000000
SUMMARY:Christmas Eve afternoon
END:VEVENT`,
			holidays: []string{"2027-12-24T12:00:00+01:00", "2027-12-24T13:30:00Z", "2027-12-24T23:59:59+01:00"},
			workdays: []string{"2027-12-24T09:00:00+01:00", "2027-12-24T11:59:59+01:00", "2027-12-25T00:00:00+01:00", "2027-12-24"},
		},
		{
			name: "a timed event in UTC, repeated yearly",
			ics: `BEGIN:VEVENT
UID:half@example.org
DTSTART:20251231T120000Z
DURATION:PT12H
RRULE:FREQ=YEARLY
END:VEVENT`,
			holidays: []string{"2027-12-31T12:00:00Z", "2027-12-31T23:00:00Z", "2027-12-31T20:00:00-02:00"},
			workdays: []string{"2027-12-31T11:00:00Z", "2028-01-01T00:00:00Z"},
		},
		{
			name: "a floating timed event is read on the date's own wall clock",
			ics: `BEGIN:VEVENT
UID:float@example.org
DTSTART:20271231T120000
DTEND:20271231T180000
END:VEVENT`,
			holidays: []string{"2027-12-31T13:00:00+09:00", "2027-12-31T13:00:00-05:00"},
			workdays: []string{"2027-12-31T11:00:00+09:00", "2027-12-31T18:00:00Z"},
		},
		{
			name: "folded lines, a UTF-8 mark, other components and calendar properties are read as RFC 5545 allows",
			ics: `X-WR-CALNAME:Feriados
BEGIN:VTIMEZONE
TZID:America/Santiago
BEGIN:STANDARD
DTSTART:19700405T000000
TZOFFSETFROM:-0300
TZOFFSETTO:-0400
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:glorias@example.org
DTSTART;VALUE=DATE:20270521
SUMMARY:Día de las Glorias
  Navales
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT15M
DESCRIPTION:reminder
END:VALARM
END:VEVENT`,
			holidays: []string{"2027-05-21"},
			workdays: []string{"2027-05-22"},
		},
		{
			name: "a calendar service's export: its own properties, escapes, a UTF-8 character folded across lines",
			ics: "METHOD:PUBLISH\nX-WR-CALNAME:Holidays in Saudi Arabia\nX-WR-TIMEZONE:UTC\n" +
				"BEGIN:VEVENT\nDTSTART;VALUE=DATE:20270310\nDTEND;VALUE=DATE:20270311\nDTSTAMP:20261207T120000Z\n" +
				"UID:20270310_abcdef@example.com\nCLASS:PUBLIC\nDESCRIPTION:Public holiday\\nTo hide observances\\, go to Sett\n ings\n" +
				"SEQUENCE:0\nSTATUS:CONFIRMED\nSUMMARY:Eid al-Fitr \xd8\n \xb9\xd9\x8a\xd8\xaf\nTRANSP:TRANSPARENT\nEND:VEVENT",
			holidays: []string{"2027-03-10", "2027-03-10T23:00:00+03:00"},
			workdays: []string{"2027-03-11", "2027-03-09"},
		},
		{
			name: "names and parameters in lower case, as RFC 5545 allows",
			ics: `begin:vevent
uid:lower@example.org
dtstart;value=date:20270704
dtend;value=date:20270706
end:vevent`,
			holidays: []string{"2027-07-04", "2027-07-05"},
			workdays: []string{"2027-07-06"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := vcal(tc.ics)
			if strings.Contains(tc.name, "UTF-8 mark") {
				src = append([]byte("\ufeff"), src...)
			}
			ics, err := calendar.ParseICS("XX.ics", src)
			require.NoError(t, err)
			cals := calendar.New(map[string]*calendar.ICS{"XX": ics})
			for _, d := range tc.holidays {
				got, err := cals.IsPublicHoliday(at(t, d), "XX", "")
				require.NoError(t, err)
				require.True(t, got, "%s is a holiday", d)
			}
			for _, d := range tc.workdays {
				got, err := cals.IsPublicHoliday(at(t, d), "XX", "")
				require.NoError(t, err)
				require.False(t, got, "%s is no holiday", d)
			}
		})
	}
}

// TestParseICSErrors: a broken file is an error naming the file, the line
// to blame and the fix, never an empty calendar.
func TestParseICSErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		src  []byte
		want []string
	}{
		{"empty", nil, []string{"XX.ics: the file is empty"}},
		{"a web page", []byte("<!DOCTYPE html>\n<html><body>Not found</body></html>\n"),
			[]string{"XX.ics:1: ", "not an iCalendar content line"}},
		{"not a calendar", []byte("BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\nEND:VEVENT\r\n"),
			[]string{"XX.ics:1: the file must start with BEGIN:VCALENDAR"}},
		{"no events", vcal(""), []string{"XX.ics: the calendar holds no VEVENT"}},
		{"no DTSTART", vcal("BEGIN:VEVENT\nUID:a\nSUMMARY:x\nEND:VEVENT"),
			[]string{"XX.ics:4: the VEVENT starting here has no DTSTART", "DTSTART;VALUE=DATE:"}},
		{"a date written with dashes", vcal("BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:2027-09-18\nEND:VEVENT"),
			[]string{"XX.ics:6: DTSTART: \"2027-09-18\" is not a date: write YYYYMMDD"}},
		{"a line without a colon", vcal("BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE\nEND:VEVENT"),
			[]string{"XX.ics:6: ", "NAME;PARAM=value:value"}},
		{"an unknown TZID", vcal("BEGIN:VEVENT\nUID:a\nDTSTART;TZID=W. Europe Standard Time:20270101T000000\nEND:VEVENT"),
			[]string{"XX.ics:6: DTSTART: TZID \"W. Europe Standard Time\" is not an IANA time zone", "Europe/Berlin"}},
		{"a bad RRULE", vcal("BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20270101\nRRULE:FREQ=EVERY_YEAR\nEND:VEVENT"),
			[]string{"XX.ics:7: RRULE FREQ=EVERY_YEAR", "RRULE:FREQ=YEARLY"}},
		{"an RRULE repeating every hour", vcal("BEGIN:VEVENT\nUID:a\nDTSTART:20270101T000000Z\nRRULE:FREQ=HOURLY\nEND:VEVENT"),
			[]string{"XX.ics:7: RRULE FREQ=HOURLY: a holiday repeats daily at most often"}},
		{"DTEND before DTSTART", vcal("BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20270102\nDTEND;VALUE=DATE:20270101\nEND:VEVENT"),
			[]string{"XX.ics:7: DTEND 20270101 is before DTSTART 20270102"}},
		{"DTEND of another type", vcal("BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20270101\nDTEND:20270101T120000Z\nEND:VEVENT"),
			[]string{"XX.ics:7: DTEND must be a date when DTSTART is one"}},
		{"DTEND and DURATION", vcal("BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20270101\nDTEND;VALUE=DATE:20270102\nDURATION:P1D\nEND:VEVENT"),
			[]string{"XX.ics:8: a VEVENT has DTEND or DURATION, not both"}},
		{"a bad EXDATE among good ones", vcal("BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20270101\nRRULE:FREQ=YEARLY\nEXDATE;VALUE=DATE:20280101,2029\nEND:VEVENT"),
			[]string{"XX.ics:8: EXDATE: \"2029\" is not a date"}},
		{"a VEVENT never closed", []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\n"),
			[]string{"XX.ics:3: BEGIN:VEVENT is never closed", "cut short"}},
		{"END of the wrong component", vcal("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20270101\nEND:VTODO"),
			[]string{"XX.ics:6: END:VTODO does not close BEGIN:VEVENT"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ics, err := calendar.ParseICS("XX.ics", tc.src)
			require.Error(t, err)
			require.Nil(t, ics)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestLoad reads a directory of calendars named by their codes, as a
// ConfigMap volume lays them out, and lets a supplied calendar replace a
// built-in one.
func TestLoad(t *testing.T) {
	t.Parallel()
	day := func(d string) string {
		return "BEGIN:VEVENT\nUID:" + d + "\nDTSTART;VALUE=DATE:" + d + "\nEND:VEVENT\n"
	}
	// A ConfigMap volume: the files are links into a hidden ..data
	// directory.
	dir := t.TempDir()
	data := filepath.Join(dir, "..2027_01_01_00_00_00.000000000")
	require.NoError(t, os.Mkdir(data, 0o755))
	write := func(name string, src []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(data, name), src, 0o600))
		require.NoError(t, os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)))
	}
	require.NoError(t, os.Symlink(filepath.Base(data), filepath.Join(dir, "..data")))
	write("cl.ics", vcal(day("20270918")))
	// The supplied US calendar lists New Year's Day and not July 4.
	write("US.ics", vcal(day("20270101")+day("20271105")))
	write("DE-BY.ics", vcal(day("20270815")))
	// XA is a user-assigned ISO 3166 code: no country, so never built in.
	write("xa.ics", vcal(day("20270301")))

	cals, err := calendar.Load(dir)
	require.NoError(t, err)
	require.Equal(t, []string{"CL", "DE-BY", "US", "XA"}, cals.Supplied())
	require.Contains(t, cals.Codes(), "XA")
	require.Contains(t, cals.Codes(), "FR", "the built-in codes stay known")

	for _, tc := range []struct {
		date, country, sub string
		want               bool
	}{
		{"2027-09-18", "CL", "", true},
		{"2027-03-01", "xa", "", true},
		{"2027-09-19", "cl", "", false},
		{"2027-11-05", "US", "", true},  // a day only the supplied file knows
		{"2027-07-05", "US", "", false}, // the built-in rule's observed July 4 is gone: the file replaces it
		{"2027-08-15", "DE", "BY", true},
		{"2027-08-15", "DE", "DE-BY", true},
		{"2027-01-01", "DE", "BY", false}, // the supplied Bavarian file is the whole of Bavaria's calendar
		{"2027-07-14", "FR", "", true},    // codes not supplied keep their built-in calendar
		{"2027-01-06", "DE", "BW", true},
	} {
		got, err := cals.IsPublicHoliday(at(t, tc.date), tc.country, tc.sub)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%s %s %s", tc.date, tc.country, tc.sub)
	}

	_, err = cals.IsPublicHoliday(at(t, "2027-01-01"), "ZZ", "")
	require.ErrorContains(t, err, "no public holiday calendar for ZZ")
	require.ErrorContains(t, err, ", XA", "the known codes name the supplied ones")
	require.ErrorContains(t, err, "osprey.holidays.directory")

	var none *calendar.Calendars
	got, err := none.IsPublicHoliday(at(t, "2027-07-05"), "US", "")
	require.NoError(t, err)
	require.True(t, got, "without supplied calendars the built-in ones answer")
}

// TestLoadErrors: every bad file of the directory is reported at once,
// each by its path.
func TestLoadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, src string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600))
	}
	write("holidays-cl.ics", string(vcal("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20270101\nEND:VEVENT")))
	write("README.txt", "calendars")
	write("SA.ics", string(vcal("BEGIN:VEVENT\nDTSTART:2027-03-10\nEND:VEVENT")))
	write(".hidden", "ignored")
	_, err := calendar.Load(dir)
	require.Error(t, err)
	msg := err.Error()
	require.Contains(t, msg, filepath.Join(dir, "holidays-cl.ics")+": name each file by the ISO 3166 code it is for, e.g. CL.ics or DE-BY.ics")
	require.Contains(t, msg, filepath.Join(dir, "README.txt")+": name each file")
	require.Contains(t, msg, filepath.Join(dir, "SA.ics")+":5: DTSTART")
	require.NotContains(t, msg, ".hidden")

	_, err = calendar.Load(filepath.Join(dir, "missing"))
	require.ErrorContains(t, err, "no such file or directory")

	dup := t.TempDir()
	for _, name := range []string{"cl.ics", "CL.ics"} {
		require.NoError(t, os.WriteFile(filepath.Join(dup, name), vcal("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20270101\nEND:VEVENT"), 0o600))
	}
	_, err = calendar.Load(dup)
	require.ErrorContains(t, err, "keep one file per code")
}

// FuzzParseICS: no file makes the parser, or a calendar it accepted,
// panic.
func FuzzParseICS(f *testing.F) {
	for _, s := range []string{
		"BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20270918\nDTEND;VALUE=DATE:20270921\nRRULE:FREQ=YEARLY;BYMONTH=9\nEXDATE;VALUE=DATE:20280918\nEND:VEVENT",
		"BEGIN:VEVENT\nUID:b\nDTSTART;TZID=Europe/Berlin:20271224T120000\nDURATION:PT12H\nRDATE;TZID=Europe/Berlin:20281224T120000\nEND:VEVENT",
		"BEGIN:VEVENT\nUID:c\nRECURRENCE-ID;VALUE=DATE:20270501\nDTSTART:20270503T000000\nSTATUS:CANCELLED\nEND:VEVENT",
	} {
		f.Add(vcal(s))
	}
	f.Add([]byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;X=\"a:b\";VALUE=DATE:20270101\r\n END:VEVENT\r\n"))
	dates := []time.Time{time.Date(2027, 9, 19, 10, 0, 0, 0, time.UTC), time.Date(2027, 12, 24, 15, 0, 0, 0, time.FixedZone("", 3600))}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 1<<16 {
			return
		}
		ics, err := calendar.ParseICS("XX.ics", src)
		if err != nil {
			require.Nil(t, ics)
			return
		}
		cals := calendar.New(map[string]*calendar.ICS{"XX": ics})
		for _, d := range dates {
			_, err := cals.IsPublicHoliday(d, "XX", "")
			require.NoError(t, err)
		}
	})
}

// BenchmarkSuppliedHoliday checks one date against a calendar of 15 yearly
// holidays repeating since 1990 and 10 years of one-off announced days, as
// a schedule's PublicHoliday condition does on every tick.
func BenchmarkSuppliedHoliday(b *testing.B) {
	var body strings.Builder
	for i := range 15 {
		body.WriteString("BEGIN:VEVENT\nUID:y" + strconv.Itoa(i) + "\nDTSTART;VALUE=DATE:1990" + fmt.Sprintf("%02d%02d", i%12+1, i+1) + "\nRRULE:FREQ=YEARLY\nEND:VEVENT\n")
	}
	for y := 2020; y < 2030; y++ {
		body.WriteString("BEGIN:VEVENT\nUID:a" + strconv.Itoa(y) + "\nDTSTART;VALUE=DATE:" + strconv.Itoa(y) + "0410\nDTEND;VALUE=DATE:" + strconv.Itoa(y) + "0413\nEND:VEVENT\n")
	}
	ics, err := calendar.ParseICS("XX.ics", vcal(body.String()))
	require.NoError(b, err)
	cals := calendar.New(map[string]*calendar.ICS{"XX": ics})
	date := time.Date(2027, 11, 17, 9, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for b.Loop() {
		if _, err := cals.IsPublicHoliday(date, "XX", ""); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSuppliedCalendarsConcurrently: the scheduler, executors and workers
// of one process ask one Calendars at once (run with -race).
func TestSuppliedCalendarsConcurrently(t *testing.T) {
	t.Parallel()
	ics, err := calendar.ParseICS("XX.ics", vcal("BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20000918\nRRULE:FREQ=YEARLY\nEND:VEVENT"))
	require.NoError(t, err)
	cals := calendar.New(map[string]*calendar.ICS{"XX": ics})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for y := 2000; y < 2100; y++ {
				// t.Errorf, not require: FailNow must not be called outside
				// the test's goroutine.
				got, err := cals.IsPublicHoliday(time.Date(y, 9, 18-g%2, 12, 0, 0, 0, time.UTC), "XX", "")
				if err != nil || got != (g%2 == 0) {
					t.Errorf("%d-09-%d: got %v, %v", y, 18-g%2, got, err)
				}
			}
		})
	}
	wg.Wait()
}
