package input

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/internal/isoduration"
)

// parseInstant reads a DATETIME as Java's Instant.parse does: an ISO-8601
// date-time with seconds and a zone (Z or an offset).
func parseInstant(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.New("it must be an ISO-8601 date-time with a zone, such as 2024-01-15T10:00:00Z")
	}
	return t.UTC(), nil
}

// formatInstant prints t as Java's ISO_INSTANT does (and so Kestra's
// execution JSON): UTC, the fraction in groups of three digits.
func formatInstant(t time.Time) string {
	t = t.UTC()
	base := t.Format("2006-01-02T15:04:05")
	return base + fraction3(t.Nanosecond()) + "Z"
}

func fraction3(ns int) string {
	switch {
	case ns == 0:
		return ""
	case ns%1_000_000 == 0:
		return fmt.Sprintf(".%03d", ns/1_000_000)
	case ns%1_000 == 0:
		return fmt.Sprintf(".%06d", ns/1_000)
	}
	return fmt.Sprintf(".%09d", ns)
}

var isoDate = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// parseDate reads a DATE as LocalDate.parse does: yyyy-MM-dd.
func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || !isoDate.MatchString(s) {
		return time.Time{}, errors.New("it must be an ISO-8601 date, such as 2024-01-15")
	}
	return t, nil
}

func formatDate(t time.Time) string { return t.Format(time.DateOnly) }

var isoTime = regexp.MustCompile(`^([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?$`)

// parseLocalTime reads a TIME as LocalTime.parse does: HH:mm, HH:mm:ss or
// HH:mm:ss with up to nine fraction digits.
func parseLocalTime(s string) (time.Time, error) {
	m := isoTime.FindStringSubmatch(s)
	bad := errors.New("it must be an ISO-8601 time, such as 10:15 or 10:15:30")
	if m == nil {
		return time.Time{}, bad
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	sec := 0
	if m[3] != "" {
		sec, _ = strconv.Atoi(m[3])
	}
	ns := 0
	if m[4] != "" {
		ns, _ = strconv.Atoi(m[4] + strings.Repeat("0", 9-len(m[4])))
	}
	if h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, bad
	}
	return time.Date(0, 1, 1, h, mi, sec, ns, time.UTC), nil
}

// formatLocalTime prints t as Jackson prints a LocalTime (ISO_LOCAL_TIME):
// seconds always, the fraction without trailing zeros.
func formatLocalTime(t time.Time) string {
	out := t.Format("15:04:05")
	if ns := t.Nanosecond(); ns > 0 {
		out += "." + strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
	}
	return out
}

// parseDuration reads a DURATION as Duration.parse does.
func parseDuration(s string) (time.Duration, error) { return isoduration.Parse(s) }
