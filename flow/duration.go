package flow

import (
	"fmt"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/internal/isoduration"
)

// ParseDuration reads a duration as Kestra writes them: ISO-8601 as Java's
// Duration.parse reads it (PT1M, PT0.250S, P1DT2H) or, as a convenience,
// Go's form (1m30s).
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if u := strings.TrimLeft(strings.ToUpper(s), "+-"); strings.HasPrefix(u, "P") {
		d, err := isoduration.Parse(s)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		return d, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: write it as ISO-8601, e.g. PT30S or PT1M", s)
	}
	return d, nil
}
