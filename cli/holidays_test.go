package cli

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/flow"
)

// holidayICS is an iCalendar file whose all-day VEVENTs fall on days.
func holidayICS(days ...string) string {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Osprey//test//EN\r\n")
	for _, d := range days {
		b.WriteString("BEGIN:VEVENT\r\nUID:" + d + "@example.org\r\nDTSTART;VALUE=DATE:" + d + "\r\nSUMMARY:Holiday\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n")
	}
	b.WriteString("END:VCALENDAR\r\n")
	return b.String()
}

// TestSuppliedHolidayCalendars: calendars supplied in
// osprey.holidays.directory answer the PublicHoliday condition of a
// Schedule trigger (fired through a backfill) and isPublicHoliday() in a
// task, for a code no built-in calendar has (XX) and in place of a
// built-in one (US).
func TestSuppliedHolidayCalendars(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "XX.ics"), []byte(holidayICS("20260105")), 0o600))
	// The supplied US calendar has an announced day (January 2) and not
	// New Year's Day, which the built-in one has.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "us.ics"), []byte(holidayICS("20260102")), 0o600))

	sys := startSystem(t, &conformance.Env{Vars: map[string]string{"OSPREY_HOLIDAYS_DIRECTORY": dir}}, `
id: on-holidays
namespace: acme
tasks:
  - {id: day, type: io.kestra.plugin.core.debug.Return, format: "{{ trigger.date }}"}
triggers:
  - id: daily
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 9 * * *"
    conditions:
      - type: io.kestra.plugin.core.condition.PublicHoliday
        country: XX
`, `
id: working-days
namespace: acme
tasks:
  - {id: day, type: io.kestra.plugin.core.debug.Return, format: "{{ trigger.date }}"}
triggers:
  - id: daily
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 9 * * *"
    conditions:
      - type: io.kestra.plugin.core.condition.Not
        conditions:
          - type: io.kestra.plugin.core.condition.PublicHoliday
            country: US
`, `
id: asks
namespace: acme
tasks:
  - id: ask
    type: io.kestra.plugin.core.debug.Return
    format: "{{ isPublicHoliday('2026-01-05', 'XX') }} {{ isPublicHoliday('2026-01-02', 'US') }} {{ isPublicHoliday('2026-01-01', 'US') }} {{ isPublicHoliday('2027-07-14', 'FR') }}"
`)
	backfill := func(id string) []string {
		t.Helper()
		code, body, err := sys.HTTP(ctx, http.MethodPut, "/api/v1/main/triggers", "application/json",
			[]byte(`{"namespace":"acme","flowId":"`+id+`","triggerId":"daily","backfill":{"start":"2026-01-01T00:00:00Z","end":"2026-01-06T23:00:00Z"}}`))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code, string(body))
		// The backfill is done when its last tick (January 6, 2026) has been
		// looked at: wait for the trigger's backfill to go away.
		require.Eventually(t, func() bool {
			code, body, err := sys.HTTP(ctx, http.MethodGet, "/api/v1/main/triggers/acme/"+id, "", nil)
			return err == nil && code == http.StatusOK && !strings.Contains(string(body), `"backfill":{`)
		}, 30*time.Second, 20*time.Millisecond, "the backfill of %s ends", id)
		var list []*flow.Execution
		require.Eventually(t, func() bool {
			var err error
			list, err = sys.Executions(ctx, "acme", id)
			return err == nil && !slices.ContainsFunc(list, func(e *flow.Execution) bool { return !e.State.Current.IsTerminal() })
		}, 30*time.Second, 20*time.Millisecond)
		var days []string
		for _, e := range list {
			require.Equal(t, flow.StateSuccess, e.State.Current)
			days = append(days, e.Trigger.Variables["date"].(string)[:len(time.DateOnly)])
		}
		slices.Sort(days)
		return days
	}
	require.Equal(t, []string{"2026-01-05"}, backfill("on-holidays"), "only the supplied XX holiday fires")
	require.Equal(t, []string{"2026-01-01", "2026-01-03", "2026-01-04", "2026-01-05", "2026-01-06"}, backfill("working-days"),
		"the supplied US calendar replaces the built-in one: its January 2 is skipped, New Year's Day is not")

	ex := sys.runToEnd(t, "acme", "asks")
	require.Equal(t, flow.StateSuccess, ex.State.Current)
	require.Equal(t, "true true false true", ex.TaskRunList[0].Outputs["value"])
}

// TestBrokenHolidayCalendarStopsStart: a server given a holiday calendar
// that does not parse refuses to start, naming the key, the file, the line
// and the fix.
func TestBrokenHolidayCalendarStopsStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART;VALUE=DATE:2027-03-10\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "SA.ics"), []byte(bad), 0o600))
	cfgPath := filepath.Join(t.TempDir(), "application.yml")
	require.NoError(t, os.WriteFile(cfgPath, []byte("osprey:\n  data-dir: "+t.TempDir()+"\n  holidays:\n    directory: "+dir+"\n"), 0o600))

	var stderr strings.Builder
	code := Run(t.Context(), &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr},
		[]string{"-c", cfgPath, "server", "local", "--port", "0", "--management-port", "0"})
	require.Equal(t, 1, code, stderr.String())
	msg := stderr.String()
	require.Contains(t, msg, cfgPath+":4: osprey.holidays.directory: the holiday calendars do not load: ")
	require.Contains(t, msg, filepath.Join(dir, "SA.ics")+`:5: DTSTART: "2027-03-10" is not a date: write YYYYMMDD`)

	missing := filepath.Join(dir, "none")
	stderr.Reset()
	code = Run(t.Context(), &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr, Environ: []string{"OSPREY_HOLIDAYS_DIRECTORY=" + missing}},
		[]string{"server", "local", "--port", "0", "--management-port", "0", "--data-dir", t.TempDir()})
	require.Equal(t, 1, code, stderr.String())
	require.Contains(t, stderr.String(), "OSPREY_HOLIDAYS_DIRECTORY: osprey.holidays.directory: "+missing+" does not exist: create it")
}
