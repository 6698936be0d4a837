package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/pgtest"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/tests/e2e/cluster"
)

// The fault tests run Osprey's components as separate processes of the
// built binary on one real PostgreSQL, kill them with SIGKILL (kill -9: no
// shutdown code runs) or take the database away, and then check what a
// crash must never break, reading the API as a user would and a ledger the
// tasks report to themselves, apart from the store:
//   - every execution submitted ends, and none appears that was not;
//   - no task run ran more often than the attempts it records;
//   - a flow's concurrency limit was never exceeded;
//   - a schedule fired no tick twice and lost none (it recovers ALL).
//
// Recovery from a dead executor waits for its claims' 30 s lease to run out
// (the worker test shortens the job lease with osprey.worker.lease), so
// these tests run in parallel and poll with generous deadlines.

const faultNS = "faults"

// faultCluster is a cluster on the database dsn with the flows of the
// fault tests stored, its webserver up, and a ledger in its own directory.
type faultCluster struct {
	*cluster.Cluster
	t      *testing.T
	api    *cluster.Client
	ledger *cluster.Ledger
	// leftovers are task processes to kill when the test ends (an orphan
	// the worker test found).
	leftovers []cluster.Process
}

func newFaultCluster(t *testing.T, dsn string, roles ...string) *faultCluster {
	t.Helper()
	return newFaultClusterEnv(t, dsn, nil, roles...)
}

// newFaultClusterEnv is newFaultCluster with env added to every process's
// environment.
func newFaultClusterEnv(t *testing.T, dsn string, env []string, roles ...string) *faultCluster {
	t.Helper()
	if err := cluster.NeedCurl(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	c, err := cluster.New(cluster.Options{Binary: binary(t), DSN: dsn, Dir: dir, Env: env})
	require.NoError(t, err)
	ledger, err := cluster.NewLedger(filepath.Join(dir, "ledger"))
	require.NoError(t, err)
	fc := &faultCluster{Cluster: c, t: t, api: c.API(), ledger: ledger}
	t.Cleanup(func() {
		c.Close()
		for _, p := range fc.leftovers {
			p.Kill()
		}
		_ = ledger.Close()
		if t.Failed() {
			for _, p := range c.Procs() {
				t.Logf("---- %s (pid %d, restarts %d), last lines:\n%s", p.Name, p.PID(), p.Restarts(), p.Log(6000))
			}
		}
	})
	for _, r := range roles {
		_, err := c.Start(r)
		require.NoError(t, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	require.NoError(t, fc.api.WaitReady(ctx), "webserver log:\n%s", fc.Role(cluster.Webserver)[0].Log(4000))
	require.NoError(t, c.WaitStarted(ctx))
	for id, src := range map[string]string{
		"work":    workFlow(fc.ledger),
		"limited": limitedFlow(fc.ledger),
		"long":    longFlow(fc.ledger),
	} {
		require.NoError(t, fc.api.PutFlow(ctx, faultNS, id, src))
	}
	return fc
}

// workFlow is a short flow: a shell task that marks the ledger, then a log.
func workFlow(ledger *cluster.Ledger) string {
	return fmt.Sprintf(`id: work
namespace: faults
tasks:
  - id: mark
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - %s
      - sleep 0.2
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "done {{ execution.id }}"
`, strconv.Quote(ledger.MarkCommand("start")))
}

// limitedFlow runs two at a time at most; the others wait QUEUED.
func limitedFlow(ledger *cluster.Ledger) string {
	return fmt.Sprintf(`id: limited
namespace: faults
concurrency:
  limit: 2
  behavior: QUEUE
tasks:
  - id: mark
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - %s
      - sleep 0.5
      - %s
`, strconv.Quote(ledger.MarkCommand("start")), strconv.Quote(ledger.MarkCommand("end")))
}

// longFlow's task runs for a minute the first time and ends at once when
// the ledger shows it ran before, so a re-run after a crash is quick.
func longFlow(ledger *cluster.Ledger) string {
	return fmt.Sprintf(`id: long
namespace: faults
tasks:
  - id: sleep
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - %s
      - %s
      - i=0; while [ $i -lt 120 ]; do sleep 0.5; i=$((i+1)); done
`, strconv.Quote(ledger.MarkCommand("start")),
		strconv.Quote(fmt.Sprintf(`n=$(%s); if [ "$n" -gt 1 ]; then exit 0; fi`, ledger.RunsCommand())))
}

// tickFlow fires every second; disabled stops it.
func tickFlow(ledger *cluster.Ledger, disabled bool) string {
	return fmt.Sprintf(`id: tick
namespace: faults
triggers:
  - id: every-second
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "* * * * * *"
    withSeconds: true
    recoverMissedSchedules: ALL
    disabled: %t
tasks:
  - id: mark
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - %s
`, disabled, strconv.Quote(ledger.MarkCommand("start")))
}

// submit starts n executions of flow id, a few at a time, and returns
// their ids; a refused submission fails the test.
func (fc *faultCluster) submit(id string, n int) []string {
	fc.t.Helper()
	ids, err := fc.trySubmit(id, n)
	require.NoError(fc.t, err)
	return ids
}

// trySubmit is submit for another goroutine than the test's.
func (fc *faultCluster) trySubmit(id string, n int) ([]string, error) {
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ids[i], errs[i] = fc.api.Submit(fc.t.Context(), faultNS, id)
		}()
	}
	wg.Wait()
	return ids, errors.Join(errs...)
}

// waitMarks polls the ledger until it holds at least n marks.
func (fc *faultCluster) waitMarks(n int, within time.Duration) []cluster.Mark {
	fc.t.Helper()
	deadline := time.Now().Add(within)
	for {
		marks := fc.ledger.Marks()
		if len(marks) >= n {
			return marks
		}
		if time.Now().After(deadline) {
			fc.t.Fatalf("the ledger holds %d marks after %s, want %d", len(marks), within, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitRan polls the ledger until tasks of at least n executions of flow id
// ran, and returns how many did (a task run may run twice; it counts once).
func (fc *faultCluster) waitRan(id string, n int, within time.Duration) int {
	fc.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ran := map[string]bool{}
		for _, m := range fc.ledger.Marks() {
			if m.Flow == id {
				ran[m.Execution] = true
			}
		}
		if len(ran) >= n {
			return len(ran)
		}
		if time.Now().After(deadline) {
			fc.t.Fatalf("tasks of %d executions of %s ran after %s, want %d", len(ran), id, within, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitEnded polls the API until every execution of the namespace has
// ended and there are at least want of them, then returns them.
func (fc *faultCluster) waitEnded(want int, within time.Duration) []*flow.Execution {
	fc.t.Helper()
	deadline := time.Now().Add(within)
	for {
		exs, err := fc.api.Executions(fc.t.Context(), faultNS, "")
		if err == nil && len(exs) >= want {
			ended := 0
			for _, ex := range exs {
				if cluster.Terminal(ex) {
					ended++
				}
			}
			if ended == len(exs) {
				return exs
			}
		}
		if time.Now().After(deadline) {
			require.NoError(fc.t, err)
			var open []string
			for _, ex := range exs {
				if !cluster.Terminal(ex) {
					open = append(open, ex.ID+" "+ex.FlowID+" "+string(ex.State.Current))
				}
			}
			fc.t.Fatalf("after %s: %d executions (want at least %d), not ended: %v", within, len(exs), want, open)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// verify runs the checks every fault test shares: the executions the API
// lists are exactly those submitted plus those the schedule started, each
// ended in SUCCESS, no task run ran more than its attempts say, and the
// limited flow never ran more than two at once.
func (fc *faultCluster) verify(exs []*flow.Execution, submitted []string) cluster.Report {
	fc.t.Helper()
	rep := cluster.Check(exs, fc.ledger.Marks())
	assert.Empty(fc.t, rep.Problems)
	assert.Equal(fc.t, rep.Executions, rep.Ended, "executions started = ended")

	listed := map[string]bool{}
	for _, ex := range exs {
		if ex.Trigger == nil {
			listed[ex.ID] = true
		}
		assert.Equal(fc.t, flow.StateSuccess, ex.State.Current, "execution %s of %s", ex.ID, ex.FlowID)
	}
	for _, id := range submitted {
		assert.True(fc.t, listed[id], "submitted execution %s is not listed", id)
		delete(listed, id)
	}
	assert.Empty(fc.t, listed, "executions nobody submitted")
	assert.LessOrEqual(fc.t, cluster.MaxConcurrent(fc.ledger.Marks(), "limited"), 2, "the limited flow ran more than 2 at once")
	fc.t.Logf("%d executions, %d ended, %d task runs ran, %d beyond their attempts", rep.Executions, rep.Ended, rep.Runs, rep.Duplicates)
	return rep
}

// stopTicks disables the schedule and waits out a pass that may be
// firing.
func (fc *faultCluster) stopTicks() {
	fc.t.Helper()
	require.NoError(fc.t, fc.api.PutFlow(fc.t.Context(), faultNS, "tick", tickFlow(fc.ledger, true)))
	time.Sleep(2 * time.Second) // a pass already past the disabled check fires at most its tick
}

// checkTicks checks the schedule's executions: no tick twice, none lost,
// and at least min of them.
func (fc *faultCluster) checkTicks(exs []*flow.Execution, min int) {
	fc.t.Helper()
	var ticks []*flow.Execution
	for _, ex := range exs {
		if ex.FlowID == "tick" {
			ticks = append(ticks, ex)
		}
	}
	dates, problems := cluster.Ticks(ticks, time.Second)
	assert.Empty(fc.t, problems)
	assert.GreaterOrEqual(fc.t, len(dates), min, "ticks fired")
	if len(dates) > 0 {
		fc.t.Logf("%d ticks from %s to %s", len(dates), dates[0].Format(time.TimeOnly), dates[len(dates)-1].Format(time.TimeOnly))
	}
}

// TestFaultWorkerKilledMidTask kills the worker running a long shell task:
// the task's process dies with it (it does not run on, orphaned), the task
// run is run again by another worker once the lease runs out, and it
// records the attempt the dead worker never finished.
func TestFaultWorkerKilledMidTask(t *testing.T) {
	t.Parallel()
	// A short lease: the dead worker's job runs again within seconds, not
	// half a minute.
	fc := newFaultClusterEnv(t, pgtest.Start(t), []string{"OSPREY_WORKER_LEASE=PT6S"},
		cluster.Webserver, cluster.Executor, cluster.Scheduler, cluster.Worker, cluster.Worker, cluster.Worker)
	require.NoError(t, fc.api.PutFlow(t.Context(), faultNS, "tick", tickFlow(fc.ledger, false)))
	ids := fc.submit("long", 1)
	ids = append(ids, fc.submit("work", 10)...)
	ids = append(ids, fc.submit("limited", 6)...)
	var first cluster.Mark
	for _, m := range fc.waitMarks(17, 90*time.Second) {
		if m.Execution == ids[0] {
			first = m
		}
	}
	require.NotZero(t, first.PID, "the long task marked the ledger")
	workers := map[int]*cluster.Proc{}
	for _, p := range fc.Role(cluster.Worker) {
		workers[p.PID()] = p
	}
	pid := cluster.Ancestor(first.PID, func(pid int) bool { return workers[pid] != nil })
	require.NotZero(t, pid, "the long task's shell (pid %d) descends from a worker", first.PID)
	victim := workers[pid]
	tasks := cluster.Descendants(pid)
	require.NotEmpty(t, tasks, "the long task runs under %s", victim.Name)
	require.NoError(t, victim.Kill())
	t.Logf("killed %s (pid %d) running task run %s in %d processes", victim.Name, pid, first.TaskRun, len(tasks))

	// The task's processes must not outlive their worker.
	alive := func() []cluster.Process {
		var out []cluster.Process
		for _, p := range tasks {
			if p.Alive() {
				out = append(out, p)
			}
		}
		return out
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(alive()) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	left := alive()
	assert.Empty(t, left, "task processes still run 15s after their worker was killed")
	fc.leftovers = append(fc.leftovers, left...)

	ids = append(ids, fc.submit("work", 5)...)
	n := fc.waitRan("tick", 0, time.Second)
	fc.waitRan("tick", n+3, time.Minute) // the schedule fires on
	fc.stopTicks()
	exs := fc.waitEnded(len(ids), 3*time.Minute)
	rep := fc.verify(exs, ids)
	fc.checkTicks(exs, n+3)
	long, err := fc.api.Execution(t.Context(), ids[0])
	require.NoError(t, err)
	tr := long.TaskRunByID(first.TaskRun)
	require.NotNil(t, tr)
	assert.GreaterOrEqual(t, len(tr.Attempts), 2, "the run the dead worker never finished is an attempt of its own")
	assert.Zero(t, rep.Duplicates)
}

// TestFaultExecutorKilledMidBurst kills the only executor while a burst of
// executions is moving and starts another: every execution ends, nothing
// runs twice, the concurrency limit holds.
func TestFaultExecutorKilledMidBurst(t *testing.T) {
	t.Parallel()
	fc := newFaultCluster(t, pgtest.Start(t), cluster.Webserver, cluster.Executor, cluster.Scheduler, cluster.Worker, cluster.Worker)
	require.NoError(t, fc.api.PutFlow(t.Context(), faultNS, "tick", tickFlow(fc.ledger, false)))
	var ids []string
	var submitErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ids, submitErr = fc.trySubmit("work", 40)
		more, err := fc.trySubmit("limited", 10)
		ids, submitErr = append(ids, more...), errors.Join(submitErr, err)
	}()
	fc.waitMarks(8, 90*time.Second)
	x := fc.Role(cluster.Executor)[0]
	require.NoError(t, x.Kill())
	_, err := fc.Start(cluster.Executor)
	require.NoError(t, err)
	wg.Wait()
	require.NoError(t, submitErr)
	n := fc.waitRan("tick", 0, time.Second)
	fc.waitRan("tick", n+2, 2*time.Minute) // the new executor runs what the schedule fires
	fc.stopTicks()
	exs := fc.waitEnded(len(ids), 3*time.Minute)
	fc.verify(exs, ids)
	fc.checkTicks(exs, n+2)
}

// TestFaultSchedulerKilled kills one of two schedulers while a schedule
// fires every second and starts it again: no tick fires twice, none is
// lost.
func TestFaultSchedulerKilled(t *testing.T) {
	t.Parallel()
	fc := newFaultCluster(t, pgtest.Start(t), cluster.Webserver, cluster.Executor, cluster.Worker, cluster.Worker, cluster.Scheduler, cluster.Scheduler)
	require.NoError(t, fc.api.PutFlow(t.Context(), faultNS, "tick", tickFlow(fc.ledger, false)))
	ids := append(fc.submit("work", 10), fc.submit("limited", 6)...)
	fc.waitRan("tick", 3, 60*time.Second)
	s := fc.Role(cluster.Scheduler)[0]
	require.NoError(t, s.Kill())
	n := fc.waitRan("tick", 0, time.Second)
	fc.waitRan("tick", n+3, 60*time.Second) // the other scheduler fires alone
	require.NoError(t, s.Restart())
	ids = append(ids, fc.submit("work", 10)...)
	fc.waitRan("tick", n+6, 60*time.Second)
	require.NoError(t, fc.Role(cluster.Scheduler)[1].Kill())
	fc.waitRan("tick", n+9, 60*time.Second) // the restarted one fires alone
	fc.stopTicks()
	exs := fc.waitEnded(len(ids)+9, 2*time.Minute)
	fc.verify(exs, ids)
	fc.checkTicks(exs, n+9)
}

// TestFaultPostgresRestarted stops PostgreSQL in the middle of a run and
// starts it again on the same data and port: every process rides through,
// every execution ends, the schedule recovers the ticks of the outage.
func TestFaultPostgresRestarted(t *testing.T) {
	t.Parallel()
	srv := pgtest.StartServer(t)
	dsn, err := srv.CreateDatabase(t.Context(), "faults")
	require.NoError(t, err)
	fc := newFaultCluster(t, dsn, cluster.Webserver, cluster.Executor, cluster.Worker, cluster.Worker, cluster.Scheduler)
	require.NoError(t, fc.api.PutFlow(t.Context(), faultNS, "tick", tickFlow(fc.ledger, false)))
	ids := append(fc.submit("work", 30), fc.submit("limited", 6)...)
	fc.waitMarks(8, 90*time.Second)

	srv.Stop()
	time.Sleep(3 * time.Second) // the outage
	require.NoError(t, srv.Start())

	// The API answers again once its pool reconnects.
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	require.NoError(t, fc.api.WaitReady(ctx))
	ids = append(ids, fc.submit("work", 10)...)
	n := fc.waitRan("tick", 0, time.Second)
	fc.waitRan("tick", n+3, 60*time.Second) // the schedule fires again
	fc.stopTicks()
	exs := fc.waitEnded(len(ids), 3*time.Minute)
	fc.verify(exs, ids)
	fc.checkTicks(exs, n+3)
	for _, p := range fc.Procs() {
		assert.True(t, p.Running(), "%s exited during the outage: %v", p.Name, p.ExitErr())
	}
}

// TestFaultTwoExecutorsTwoSchedulers runs a burst through two executors
// and two schedulers at once, with a schedule firing every second.
func TestFaultTwoExecutorsTwoSchedulers(t *testing.T) {
	t.Parallel()
	fc := newFaultCluster(t, pgtest.Start(t), cluster.Webserver, cluster.Executor, cluster.Executor,
		cluster.Scheduler, cluster.Scheduler, cluster.Worker, cluster.Worker, cluster.Worker)
	require.NoError(t, fc.api.PutFlow(t.Context(), faultNS, "tick", tickFlow(fc.ledger, false)))
	var ids []string
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, f := range []struct {
		id string
		n  int
	}{{"work", 30}, {"limited", 30}, {"work", 30}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := fc.trySubmit(f.id, f.n)
			mu.Lock()
			ids, errs = append(ids, got...), append(errs, err)
			mu.Unlock()
		}()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	fc.waitRan("tick", 5, 2*time.Minute)
	fc.waitMarks(len(ids)+5, 2*time.Minute)
	fc.stopTicks()
	exs := fc.waitEnded(len(ids), 3*time.Minute)
	fc.verify(exs, ids)
	fc.checkTicks(exs, 5)
}
