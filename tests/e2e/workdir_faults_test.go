package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/pgtest"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/tests/e2e/cluster"
)

// workDirFlow is a WorkingDirectory whose first child writes a file the
// second reads; the second runs for a minute the first time its task run
// starts and ends at once after, so a re-run after a crash is quick.
func workDirFlow(ledger *cluster.Ledger) string {
	return fmt.Sprintf(`id: workdir
namespace: faults
tasks:
  - id: group
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: write
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - %s
          - test ! -e seed.txt
          - echo seeded > seed.txt
      - id: hold
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - %s
          - grep -q seeded seed.txt
          - %s
          - i=0; while [ $i -lt 120 ]; do sleep 0.5; i=$((i+1)); done
`, strconv.Quote(ledger.MarkCommand("start")), strconv.Quote(ledger.MarkCommand("start")),
		strconv.Quote(fmt.Sprintf(`n=$(%s); if [ "$n" -gt 1 ]; then exit 0; fi`, ledger.RunsCommand())))
}

// TestFaultWorkerKilledMidWorkingDirectory kills the worker running a
// WorkingDirectory's second child: the group's job runs again on another
// worker as a whole, from its first child, in a fresh directory (the first
// child refuses to find its own file there), and the execution ends with
// each child recorded once and the lost run as an attempt of the group.
func TestFaultWorkerKilledMidWorkingDirectory(t *testing.T) {
	t.Parallel()
	fc := newFaultClusterEnv(t, pgtest.Start(t), []string{"OSPREY_WORKER_LEASE=PT6S"},
		cluster.Webserver, cluster.Executor, cluster.Worker, cluster.Worker)
	require.NoError(t, fc.api.PutFlow(t.Context(), faultNS, "workdir", workDirFlow(fc.ledger)))
	id := fc.submit("workdir", 1)[0]
	marks := fc.waitMarks(2, 90*time.Second)
	hold := marks[1]
	workers := map[int]*cluster.Proc{}
	for _, p := range fc.Role(cluster.Worker) {
		workers[p.PID()] = p
	}
	pid := cluster.Ancestor(hold.PID, func(pid int) bool { return workers[pid] != nil })
	require.NotZero(t, pid, "the second child's shell (pid %d) descends from a worker", hold.PID)
	require.NoError(t, workers[pid].Kill())
	t.Logf("killed %s (pid %d) running task run %s", workers[pid].Name, pid, hold.TaskRun)

	exs := fc.waitEnded(1, 2*time.Minute)
	require.Len(t, exs, 1)
	ex, err := fc.api.Execution(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, flow.StateSuccess, ex.State.Current, "error: %s", ex.Error)
	groups := ex.TaskRunsByTaskID("group")
	require.Len(t, groups, 1)
	require.GreaterOrEqual(t, len(groups[0].Attempts), 2, "the lost run is an attempt of the group")
	assert.Equal(t, flow.StateResubmitted, groups[0].Attempts[0].State.Current)
	for _, child := range []string{"write", "hold"} {
		runs := ex.TaskRunsByTaskID(child)
		require.Len(t, runs, 1, "child %s is recorded once", child)
		assert.Equal(t, groups[0].ID, runs[0].ParentTaskRunID)
		assert.Equal(t, flow.StateSuccess, runs[0].State.Current)
	}
	var writes int
	for _, m := range fc.ledger.Marks() {
		if m.TaskRun == ex.TaskRunsByTaskID("write")[0].ID {
			writes++
		}
	}
	assert.Equal(t, 2, writes, "the group ran again from its first child")
}
