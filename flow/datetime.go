package flow

import (
	"fmt"
	"strings"
	"time"
)

// ParseDateTime reads an ISO 8601 date-time as Kestra's ZonedDateTime
// properties take it (scheduleDate, ScheduleOnDates' dates): with an
// offset (Z, +01:00), optionally followed by Java's [Zone] suffix, or
// without one, on loc's wall clock (UTC when loc is nil).
func ParseDateTime(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	v := strings.TrimSpace(s)
	if i := strings.IndexByte(v, '['); i > 0 && strings.HasSuffix(v, "]") {
		v = v[:i] // 2026-12-24T17:00:00+01:00[Europe/Paris]: the offset says when
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date-time such as 2026-12-24T17:00:00+01:00", s)
}
