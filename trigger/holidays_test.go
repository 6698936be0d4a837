package trigger_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/internal/calendar"
	"github.com/ospreyhq/osprey/trigger"
)

const holidayHook = `
id: holiday-hook
namespace: io.kestra.tests
tasks:
  - {id: only, type: io.kestra.plugin.core.debug.Return, format: x}
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: holiday-key
    conditions:
      - type: io.kestra.plugin.core.condition.PublicHoliday
        country: XX
`

// TestWebhookReadsSuppliedHolidays: the dispatcher's PublicHoliday
// condition reads the calendars it is given, supplied ones included.
func TestWebhookReadsSuppliedHolidays(t *testing.T) {
	t.Parallel()
	supplied := func(day string) *calendar.Calendars {
		src := strings.ReplaceAll("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:d\nDTSTART;VALUE=DATE:"+day+"\nEND:VEVENT\nEND:VCALENDAR\n", "\n", "\r\n")
		ics, err := calendar.ParseICS("XX.ics", []byte(src))
		require.NoError(t, err)
		return calendar.New(map[string]*calendar.ICS{"XX": ics})
	}
	for _, tc := range []struct {
		name     string
		holidays trigger.Holidays
		fires    bool
		err      string
	}{
		{"today is the supplied holiday", supplied("20260304"), true, ""},
		{"the supplied holiday is another day", supplied("20260305"), false, ""},
		// Kestra reads a condition that fails as false; the log says why.
		{"no calendar supplied for XX", nil, false, "no public holiday calendar for XX"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, _ := newDispatcher(t, openStore(t), parse(t, holidayHook), nil) // its clock reads 2026-03-04
			d.Holidays = tc.holidays
			var logs bytes.Buffer
			d.Log = slog.New(slog.NewTextHandler(&logs, nil))
			ex, err := d.Webhook(t.Context(), "io.kestra.tests", "holiday-hook", "holiday-key", trigger.Request{})
			require.NoError(t, err)
			require.Equal(t, tc.fires, ex != nil)
			if tc.err != "" {
				require.Contains(t, logs.String(), tc.err)
			} else {
				require.NotContains(t, logs.String(), "condition failed")
			}
		})
	}
}
