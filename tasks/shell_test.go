package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/stretchr/testify/require"
)

func runShell(t *testing.T, yaml string, vars map[string]any) (map[string]any, *fakeEnv, error) {
	t.Helper()
	x := parseTask[ShellCommands](t, yaml)
	env := newEnv(vars)
	dir := filepath.Join(t.TempDir(), "run") // not created yet: the task makes it
	out, err := x.run(context.Background(), env, dir)
	return out, env, err
}

func TestShellCommands(t *testing.T) {
	t.Parallel()
	vars := map[string]any{"inputs": map[string]any{"name": "Ada"}, "vars": map[string]any{"n": 3}}
	tests := []struct {
		name      string
		yaml      string
		wantErr   string
		wantVars  map[string]any
		wantJSON  map[string]string // a var's JSON, byte for byte
		wantInfo  []string
		wantWarn  []string
		wantError []string
	}{
		{name: "stdout is INFO, stderr is WARN", yaml: `
type: io.kestra.plugin.scripts.shell.Commands
commands:
  - echo hello
  - echo oops >&2`,
			wantVars: map[string]any{}, wantInfo: []string{"hello"}, wantWarn: []string{"oops"}},
		{name: "outputs from ::{}:: lines, merged, not logged", yaml: `
type: io.kestra.plugin.scripts.shell.Commands
commands:
  - 'echo ''::{"outputs":{"a":1,"b":"x"}}::'''
  - 'echo ''::{"outputs":{"b":"y","nested":{"k":[1,2],"j":true}}}::'''
  - echo done`,
			wantVars: map[string]any{"a": int64(1), "b": "y", "nested": map[string]any{"k": []any{int64(1), int64(2)}, "j": true}},
			wantJSON: map[string]string{"nested": `{"k":[1,2],"j":true}`},
			wantInfo: []string{"done"}},
		{name: "an unreadable ::{}:: line is a warning", yaml: `
type: io.kestra.plugin.scripts.shell.Commands
commands:
  - 'echo ''::{"outputs":oops}::'''`,
			wantVars: map[string]any{}, wantWarn: []string{"Invalid outputs 'invalid character 'o' looking for beginning of value'"}},
		{name: "logs from ::{}:: lines keep their level", yaml: `
type: io.kestra.plugin.scripts.shell.Commands
commands:
  - 'echo ''::{"logs":[{"level":"ERROR","message":"bad thing"},{"level":"INFO","message":"fine"}]}::'''`,
			wantVars: map[string]any{}, wantInfo: []string{"fine"}, wantError: []string{"bad thing"}},
		{name: "env and commands rendered with expressions", yaml: `
type: io.kestra.plugin.scripts.shell.Commands
env:
  GREETING: "hi {{ inputs.name }}"
  COUNT: "{{ vars.n + 1 }}"
commands:
  - echo "$GREETING $COUNT {{ inputs.name | upper }}"`,
			wantVars: map[string]any{}, wantInfo: []string{"hi Ada 4 ADA"}},
		{name: "beforeCommands run first, in the same shell", yaml: `
type: io.kestra.plugin.scripts.shell.Commands
beforeCommands:
  - X=from-before
commands:
  - echo "$X"`,
			wantVars: map[string]any{}, wantInfo: []string{"from-before"}},
		{name: "a non-zero exit fails with its code", yaml: `
type: io.kestra.plugin.scripts.shell.Commands
commands:
  - echo before
  - exit 3`,
			wantErr: "command failed with exit code 3", wantInfo: []string{"before"}},
		{name: "a script killed by a signal fails saying so", yaml: `
type: io.kestra.plugin.scripts.shell.Commands
commands:
  - kill -TERM $$`,
			wantErr: "command ended by signal 15 (terminated)"},
		{name: "fail fast stops at the first failing command", yaml: `
type: io.kestra.plugin.scripts.shell.Commands
commands:
  - "false"
  - echo unreachable`,
			wantErr: "exit code 1"},
		{name: "failFast false runs on", yaml: `
type: io.kestra.plugin.scripts.shell.Commands
failFast: false
commands:
  - "false"
  - echo reached`,
			wantVars: map[string]any{}, wantInfo: []string{"reached"}},
		{name: "interpreter from the flow", yaml: `
type: io.kestra.plugin.scripts.shell.Commands
interpreter: ["/bin/sh", "-e", "-c"]
commands:
  - 'echo "$0"'`,
			wantVars: map[string]any{}, wantInfo: []string{"/bin/sh"}},
		{name: "process task runner", yaml: `
type: io.kestra.plugin.scripts.shell.Commands
taskRunner:
  type: io.kestra.plugin.core.runner.Process
commands:
  - echo ok`,
			wantVars: map[string]any{}, wantInfo: []string{"ok"}},
		{name: "containerImage is ignored with a warning", yaml: `
type: io.kestra.plugin.scripts.shell.Commands
containerImage: ubuntu:22.04
commands:
  - echo ran`,
			wantVars: map[string]any{}, wantInfo: []string{"ran"},
			wantWarn: []string{"containerImage and docker options are ignored: Osprey runs the commands as a local process"}},
		{name: "inputFiles land in the working directory", yaml: `
type: io.kestra.plugin.scripts.shell.Commands
inputFiles:
  data/in.txt: "content {{ inputs.name }}"
commands:
  - cat data/in.txt`,
			wantVars: map[string]any{}, wantInfo: []string{"content Ada"}},
		{name: "legacy Bash with a string interpreter", yaml: `
type: io.kestra.core.tasks.scripts.Bash
interpreter: /bin/sh
commands:
  - 'echo ''::{"outputs":{"v":"legacy"}}::'''`,
			wantVars: map[string]any{"v": "legacy"}, wantInfo: []string{`::{"outputs":{"v":"legacy"}}::`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, env, err := runShell(t, tt.yaml, vars)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
				require.Equal(t, 0, out["exitCode"])
				require.Equal(t, tt.wantVars, ordered.Plain(out["vars"]))
				vars, _ := ordered.AsMap(out["vars"])
				for k, want := range tt.wantJSON {
					// Kestra reads the line with Jackson: a map keeps its order.
					got, err := json.Marshal(vars[k])
					require.NoError(t, err)
					require.Equal(t, want, string(got))
				}
			}
			require.Equal(t, tt.wantInfo, env.lines("INFO"))
			require.Equal(t, tt.wantWarn, env.lines("WARN"))
			require.Equal(t, tt.wantError, env.lines("ERROR"))
		})
	}
}

func TestShellWorkingDirectory(t *testing.T) {
	t.Parallel()
	x := parseTask[ShellCommands](t, "type: io.kestra.plugin.scripts.shell.Commands\ncommands:\n  - pwd\n  - echo \"$WORKING_DIR\"\n  - touch made-here")
	env := newEnv(nil)
	dir := filepath.Join(t.TempDir(), "a", "b")
	_, err := x.run(context.Background(), env, dir)
	require.NoError(t, err)
	real, err := filepath.EvalSymlinks(dir)
	require.NoError(t, err)
	require.Equal(t, []string{real, dir}, env.lines("INFO"))
	require.FileExists(t, filepath.Join(dir, "made-here"))
}

func TestShellLongScriptGoesThroughAFile(t *testing.T) {
	t.Parallel()
	// 200 KiB of commands: more than one argv string may hold on Linux
	var b strings.Builder
	b.WriteString("type: io.kestra.plugin.scripts.shell.Commands\ncommands:\n")
	for range 4000 {
		b.WriteString("  - ': " + strings.Repeat("x", 50) + "'\n")
	}
	b.WriteString("  - echo finished\n")
	out, env, err := runShell(t, b.String(), nil)
	require.NoError(t, err)
	require.Equal(t, 0, out["exitCode"])
	require.Equal(t, []string{"finished"}, env.lines("INFO"))
}

func TestShellLegacyLineCounts(t *testing.T) {
	t.Parallel()
	out, _, err := runShell(t, "type: io.kestra.core.tasks.scripts.Bash\ncommands:\n  - echo a; echo b; echo c >&2", nil)
	require.NoError(t, err)
	require.Equal(t, 2, out["stdOutLineCount"])
	require.Equal(t, 1, out["stdErrLineCount"])
}

func TestShellRefusesWhatItCannotDo(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, yaml, want string }{
		{"no commands", "type: io.kestra.plugin.scripts.shell.Commands", `property "commands" is required`},
		{"outputsFiles", "type: io.kestra.plugin.scripts.shell.Commands\ncommands: [ls]\noutputsFiles: [a]", "outputsFiles is not supported yet"},
		{"other task runner", "type: io.kestra.plugin.scripts.shell.Commands\ncommands: [ls]\ntaskRunner:\n  type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes", "is not supported: use io.kestra.plugin.core.runner.Process"},
		{"unknown property", "type: io.kestra.plugin.scripts.shell.Commands\ncommands: [ls]\ncommandz: [ls]", `unknown property "commandz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, parseErr(t, tt.yaml), tt.want)
		})
	}
}

// TestShellKillEndsTheProcessGroup checks that a cancelled task run (a
// kill or a timeout) leaves no process behind, children included.
func TestShellKillEndsTheProcessGroup(t *testing.T) {
	t.Parallel()
	x := parseTask[ShellCommands](t, `
type: io.kestra.plugin.scripts.shell.Commands
commands:
  - sleep 30 &
  - echo "child $!"
  - echo "leader $$"
  - sleep 30`)
	env := newEnv(nil)
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := x.run(ctx, env, t.TempDir())
		done <- err
	}()
	var leader, child int
	require.Eventually(t, func() bool {
		for _, l := range env.lines("INFO") {
			if v, ok := strings.CutPrefix(l, "leader "); ok {
				leader, _ = strconv.Atoi(v)
			}
			if v, ok := strings.CutPrefix(l, "child "); ok {
				child, _ = strconv.Atoi(v)
			}
		}
		return leader > 0 && child > 0
	}, 10*time.Second, 10*time.Millisecond)
	pgid, err := syscall.Getpgid(leader)
	require.NoError(t, err)
	require.NotEqual(t, syscall.Getpgrp(), pgid, "the script runs in a process group of its own")

	start := time.Now()
	cancel(context.Canceled)
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("the task did not return after its context was cancelled")
	}
	require.Less(t, time.Since(start), 5*time.Second)
	require.Eventually(t, func() bool {
		// signal 0 to the group: ESRCH once no member is left
		return errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
	}, 5*time.Second, 10*time.Millisecond, "processes of group %d still alive", pgid)
	require.False(t, alive(child), "background child %d survived", child)
}

// TestShellTimeoutNamesTheCause checks that a task timeout fails with the
// timeout's message, not a bare "context canceled".
func TestShellTimeoutNamesTheCause(t *testing.T) {
	t.Parallel()
	x := parseTask[ShellCommands](t, "type: io.kestra.plugin.scripts.shell.Commands\ncommands: ['sleep 30']")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 200*time.Millisecond, errors.New("task t timed out after PT0.2S"))
	defer cancel()
	_, err := x.run(ctx, newEnv(nil), t.TempDir())
	require.EqualError(t, err, "task t timed out after PT0.2S")
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// BenchmarkShellCommands measures one short script: process start, line
// parsing and an ::{"outputs"}:: line.
func BenchmarkShellCommands(b *testing.B) {
	x := parseTask[ShellCommands](b, "type: io.kestra.plugin.scripts.shell.Commands\ncommands:\n  - echo hi\n  - 'echo ''::{\"outputs\":{\"a\":1}}::'''")
	dir := b.TempDir()
	for b.Loop() {
		if _, err := x.run(context.Background(), newEnv(nil), dir); err != nil {
			b.Fatal(err)
		}
	}
}
