package isoduration_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/internal/isoduration"
)

// The expectations are java.time.Duration's: Duration.parse(in) and
// Duration.toString().
func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"PT0S", 0},
		{"PT30S", 30 * time.Second},
		{"pt1m", time.Minute},
		{"PT1H30M", 90 * time.Minute},
		{"P2D", 48 * time.Hour},
		{"P1DT2H", 26 * time.Hour},
		{"PT0.250S", 250 * time.Millisecond},
		{"PT0,5S", 500 * time.Millisecond},
		{"PT11.975999999S", 11*time.Second + 975999999},
		{"PT0.000000001S", 1},
		{"-PT5S", -5 * time.Second},
		{"PT-5S", -5 * time.Second},
		{"PT-0.5S", -500 * time.Millisecond},
		{"P-1DT2H", -22 * time.Hour},
		{"+PT1M", time.Minute},
		{"-PT-1M", time.Minute},
	} {
		got, err := isoduration.Parse(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", "P", "PT", "P1DT", "1m30s", "30", "P1Y", "P1M", "P1W", "PT1.5H", "PT1.5M",
		"PT0.1234567891S", // Java reads at most nine fractional digits
		"PT1S2M", "P1D1H", " PT1S", "PT1S ",
	} {
		_, err := isoduration.Parse(in)
		require.ErrorIs(t, err, isoduration.ErrSyntax, "%q", in)
	}
	_, err := isoduration.Parse("P200000D")
	require.ErrorIs(t, err, isoduration.ErrRange)
}

func TestFormat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "PT0S"},
		{30 * time.Second, "PT30S"},
		{time.Minute, "PT1M"},
		{90 * time.Minute, "PT1H30M"},
		{48 * time.Hour, "PT48H"},
		{time.Hour + 500*time.Millisecond, "PT1H0.5S"},
		{11*time.Second + 975999999, "PT11.975999999S"},
		{11975999999999 * time.Nanosecond / 1000, "PT11.975999999S"},
		{1, "PT0.000000001S"},
		{-5 * time.Second, "PT-5S"},
		{-500 * time.Millisecond, "PT-0.5S"},
		{-(90*time.Minute + 1500*time.Millisecond), "PT-1H-30M-1.5S"},
		{-time.Hour, "PT-1H"},
	} {
		got := isoduration.Format(tc.in)
		require.Equal(t, tc.want, got, "%d ns", int64(tc.in))
		back, err := isoduration.Parse(got)
		require.NoError(t, err, got)
		require.Equal(t, tc.in, back, "%s reads back", got)
	}
}

func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"PT11.975999999S", "P1DT2H", "PT-0.5S", "-PT1M"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := isoduration.Parse(s)
		if err != nil {
			return
		}
		back, err := isoduration.Parse(isoduration.Format(d))
		require.NoError(t, err, s)
		require.Equal(t, d, back, s)
	})
}
