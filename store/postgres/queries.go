package postgres

import (
	_ "embed"
	"fmt"
	"strings"
)

// queriesSQL holds every statement of the driver. Keeping them in one .sql
// file lets them be read, reviewed and EXPLAINed as SQL, and lets Open
// prepare all of them once.
//
//go:embed queries.sql
var queriesSQL string

// parseQueries splits a file of "-- name: X" blocks into named statements.
func parseQueries(src string) (map[string]string, error) {
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
