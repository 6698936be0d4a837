package tasks

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/worker"
)

// Kestra's script task types beyond shell.Commands. They all run on the
// same process runner as shell.Commands (ShellCommands.run), so they share
// its environment, process group, kill and timeout handling and the
// ::{...}:: protocol; a language only adds how a script file is run and
// where its Kestra helper module is found.
const (
	pShellScript    = "io.kestra.plugin.scripts.shell.Script"
	pPythonScript   = "io.kestra.plugin.scripts.python.Script"
	pPythonCommands = "io.kestra.plugin.scripts.python.Commands"
	pNodeScript     = "io.kestra.plugin.scripts.node.Script"
	pNodeCommands   = "io.kestra.plugin.scripts.node.Commands"
)

// helpers are Osprey's own versions of Kestra's script helpers (the
// `kestra` Python module and the `@kestra-io/libs` Node module): they print
// ::{...}:: lines, nothing more, so scripts written for Kestra run without
// installing anything from a package registry at run time.
//
//go:embed scripthelper/kestra.py scripthelper/node/index.js
var helpers embed.FS

// language is what one script family needs.
type language struct {
	// run is the command that runs a script file (resolved on the task's
	// PATH by the shell); ext is the file's extension.
	run, ext string
	// pathVar names the variable through which the helper is found, and
	// helper/dest say which embedded file goes where under the helper
	// directory.
	pathVar, helper, dest string
}

var (
	langShell = &language{run: "/bin/sh", ext: ".sh"}
	// python3: Debian and most images have no `python`; Kestra's own
	// images call it python. A flow can say otherwise with an interpreter
	// or by calling its interpreter from commands.
	langPython = &language{run: "python3", ext: ".py", pathVar: "PYTHONPATH",
		helper: "scripthelper/kestra.py", dest: "kestra.py"}
	langNode = &language{run: "node", ext: ".js", pathVar: "NODE_PATH",
		helper: "scripthelper/node/index.js", dest: "@kestra-io/libs/index.js"}
)

// helperDir is where, inside the working directory, the helper modules are
// written: inside it, so that a confined task can read them.
const helperDir = ".osprey-lib"

// installHelper writes the language's helper module under dir and adds its
// directory to the language's search path in env (after what the flow set).
func (l *language) installHelper(env map[string]any, dir string) (map[string]any, error) {
	if l.helper == "" {
		return env, nil
	}
	body, err := helpers.ReadFile(l.helper)
	if err != nil {
		return nil, fmt.Errorf("helper module: %w", err)
	}
	root := filepath.Join(dir, helperDir, strings.ToLower(l.pathVar))
	dest := filepath.Join(root, filepath.FromSlash(l.dest))
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return nil, fmt.Errorf("helper module: %w", err)
	}
	if err := os.WriteFile(dest, body, 0o600); err != nil {
		return nil, fmt.Errorf("helper module: %w", err)
	}
	out := maps.Clone(env)
	if out == nil {
		out = map[string]any{}
	}
	if prev := str(out[l.pathVar]); prev != "" {
		out[l.pathVar] = prev + string(os.PathListSeparator) + root
	} else {
		out[l.pathVar] = root
	}
	return out, nil
}

// ScriptCommands is python.Commands and node.Commands: shell commands, as
// shell.Commands runs them, with the language's Kestra helper importable.
type ScriptCommands struct {
	ShellCommands
	lang *language
}

// Run implements worker.Runnable.
func (s *ScriptCommands) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	return runPrepared(ctx, rc, &s.ShellCommands, s.run)
}

func (s *ScriptCommands) run(ctx context.Context, env runEnv, dir string) (map[string]any, error) {
	c := s.ShellCommands
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create working directory: %w", err)
	}
	vars, err := s.lang.installHelper(c.Env, dir)
	if err != nil {
		return nil, err
	}
	c.Env = vars
	return c.run(ctx, env, dir)
}

// Script is shell.Script, python.Script and node.Script: the script is
// rendered, written to a file in the working directory and run by the
// language's interpreter after beforeCommands, in the task's shell.
type Script struct {
	ShellCommands
	Script any `json:"script"`

	lang *language
}

var scriptProps = append([]string{"script"}, slicesWithout(shellProps, "commands")...)

func checkScript(t *flow.Task, x *Script) []*flow.Error {
	if x.Commands != nil {
		return []*flow.Error{taskErr(t, "commands", t.Type+" takes a script, not commands: use the Commands task of the same language for commands")}
	}
	errs := required(t, "script", x.Script != nil)
	x.Commands = []any{} // checked by checkShell as present; set in run
	return append(errs, checkShell(t, &x.ShellCommands)...)
}

// Run implements worker.Runnable.
func (s *Script) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	return runPrepared(ctx, rc, &s.ShellCommands, s.run)
}

func (s *Script) run(ctx context.Context, env runEnv, dir string) (map[string]any, error) {
	body, err := env.Render(ctx, str(s.Script))
	if err != nil {
		return nil, fmt.Errorf("script: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create working directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "script-*"+s.lang.ext)
	if err != nil {
		return nil, fmt.Errorf("write script: %w", err)
	}
	_, werr := f.WriteString(body)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("write script: %w", werr)
	}
	c := s.ShellCommands
	if c.Env, err = s.lang.installHelper(c.Env, dir); err != nil {
		return nil, err
	}
	// The file name is ours (no quotes or expressions in it); the shell
	// finds the interpreter on the task's PATH.
	c.Commands = []any{s.lang.run + " " + shellQuote(f.Name())}
	return c.run(ctx, env, dir)
}

// runPrepared gives a script task what ShellCommands.Run gives commands
// ({{ workingDir }}, namespace files) and runs it in the run's directory.
func runPrepared(ctx context.Context, rc *worker.RunContext, sc *ShellCommands, run func(context.Context, runEnv, string) (map[string]any, error)) (map[string]any, error) {
	if rc.TmpDir == "" {
		return nil, errors.New("no working directory for the task run")
	}
	vars := maps.Clone(rc.Vars)
	if vars == nil {
		vars = map[string]any{}
	}
	vars["workingDir"] = rc.TmpDir
	rc.Vars = vars
	if err := sc.writeNamespaceFiles(ctx, rc); err != nil {
		return nil, err
	}
	return run(ctx, rc, rc.TmpDir)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func slicesWithout(in []string, drop string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

// scriptSpecs lists the script task types built on ShellCommands.
func scriptSpecs() []*Spec {
	script := func(typ string, l *language) *Spec {
		return runnable[Script](typ, scriptProps, func(t *flow.Task, x *Script) []*flow.Error {
			x.lang = l
			return checkScript(t, x)
		})
	}
	commands := func(typ string, l *language) *Spec {
		return runnable[ScriptCommands](typ, shellProps, func(t *flow.Task, x *ScriptCommands) []*flow.Error {
			x.lang = l
			return checkShell(t, &x.ShellCommands)
		})
	}
	return []*Spec{
		script(pShellScript, langShell),
		script(pPythonScript, langPython),
		commands(pPythonCommands, langPython),
		script(pNodeScript, langNode),
		commands(pNodeCommands, langNode),
	}
}

var (
	_ worker.Runnable = (*Script)(nil)
	_ worker.Runnable = (*ScriptCommands)(nil)
)
