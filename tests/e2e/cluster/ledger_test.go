package cluster

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLedgerCommands runs the commands a task's shell runs, with the
// expressions replaced as the worker would render them: the mark arrives,
// the count of runs follows, a malformed mark is refused.
func TestLedgerCommands(t *testing.T) {
	t.Parallel()
	if err := NeedCurl(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	l, err := NewLedger(filepath.Join(t.TempDir(), "ledger"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	render := strings.NewReplacer("{{ flow.id }}", "f", "{{ execution.id }}", "ex1", "{{ taskrun.id }}", "tr1",
		"{{ taskrun.attemptsCount }}", "0")
	run := func(cmd string) string {
		out, err := exec.Command("/bin/sh", "-c", render.Replace(cmd)).CombinedOutput()
		require.NoError(t, err, string(out))
		return string(out)
	}
	run(l.MarkCommand("start"))
	require.Equal(t, "1", run(l.RunsCommand()))
	run(l.MarkCommand("start"))
	require.Equal(t, "2", run(l.RunsCommand()))

	marks := l.Marks()
	require.Len(t, marks, 2)
	require.Equal(t, Mark{Event: "start", Flow: "f", Execution: "ex1", TaskRun: "tr1", PID: marks[0].PID, PPID: marks[0].PPID, At: marks[0].At}, marks[0])
	require.NotZero(t, marks[0].PID, "the shell's pid")

	res, err := http.Post(l.URL()+"/mark", "text/plain", strings.NewReader("start too few"))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Len(t, l.Marks(), 2)
}
