package scheduler

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/pgtest"
	"github.com/ospreyhq/osprey/store/postgres"
	"github.com/ospreyhq/osprey/trigger/triggertest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestTwoSchedulersOnPostgres runs two schedulers, each on its own
// connection pool to one PostgreSQL database, through the same ticks at
// the same moments: every tick fires exactly once.
func TestTwoSchedulersOnPostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Start(t)
	c := triggertest.NewClock(t0)
	fs := parseFlows(t, scheduleFlow(""))
	var scheds []*Scheduler
	for range 2 {
		st, err := postgres.Open(t.Context(), dsn, postgres.Options{Now: c.Now, MaxConns: 4})
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		scheds = append(scheds, newScheduler(st, fs, c))
	}
	ctx := t.Context()
	pass := func() {
		var wg sync.WaitGroup
		errs := make([]error, len(scheds))
		for i, s := range scheds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.runOnce(ctx)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
	}
	pass()
	const ticks = 20
	for i := 1; i <= ticks; i++ {
		c.Set(t0.Add(time.Duration(i) * time.Minute))
		pass()
		pass()
	}
	// A stretch both were down for: they race over the catch-up.
	c.Set(t0.Add((ticks + 5) * time.Minute))
	pass()
	st := scheds[0].o.Store
	require.Equal(t, minutes("2026-03-04T10:01:00Z", ticks+5), fireDates(t, st), "one execution per tick, none missing")

	count, err := st.Executions().CountActive(context.Background(), "acme", "every-minute")
	require.NoError(t, err)
	require.Zero(t, count, "the fired executions wait in CREATED for the executor")
}
