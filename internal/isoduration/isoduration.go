// Package isoduration reads and writes ISO-8601 durations exactly as
// java.time.Duration does, since Kestra's flows, configuration and API
// speak that dialect: Parse accepts what Duration.parse accepts (days,
// hours, minutes and seconds, each optionally signed, a fraction of at most
// nine digits on the seconds), and Format prints what Duration.toString
// prints (PT8H6M12.345S, PT48H for two days, PT0S for zero).
//
// The standard library reads only Go's form (1m30s), and the ISO-8601
// libraries for Go accept years and months, which a Duration refuses, or
// print with float rounding (PT11.975999999999999S), which Java cannot read
// back; hence this package.
package isoduration

import (
	"errors"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var pattern = regexp.MustCompile(`(?i)^([-+]?)P(?:([-+]?[0-9]+)D)?(T(?:([-+]?[0-9]+)H)?(?:([-+]?[0-9]+)M)?(?:([-+]?[0-9]+)(?:[.,]([0-9]{0,9}))?S)?)?$`)

// ErrSyntax is returned for a text that is not an ISO-8601 duration.
var ErrSyntax = errors.New("it must be an ISO-8601 duration, such as PT30S, PT1H30M or P2D")

// ErrRange is returned for a duration past what time.Duration holds
// (about 292 years).
var ErrRange = errors.New("it is a duration too long to represent (over 292 years)")

// Parse reads s as Duration.parse does.
func Parse(s string) (time.Duration, error) {
	m := pattern.FindStringSubmatch(s)
	if m == nil || strings.EqualFold(m[3], "T") || (m[2] == "" && m[3] == "") {
		return 0, ErrSyntax
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
		return 0, ErrSyntax
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
	if !total.IsInt64() {
		return 0, ErrRange
	}
	return time.Duration(total.Int64()), nil
}

// Format prints d as Duration.toString does. Hours are not folded into
// days, the seconds' fraction has at most nine digits with trailing zeros
// dropped, and a negative duration signs each part (PT-1H-30M).
func Format(d time.Duration) string {
	if d == 0 {
		return "PT0S"
	}
	// Java keeps seconds and a nanosecond adjustment in [0, 1e9).
	secs, nanos := int64(d/time.Second), int64(d%time.Second)
	if nanos < 0 {
		secs--
		nanos += int64(time.Second)
	}
	eff := secs
	if eff < 0 && nanos > 0 {
		eff++
	}
	hours, minutes, s := eff/3600, (eff%3600)/60, eff%60
	var b strings.Builder
	b.WriteString("PT")
	if hours != 0 {
		b.WriteString(strconv.FormatInt(hours, 10) + "H")
	}
	if minutes != 0 {
		b.WriteString(strconv.FormatInt(minutes, 10) + "M")
	}
	if s == 0 && nanos == 0 && b.Len() > 2 {
		return b.String()
	}
	if secs < 0 && nanos > 0 && s == 0 {
		b.WriteString("-0")
	} else {
		b.WriteString(strconv.FormatInt(s, 10))
	}
	if nanos > 0 {
		n := nanos
		if secs < 0 {
			n = int64(time.Second) - n
		}
		frac := strconv.FormatInt(n, 10)
		b.WriteString("." + strings.TrimRight(strings.Repeat("0", 9-len(frac))+frac, "0"))
	}
	b.WriteString("S")
	return b.String()
}
