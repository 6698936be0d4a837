package flow_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "PT1M", want: time.Minute},
		{in: "P1DT2H", want: 26 * time.Hour},
		{in: "PT0.250S", want: 250 * time.Millisecond},
		{in: "-PT5S", want: -5 * time.Second},
		{in: "1m30s", want: 90 * time.Second},
		{in: "", wantErr: "empty duration"},
		{in: "P1Y", wantErr: `duration "P1Y": it must be an ISO-8601 duration`},
		{in: "PT0.1234567891S", wantErr: "it must be an ISO-8601 duration"},
		{in: "soon", wantErr: `"soon" is not a duration: write it as ISO-8601`},
	} {
		got, err := flow.ParseDuration(tc.in)
		if tc.wantErr != "" {
			require.ErrorContains(t, err, tc.wantErr, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

// TestStateDurationPrintsAsJavaReadsIt: a state's duration has at most nine
// fractional digits, never a float's rounding (PT11.975999999999999S).
func TestStateDurationPrintsAsJavaReadsIt(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	si := flow.NewStateInfo(flow.StateCreated, start)
	si.Set(flow.StateSuccess, start.Add(11976*time.Millisecond))
	require.Equal(t, "PT11.976S", si.Duration)
	si = flow.NewStateInfo(flow.StateCreated, start)
	si.Set(flow.StateSuccess, start.Add(time.Hour+2*time.Minute+3*time.Millisecond))
	require.Equal(t, "PT1H2M0.003S", si.Duration)
}

func TestCheckNamespace(t *testing.T) {
	t.Parallel()
	for _, ns := range []string{"company", "company.team", "a-b_c.d1", "0.x", "a._hidden"} {
		require.NoError(t, flow.CheckNamespace(ns), ns)
	}
	for _, tc := range []struct{ ns, want string }{
		{"", "must not be empty"},
		{"..", "must be dot-separated parts"},
		{"a..b", "must be dot-separated parts"},
		{"a.", "must be dot-separated parts"},
		{".a", "must be dot-separated parts"},
		{"my team", "must be dot-separated parts"},
		{"Company", "must be dot-separated parts"},
		{"a/b", "must be dot-separated parts"},
		{strings.Repeat("a", 151), "the limit is 150"},
	} {
		require.ErrorContains(t, flow.CheckNamespace(tc.ns), tc.want, "%q", tc.ns)
	}
}
