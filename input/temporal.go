package input

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
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

// javaDuration is a java.time.Duration: seconds and a nanosecond
// adjustment in [0, 1e9), so its printed form matches Kestra's.
type javaDuration struct {
	secs  int64
	nanos int64
}

var isoDuration = regexp.MustCompile(`(?i)^([-+]?)P(?:([-+]?[0-9]+)D)?(T(?:([-+]?[0-9]+)H)?(?:([-+]?[0-9]+)M)?(?:([-+]?[0-9]+)(?:[.,]([0-9]{0,9}))?S)?)?$`)

var errDuration = errors.New("it must be an ISO-8601 duration, such as PT30S, PT1H30M or P2D")

// parseDuration reads a DURATION as Duration.parse does: days, hours,
// minutes and seconds (with a fraction), each optionally signed.
func parseDuration(s string) (javaDuration, error) {
	m := isoDuration.FindStringSubmatch(s)
	if m == nil || strings.EqualFold(m[3], "T") || (m[2] == "" && m[3] == "") {
		return javaDuration{}, errDuration
	}
	total := new(big.Int) // nanoseconds
	add := func(field string, unit int64) bool {
		if field == "" {
			return true
		}
		n, ok := new(big.Int).SetString(strings.TrimPrefix(field, "+"), 10)
		if !ok {
			return false
		}
		total.Add(total, n.Mul(n, big.NewInt(unit)))
		return true
	}
	const sec = int64(time.Second)
	if !add(m[2], 86400*sec) || !add(m[4], 3600*sec) || !add(m[5], 60*sec) || !add(m[6], sec) {
		return javaDuration{}, errDuration
	}
	if m[7] != "" {
		frac, _ := strconv.ParseInt(m[7]+strings.Repeat("0", 9-len(m[7])), 10, 64)
		if strings.HasPrefix(m[6], "-") {
			frac = -frac
		}
		total.Add(total, big.NewInt(frac))
	}
	if m[1] == "-" {
		total.Neg(total)
	}
	secs, nanos := new(big.Int).DivMod(total, big.NewInt(sec), new(big.Int)) // Euclidean: nanos ≥ 0
	if !secs.IsInt64() {
		return javaDuration{}, errors.New("it is a duration too long to represent")
	}
	return javaDuration{secs: secs.Int64(), nanos: nanos.Int64()}, nil
}

func (d javaDuration) cmp(o javaDuration) int {
	switch {
	case d.secs != o.secs:
		if d.secs < o.secs {
			return -1
		}
		return 1
	case d.nanos < o.nanos:
		return -1
	case d.nanos > o.nanos:
		return 1
	}
	return 0
}

// String prints d as Duration.toString does: PT8H6M12.345S, PT48H for two
// days, PT0S for zero, and negative parts each signed.
func (d javaDuration) String() string {
	if d.secs == 0 && d.nanos == 0 {
		return "PT0S"
	}
	eff := d.secs
	if eff < 0 && d.nanos > 0 {
		eff++
	}
	hours, minutes, secs := eff/3600, (eff%3600)/60, eff%60
	var b strings.Builder
	b.WriteString("PT")
	if hours != 0 {
		b.WriteString(strconv.FormatInt(hours, 10) + "H")
	}
	if minutes != 0 {
		b.WriteString(strconv.FormatInt(minutes, 10) + "M")
	}
	if secs == 0 && d.nanos == 0 && b.Len() > 2 {
		return b.String()
	}
	if d.secs < 0 && d.nanos > 0 && secs == 0 {
		b.WriteString("-0")
	} else {
		b.WriteString(strconv.FormatInt(secs, 10))
	}
	if d.nanos > 0 {
		n := d.nanos
		if d.secs < 0 {
			n = int64(time.Second) - n
		}
		b.WriteString("." + strings.TrimRight(fmt.Sprintf("%09d", n), "0"))
	}
	b.WriteString("S")
	return b.String()
}
