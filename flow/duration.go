package flow

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

var isoDur = regexp.MustCompile(`^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// ParseDuration reads a duration as Kestra writes them: ISO-8601 (PT1M,
// PT0.250S, P1DT2H) or, as a convenience, Go's form (1m30s).
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	m := isoDur.FindStringSubmatch(s)
	if m == nil || s == "P" || s == "PT" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration: write it as ISO-8601, e.g. PT30S or PT1M", s)
		}
		return d, nil
	}
	var d time.Duration
	unit := []time.Duration{24 * time.Hour, time.Hour, time.Minute}
	for i, u := range unit {
		if m[i+2] != "" {
			n, err := strconv.ParseInt(m[i+2], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("duration %q: %w", s, err)
			}
			d += time.Duration(n) * u
		}
	}
	if m[5] != "" {
		f, err := strconv.ParseFloat(m[5], 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		d += time.Duration(f * float64(time.Second))
	}
	if m[1] == "-" {
		d = -d
	}
	return d, nil
}
