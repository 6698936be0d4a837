package schedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func TestScheduleNext(t *testing.T) {
	t.Parallel()
	paris := mustLoc(t, "Europe/Paris")
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return v.UTC()
	}
	cases := []struct {
		name  string
		props map[string]any
		from  time.Time
		want  []time.Time // the next ticks, in order
	}{
		{"five fields hourly", map[string]any{"cron": "0 * * * *"}, utc("2026-03-04T10:20:00Z"),
			[]time.Time{utc("2026-03-04T11:00:00Z"), utc("2026-03-04T12:00:00Z")}},
		{"a tick is strictly after", map[string]any{"cron": "*/15 * * * *"}, utc("2026-03-04T10:15:00Z"),
			[]time.Time{utc("2026-03-04T10:30:00Z")}},
		{"six fields with seconds", map[string]any{"cron": "*/20 * * * * *", "withSeconds": true}, utc("2026-03-04T10:00:05Z"),
			[]time.Time{utc("2026-03-04T10:00:20Z"), utc("2026-03-04T10:00:40Z"), utc("2026-03-04T10:01:00Z")}},
		{"descriptor", map[string]any{"cron": "@daily"}, utc("2026-03-04T10:00:00Z"),
			[]time.Time{utc("2026-03-05T00:00:00Z")}},
		{"time zone", map[string]any{"cron": "0 9 * * *", "timezone": "Europe/Paris"}, utc("2026-03-04T00:00:00Z"),
			[]time.Time{utc("2026-03-04T08:00:00Z"), utc("2026-03-05T08:00:00Z")}},
		// 29 March 2026, Paris skips 02:00-03:00: the 02:30 tick does not
		// exist that day and the next is the following day's.
		{"spring forward skips the missing hour", map[string]any{"cron": "30 2 * * *", "timezone": "Europe/Paris"},
			time.Date(2026, 3, 28, 12, 0, 0, 0, paris).UTC(),
			[]time.Time{time.Date(2026, 3, 30, 2, 30, 0, 0, paris).UTC()}},
		// 25 October 2026, Paris repeats 02:00-03:00: 02:30 fires once.
		{"fall back fires once", map[string]any{"cron": "30 2 * * *", "timezone": "Europe/Paris"},
			time.Date(2026, 10, 25, 0, 0, 0, 0, paris).UTC(),
			[]time.Time{utc("2026-10-25T00:30:00Z"), utc("2026-10-26T01:30:00Z")}},
		{"hourly fires in both passes of the repeated hour", map[string]any{"cron": "0 * * * *", "timezone": "Europe/Paris"},
			utc("2026-10-24T23:30:00Z"),
			[]time.Time{utc("2026-10-25T00:00:00Z"), utc("2026-10-25T01:00:00Z"), utc("2026-10-25T02:00:00Z")}},
		{"daily at 9 keeps local time across DST", map[string]any{"cron": "0 9 * * *", "timezone": "Europe/Paris"},
			utc("2026-03-28T12:00:00Z"),
			[]time.Time{utc("2026-03-29T07:00:00Z"), utc("2026-03-30T07:00:00Z")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			props := tc.props
			sch, err := Parse(&flow.Trigger{ID: "s", Type: "io.kestra.plugin.core.trigger.Schedule", Props: props})
			require.NoError(t, err)
			from := tc.from
			for _, w := range tc.want {
				got := sch.Next(from)
				require.Equal(t, w, got, "after %s", from)
				from = got
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		props map[string]any
		err   string
	}{
		{"no cron", map[string]any{}, "cron is required"},
		{"six fields without withSeconds", map[string]any{"cron": "0 0 * * * *"}, "cron"},
		{"bad zone", map[string]any{"cron": "0 * * * *", "timezone": "Mars/Olympus"}, "timezone"},
		{"bad recovery", map[string]any{"cron": "0 * * * *", "recoverMissedSchedules": "SOME"}, "ALL, LAST or NONE"},
		{"zone in cron", map[string]any{"cron": "CRON_TZ=UTC 0 * * * *"}, "timezone"},
	}
	for _, tc := range cases {
		_, err := Parse(&flow.Trigger{ID: "s", Props: tc.props})
		require.ErrorContains(t, err, tc.err, tc.name)
	}
}

const onDates = "io.kestra.plugin.core.trigger.ScheduleOnDates"

func TestScheduleOnDates(t *testing.T) {
	t.Parallel()
	s, err := Parse(&flow.Trigger{ID: "s", Type: onDates, Props: map[string]any{
		"timezone": "Europe/Paris",
		"dates": []any{
			"2026-12-26T17:00:00Z",
			"2026-12-24T18:00:00+01:00[Europe/Paris]",
			"2026-12-25T09:30",     // no offset: Paris wall clock
			"2026-12-24T17:00:00Z", // the same instant as the second, once
		},
	}})
	require.NoError(t, err)
	at := func(v string) time.Time {
		t.Helper()
		d, err := time.Parse(time.RFC3339, v)
		require.NoError(t, err)
		return d.UTC()
	}
	require.Equal(t, []time.Time{at("2026-12-24T17:00:00Z"), at("2026-12-25T08:30:00Z"), at("2026-12-26T17:00:00Z")}, s.Dates,
		"sorted, in UTC, duplicates once")
	cases := []struct{ after, want string }{
		{"2026-01-01T00:00:00Z", "2026-12-24T17:00:00Z"},
		{"2026-12-24T17:00:00Z", "2026-12-25T08:30:00Z"}, // strictly after
		{"2026-12-25T08:29:59Z", "2026-12-25T08:30:00Z"},
		{"2026-12-25T09:00:00Z", "2026-12-26T17:00:00Z"},
	}
	for _, tc := range cases {
		require.Equal(t, at(tc.want), s.Next(at(tc.after)), "after %s", tc.after)
	}
	require.True(t, s.Next(at("2026-12-26T17:00:00Z")).IsZero(), "nothing after the last date")
	last := s.Variables(at("2026-12-26T17:00:00Z"), nil)
	require.Equal(t, "2026-12-26T18:00:00+01:00", last["date"], "dates read in the trigger's zone")
	require.NotContains(t, last, "next", "the last date has no next")

	other, err := Parse(&flow.Trigger{ID: "s", Type: onDates, Props: map[string]any{"timezone": "Europe/Paris", "dates": []any{"2026-12-24T17:00:00Z"}}})
	require.NoError(t, err)
	require.NotEqual(t, s.Key(), other.Key(), "changing the dates computes the next date again")
}

func TestCheckNamesTheProperty(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		typ   string
		props map[string]any
		path  string
		msg   string
	}{
		{"bad cron", "io.kestra.plugin.core.trigger.Schedule", map[string]any{"cron": "61 * * * *"}, "cron", "61"},
		{"cron-utils extension", "io.kestra.plugin.core.trigger.Schedule", map[string]any{"cron": "0 11 * * 1#1"}, "cron", "1#1"},
		{"no dates", onDates, map[string]any{}, "dates", "a list of ISO 8601 date-times"},
		{"bad date", onDates, map[string]any{"dates": []any{"2026-12-24T17:00:00Z", "Christmas"}}, "dates[1]", `"Christmas" is not an ISO 8601 date-time`},
		{"expression", onDates, map[string]any{"dates": []any{"{{ now() }}"}}, "dates[0]", "expressions are not rendered here"},
		{"bad zone", onDates, map[string]any{"dates": []any{"2026-12-24T17:00:00Z"}, "timezone": "Paris"}, "timezone", "IANA name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			errs := Check(&flow.Trigger{ID: "s", Type: tc.typ, Props: tc.props})
			require.Len(t, errs, 1)
			require.Equal(t, tc.path, errs[0].Path)
			require.Contains(t, errs[0].Message, tc.msg)
		})
	}
	require.Empty(t, Check(&flow.Trigger{ID: "s", Type: onDates, Props: map[string]any{"dates": []any{"2026-12-24T17:00:00Z"}}}))
}
