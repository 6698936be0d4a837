package tasks

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/taskproc"
)

// scriptRun is what the script tasks share with ShellCommands for tests:
// a run in a given directory with a given environment.
type scriptRun interface {
	run(ctx context.Context, env runEnv, dir string) (map[string]any, error)
}

// metricEnv is a fakeEnv that also keeps metrics, as the worker's
// RunContext does.
type metricEnv struct {
	*fakeEnv
	mu      sync.Mutex
	metrics []flow.Metric
}

// Processes runs the scripts as a worker whose environment has no PATH:
// taskproc's system PATH, the same on every machine (a developer's own
// shims, pyenv's among them, live where a confined task may not read).
func (e *metricEnv) Processes() *taskproc.Runner { return &taskproc.Runner{Environ: []string{}} }

func (e *metricEnv) Metric(m flow.Metric) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.metrics = append(e.metrics, m)
}

// needTool skips a test when an interpreter is missing, except under CI,
// where every interpreter the script tasks support must be installed.
func needTool(t *testing.T, name string) {
	t.Helper()
	found := false
	for _, dir := range filepath.SplitList("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") {
		if _, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
			found = true
		}
	}
	if !found {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed: CI runs the %s script task tests", name, name)
		}
		t.Skipf("%s is not installed", name)
	}
}

func parseScript(t *testing.T, yaml string) scriptRun {
	t.Helper()
	switch {
	case strings.Contains(yaml, ".Script"):
		return parseTask[Script](t, yaml)
	default:
		return parseTask[ScriptCommands](t, yaml)
	}
}

// TestScriptTasks runs Kestra's script task types for shell, Python and
// Node with inputs, outputs (::{}:: lines and Kestra's helper modules),
// metrics and stderr as warnings, as Kestra's script plugin tests do
// (plugin-script-python/node/shell: ScriptTest, CommandsTest).
func TestScriptTasks(t *testing.T) {
	t.Parallel()
	vars := map[string]any{"inputs": map[string]any{"name": "Ada", "n": 3}}
	tests := []struct {
		name        string
		tool        string
		yaml        string
		wantVars    map[string]any
		wantInfo    []string
		wantWarn    []string
		wantMetrics []flow.Metric
	}{
		{name: "shell Script: rendered, outputs, stderr warns", tool: "sh", yaml: `
type: io.kestra.plugin.scripts.shell.Script
script: |
  echo "hello {{ inputs.name }}"
  echo 'careful' >&2
  echo '::{"outputs":{"greeted":"{{ inputs.name }}"},"metrics":[{"name":"lines","type":"counter","value":2}]}::'`,
			wantVars: map[string]any{"greeted": "Ada"}, wantInfo: []string{"hello Ada"}, wantWarn: []string{"careful"},
			wantMetrics: []flow.Metric{{Name: "lines", Type: "counter", Value: 2}}},
		{name: "shell Script: beforeCommands and env", tool: "sh", yaml: `
type: io.kestra.plugin.scripts.shell.Script
beforeCommands:
  - export B=before
env:
  E: "env {{ inputs.n }}"
script: echo "$B $E"`,
			wantVars: map[string]any{}, wantInfo: []string{"before env 3"}},
		{name: "python Script with Kestra's helper", tool: "python3", yaml: `
type: io.kestra.plugin.scripts.python.Script
containerImage: python:3.11-slim
script: |
  import sys
  from kestra import Kestra
  print("name is {{ inputs.name }}")
  print("to stderr", file=sys.stderr)
  Kestra.outputs({"doubled": {{ inputs.n }} * 2, "tags": ["a", "b"]})
  Kestra.counter("rows", 5, {"table": "users"})
  Kestra.timer("load", 1.5)
  Kestra.logger().warning("from the logger")`,
			wantVars: map[string]any{"doubled": int64(6), "tags": []any{"a", "b"}},
			wantInfo: []string{"name is Ada"}, wantWarn: []string{"to stderr", "from the logger",
				"containerImage and docker options are ignored: Osprey runs the commands as a local process"},
			wantMetrics: []flow.Metric{{Name: "rows", Type: "counter", Value: 5, Tags: map[string]string{"table": "users"}},
				{Name: "load", Type: "timer", Value: 1.5}}},
		{name: "python Script: warningOnStdErr false logs stderr as INFO", tool: "python3", yaml: `
type: io.kestra.plugin.scripts.python.Script
warningOnStdErr: false
script: |
  import sys
  print("quiet", file=sys.stderr)`,
			wantVars: map[string]any{}, wantInfo: []string{"quiet"}},
		{name: "python Commands run a file from inputFiles", tool: "python3", yaml: `
type: io.kestra.plugin.scripts.python.Commands
inputFiles:
  main.py: |
    from kestra import Kestra
    Kestra.outputs({"who": "{{ inputs.name }}"})
commands:
  - python3 main.py`,
			wantVars: map[string]any{"who": "Ada"}},
		{name: "node Script with @kestra-io/libs", tool: "node", yaml: `
type: io.kestra.plugin.scripts.node.Script
script: |
  const Kestra = require('@kestra-io/libs');
  console.log('hi {{ inputs.name }}');
  console.error('node warns');
  Kestra.outputs({ sum: {{ inputs.n }} + 1 });
  Kestra.counter('calls', 1, { kind: 'test' });`,
			wantVars: map[string]any{"sum": int64(4)}, wantInfo: []string{"hi Ada"}, wantWarn: []string{"node warns"},
			wantMetrics: []flow.Metric{{Name: "calls", Type: "counter", Value: 1, Tags: map[string]string{"kind": "test"}}}},
		{name: "node Commands", tool: "node", yaml: `
type: io.kestra.plugin.scripts.node.Commands
inputFiles:
  main.js: |
    const { Kestra } = require('@kestra-io/libs');
    Kestra.outputs({ ok: true });
commands:
  - node main.js`,
			wantVars: map[string]any{"ok": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			needTool(t, tt.tool)
			x := parseScript(t, tt.yaml)
			env := &metricEnv{fakeEnv: newEnv(vars)}
			out, err := x.run(context.Background(), env, t.TempDir())
			require.NoError(t, err, "logs: %v", env.logs)
			require.Equal(t, tt.wantVars, ordered.Plain(out["vars"]))
			require.Equal(t, 0, out["exitCode"])
			for _, w := range tt.wantInfo {
				require.Contains(t, env.lines("INFO"), w)
			}
			require.ElementsMatch(t, tt.wantWarn, env.lines("WARN"))
			for i := range env.metrics {
				require.False(t, env.metrics[i].Timestamp.After(time.Now()))
				env.metrics[i].Timestamp = time.Time{}
			}
			require.Equal(t, tt.wantMetrics, env.metrics)
		})
	}
}

// TestScriptFailures covers a failing script, one killed, and one timed
// out, for each language: the task fails with the reason, and nothing the
// script started survives.
func TestScriptFailures(t *testing.T) {
	t.Parallel()
	langs := []struct {
		tool, typ, fail, spawn string
	}{
		{"sh", "shell", "exit 4", "sleep 30 &\necho \"leader $$\"\nsleep 30"},
		{"python3", "python", "import sys\nsys.exit(4)",
			"import os, subprocess, time\nsubprocess.Popen(['sleep', '30'])\nprint('leader', os.getpid(), flush=True)\ntime.sleep(30)"},
		{"node", "node", "process.exit(4)",
			"const { spawn } = require('child_process');\nspawn('sleep', ['30']);\nconsole.log('leader ' + process.pid);\nsetTimeout(() => {}, 30000);"},
	}
	for _, l := range langs {
		t.Run(l.typ, func(t *testing.T) {
			t.Parallel()
			needTool(t, l.tool)
			yaml := func(script string) string {
				return "type: io.kestra.plugin.scripts." + l.typ + ".Script\nscript: |\n" + indent(script, "  ")
			}

			_, err := parseScript(t, yaml(l.fail)).run(context.Background(), &metricEnv{fakeEnv: newEnv(nil)}, t.TempDir())
			require.EqualError(t, err, "command failed with exit code 4")

			ctx, cancel := context.WithTimeoutCause(context.Background(), 30*time.Second, errors.New("task t timed out after PT30S"))
			defer cancel()
			env := &metricEnv{fakeEnv: newEnv(nil)}
			done := make(chan error, 1)
			go func() {
				_, err := parseScript(t, yaml(l.spawn)).run(ctx, env, t.TempDir())
				done <- err
			}()
			var leader int
			require.Eventually(t, func() bool {
				for _, line := range env.lines("INFO") {
					if v, ok := strings.CutPrefix(line, "leader "); ok {
						leader, _ = strconv.Atoi(v)
					}
				}
				return leader > 0
			}, 20*time.Second, 10*time.Millisecond)
			pgid, err := syscall.Getpgid(leader)
			require.NoError(t, err)
			cancel() // what a kill does to the run's context
			select {
			case err := <-done:
				require.ErrorIs(t, err, context.Canceled)
			case <-time.After(20 * time.Second):
				t.Fatal("the script did not stop after its run was cancelled")
			}
			require.Eventually(t, func() bool {
				return errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
			}, 10*time.Second, 10*time.Millisecond, "processes of group %d still alive", pgid)

			tctx, tcancel := context.WithTimeoutCause(context.Background(), 300*time.Millisecond, errors.New("task t timed out after PT0.3S"))
			defer tcancel()
			_, err = parseScript(t, yaml(l.spawn)).run(tctx, &metricEnv{fakeEnv: newEnv(nil)}, t.TempDir())
			require.EqualError(t, err, "task t timed out after PT0.3S")
		})
	}
}

// TestScriptRefuses: a Script needs a script and takes no commands.
func TestScriptRefuses(t *testing.T) {
	t.Parallel()
	require.Contains(t, parseErr(t, "type: io.kestra.plugin.scripts.python.Script\ncommands: ['x']"), "takes a script, not commands")
	require.Contains(t, parseErr(t, "type: io.kestra.plugin.scripts.node.Script\nenv: {A: b}"), `property "script" is required`)
	require.Contains(t, parseErr(t, "type: io.kestra.plugin.scripts.python.Commands\nscript: x"), `unknown property "script"`)
}
