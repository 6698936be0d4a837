package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseProc(t *testing.T) {
	t.Parallel()
	// The command name may hold spaces and parentheses.
	stat := "4242 (osprey (x) y) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 12 0 100 0 0"
	cpu, err := parseStatCPU(stat)
	require.NoError(t, err)
	require.Equal(t, 3250*time.Millisecond, cpu, "utime 250 + stime 75 ticks of 10 ms")
	_, err = parseStatCPU("garbage")
	require.Error(t, err)

	rss, hwm := parseStatusMem("Name:\tosprey\nVmHWM:\t   40960 kB\nVmRSS:\t   20480 kB\n")
	require.Equal(t, int64(20<<20), rss)
	require.Equal(t, int64(40<<20), hwm)
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {95, 95 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}}
	for _, tc := range tests {
		require.Equal(t, tc.want, percentile(d, tc.p), "p%v", tc.p)
	}
	require.Zero(t, percentile(nil, 50))
}

func TestReadSSE(t *testing.T) {
	t.Parallel()
	stream := "id: start\ndata: {}\n\n: keep-alive\n\nid: progress\ndata: {\"message\":\"a\"}\n\nid: end\ndata: {}\n\nid: never\ndata: x\n\n"
	var got []string
	require.NoError(t, readSSE(strings.NewReader(stream), func(event, data string) bool {
		got = append(got, event+" "+data)
		return event != "end"
	}))
	require.Equal(t, []string{"start {}", `progress {"message":"a"}`, "end {}"}, got)
}

func TestScenarioNamesAreKnown(t *testing.T) {
	t.Parallel()
	_, err := choose(Options{Scenarios: []string{"nope"}})
	require.ErrorContains(t, err, "the scenarios are two-tasks-100/s")
	short, err := choose(Options{Short: true})
	require.NoError(t, err)
	for _, s := range short {
		require.NotEqual(t, "foreach-100000", s.name, "a short run stays short")
	}
}
