package flow_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
)

func TestParseDateTime(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	cases := []struct {
		in   string
		loc  *time.Location
		want string // RFC 3339 in UTC; empty: an error
	}{
		{"2026-12-24T17:00:00Z", nil, "2026-12-24T17:00:00Z"},
		{"2026-12-24T18:00:00.5+01:00", nil, "2026-12-24T17:00:00.5Z"},
		{"2026-12-24T18:00:00+01:00[Europe/Paris]", nil, "2026-12-24T17:00:00Z"},
		{"2026-12-24T18:00+01:00", nil, "2026-12-24T17:00:00Z"},
		{"2026-12-24T18:00:00", paris, "2026-12-24T17:00:00Z"},
		{"2026-12-24T18:00", nil, "2026-12-24T18:00:00Z"},
		{"2026-07-01", paris, "2026-06-30T22:00:00Z"},
		{"tomorrow", nil, ""},
		{"2026-13-01T00:00:00Z", nil, ""},
	}
	for _, tc := range cases {
		got, err := flow.ParseDateTime(tc.in, tc.loc)
		if tc.want == "" {
			require.ErrorContains(t, err, "is not an ISO 8601 date-time", tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got.UTC().Format(time.RFC3339Nano), tc.in)
	}
}
