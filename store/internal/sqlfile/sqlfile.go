// Package sqlfile splits a driver's queries.sql into named statements.
// Keeping a driver's SQL in one .sql file lets it be read, reviewed and
// EXPLAINed as SQL, and lets the driver prepare every statement at open.
package sqlfile

import (
	"fmt"
	"strings"
)

// Parse splits a file of "-- name: X" blocks into named statements; other
// comment lines are dropped and a trailing semicolon is removed.
func Parse(src string) (map[string]string, error) {
	out := map[string]string{}
	var name string
	var b strings.Builder
	flush := func() error {
		if name == "" {
			return nil
		}
		q := strings.TrimSuffix(strings.TrimSpace(b.String()), ";")
		if q == "" {
			return fmt.Errorf("query %q is empty", name)
		}
		if _, dup := out[name]; dup {
			return fmt.Errorf("query %q is defined twice", name)
		}
		out[name] = q
		return nil
	}
	for line := range strings.Lines(src) {
		if n, ok := strings.CutPrefix(strings.TrimSpace(line), "-- name:"); ok {
			if err := flush(); err != nil {
				return nil, err
			}
			name = strings.TrimSpace(n)
			b.Reset()
			continue
		}
		if name != "" && !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}
