package postgres_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/pgtest"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/postgres"
	"github.com/ospreyhq/osprey/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func openDSN(t *testing.T, dsn string) *postgres.Store {
	s, err := postgres.Open(t.Context(), dsn, postgres.Options{Now: storetest.Clock(t).Now, MaxConns: 8})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Exercise(t, func(t *testing.T) store.Store { return openDSN(t, pgtest.Start(t)) })
}

// TestSharedDatabase proves what the split components rely on: several
// processes (here, stores) on one database migrate once, wake each other
// through LISTEN/NOTIFY and never claim the same work.
func TestSharedDatabase(t *testing.T) {
	dsn := pgtest.Start(t)
	stores := make([]*postgres.Store, 3)
	errs := make(chan error, len(stores))
	for i := range stores {
		go func() {
			d := dsn
			if i == 2 {
				d = "jdbc:" + strings.Replace(dsn, "postgres://", "postgresql://", 1) // as Kestra's config writes it
			}
			s, err := postgres.Open(t.Context(), d, postgres.Options{Now: storetest.Clock(t).Now})
			stores[i] = s
			errs <- err
		}()
	}
	for range stores {
		require.NoError(t, <-errs, "concurrent migrators take turns")
	}
	for _, s := range stores {
		t.Cleanup(func() { s.Close() })
	}
	a, b := stores[0], stores[1]

	ch, err := b.Queue().Subscribe(t.Context(), store.TopicJobs)
	require.NoError(t, err)
	require.NoError(t, a.Queue().Notify(t.Context(), store.TopicJobs))
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("another process's Notify did not wake this one")
	}

	execCh, err := b.Queue().Subscribe(t.Context(), store.TopicExecutions)
	require.NoError(t, err)
	e := &flow.Execution{ID: "shared-1", Namespace: "acme", FlowID: "f",
		State: flow.NewStateInfo(flow.StateCreated, storetest.Clock(t).Now())}
	require.NoError(t, a.Executions().Create(t.Context(), e))
	select {
	case <-execCh:
	case <-time.After(10 * time.Second):
		t.Fatal("an execution created by another process did not wake this one")
	}
	got, v, err := b.Executions().Get(t.Context(), e.ID)
	require.NoError(t, err)
	require.Equal(t, e.FlowID, got.FlowID)

	// A webserver waiting on an execution hears its end from the executor
	// in another process.
	endCh, err := b.Queue().Subscribe(t.Context(), store.TopicExecution(e.ID))
	require.NoError(t, err)
	got.State.Set(flow.StateSuccess, storetest.Clock(t).Now())
	_, err = a.Executions().Save(t.Context(), store.SaveParams{Execution: got, Version: v})
	require.NoError(t, err)
	select {
	case <-endCh:
	case <-time.After(10 * time.Second):
		t.Fatal("an execution saved by another process did not wake its waiters here")
	}
}

// TestListenerReconnects proves wake-ups survive a lost connection: the
// listener's backend is killed and a later Notify still arrives.
func TestListenerReconnects(t *testing.T) {
	dsn := pgtest.Start(t)
	a, b := openDSN(t, dsn), openDSN(t, dsn)
	ctx := t.Context()
	admin, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer admin.Close(ctx)
	listeners := func() []int32 {
		rows, err := admin.Query(ctx, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN osprey' ORDER BY pid`)
		require.NoError(t, err)
		pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		require.NoError(t, err)
		return pids
	}
	before := listeners()
	require.Len(t, before, 2, "one listener per store")
	_, err = admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1)", before)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		now := listeners()
		return len(now) == 2 && !slices.Contains(before, now[0]) && !slices.Contains(before, now[1])
	}, 20*time.Second, 20*time.Millisecond, "listeners reconnect")

	ch, err := b.Queue().Subscribe(ctx, "custom-topic")
	require.NoError(t, err)
	require.NoError(t, a.Queue().Notify(ctx, "custom-topic"))
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no wake-up after the listener reconnected")
	}
}

// TestOpenErrorsHideThePassword proves a bad or unreachable DSN never
// echoes the password into errors (which reach logs).
func TestOpenErrorsHideThePassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://osprey:s3cret-pw@127.0.0.1:1/osprey?connect_timeout=2&sslmode=disable",
		"postgres://osprey:s3cret-pw@127.0.0.1:1/osprey?sslmode=bogus%zz",
	} {
		_, err := postgres.Open(t.Context(), dsn, postgres.Options{})
		require.Error(t, err)
		require.NotContains(t, err.Error(), "s3cret-pw")
	}
	_, err := postgres.Open(t.Context(), "postgres://osprey@127.0.0.1:1/osprey?connect_timeout=2",
		postgres.Options{Password: "s3cret-pw"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cret-pw")
}
