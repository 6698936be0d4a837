package schedule

import (
	"errors"
	"testing"
	"time"

	"github.com/ospreyhq/osprey/flow"
)

// FuzzParse reads a Schedule trigger's cron (five or six fields), time
// zone and late delay, or a ScheduleOnDates date, and walks the next
// ticks: nothing panics, an error names its property, and every tick is
// strictly later than the one before.
func FuzzParse(f *testing.F) {
	for _, s := range []struct {
		cron, tz, delay string
		seconds         bool
	}{
		{"0 * * * *", "", "", false}, {"*/15 9-17 * * MON-FRI", "Europe/Paris", "PT1H", false},
		{"30 2 * * *", "America/New_York", "1h30m", false}, {"*/20 * * * * *", "UTC", "", true},
		{"@daily", "Asia/Kolkata", "P1DT2H", false}, {"@every 90s", "", "", false}, {"0 0 29 2 *", "", "-PT1M", false},
		{"0 0 31 4 *", "", "", false}, {"59 23 L * *", "", "", false}, {"1-0/0 * * * *", "", "", false},
		{"2026-12-24T17:00:00+01:00", "Europe/Paris", "", false}, {"2026-03-29T02:30:00", "Europe/Paris", "", false},
	} {
		f.Add(s.cron, s.tz, s.delay, s.seconds)
	}
	from := time.Date(2026, 3, 28, 23, 59, 59, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr, tz, delay string, seconds bool) {
		if len(expr)+len(tz)+len(delay) > 256 {
			t.Skip()
		}
		for _, tr := range []*flow.Trigger{
			{ID: "s", Type: "io.kestra.plugin.core.trigger.Schedule",
				Props: map[string]any{"cron": expr, "timezone": tz, "lateMaximumDelay": delay, "withSeconds": seconds}},
			{ID: "s", Type: "io.kestra.plugin.core.trigger.ScheduleOnDates",
				Props: map[string]any{"dates": []any{expr, "2026-12-24T17:00:00Z"}, "timezone": tz}},
		} {
			s, err := Parse(tr)
			if err != nil {
				var pe *PropError
				if !errors.As(err, &pe) || pe.Prop == "" {
					t.Fatalf("%q: the error names no property: %v", expr, err)
				}
				continue
			}
			_ = s.Key()
			prev := from
			for range 5 {
				n := s.Next(prev)
				if n.IsZero() {
					break
				}
				if !n.After(prev) {
					t.Fatalf("%q in %q: tick %s is not after %s", expr, tz, n, prev)
				}
				_ = s.Variables(n, &prev)
				prev = n
			}
		}
	})
}
