package tasks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/nsfile"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/taskproc"
	"github.com/ospreyhq/osprey/worker"
)

// Task runner types: Osprey runs every script as a local process; the
// Docker runner is accepted (flows written for Kestra default to it) and
// runs as a process too, with a warning.
const (
	runnerProcess = "io.kestra.plugin.core.runner.Process"
	runnerDocker  = "io.kestra.plugin.scripts.runner.docker.Docker"
	legacyBash    = "io.kestra.core.tasks.scripts.Bash"
)

// ShellCommands is io.kestra.plugin.scripts.shell.Commands (and the legacy
// io.kestra.core.tasks.scripts.Bash) on the process task runner.
type ShellCommands struct {
	Commands       any            `json:"commands"`
	BeforeCommands any            `json:"beforeCommands"`
	Env            map[string]any `json:"env"`
	// Interpreter is a list for Commands, a string (with interpreterArgs)
	// for the legacy Bash task.
	Interpreter     any            `json:"interpreter"`
	InterpreterArgs []string       `json:"interpreterArgs"`
	TaskRunner      map[string]any `json:"taskRunner"`
	ContainerImage  string         `json:"containerImage"`
	Docker          map[string]any `json:"docker"`
	DockerOptions   map[string]any `json:"dockerOptions"`
	Runner          string         `json:"runner"`
	FailFast        *bool          `json:"failFast"`
	ExitOnFailed    *bool          `json:"exitOnFailed"`
	WarningOnStdErr *bool          `json:"warningOnStdErr"`
	TargetOS        string         `json:"targetOS"`
	InputFiles      any            `json:"inputFiles"`
	OutputFiles     any            `json:"outputFiles"`
	OutputsFiles    any            `json:"outputsFiles"`
	OutputDirectory any            `json:"outputDirectory"`
	NamespaceFiles  *struct {
		Enabled    *bool    `json:"enabled"`
		Include    []string `json:"include"`
		Exclude    []string `json:"exclude"`
		Namespaces []string `json:"namespaces"`
	} `json:"namespaceFiles"`

	legacy bool
}

var shellProps = []string{"commands", "beforeCommands", "env", "interpreter", "interpreterArgs", "taskRunner",
	"containerImage", "docker", "dockerOptions", "runner", "failFast", "exitOnFailed", "warningOnStdErr",
	"targetOS", "inputFiles", "outputFiles", "outputsFiles", "outputDirectory", "namespaceFiles"}

func checkShell(t *flow.Task, x *ShellCommands) []*flow.Error {
	x.legacy = t.Type == legacyBash
	errs := required(t, "commands", x.Commands != nil)
	for _, p := range []struct {
		name string
		set  bool
	}{{"outputsFiles", x.OutputsFiles != nil}} {
		if p.set {
			errs = append(errs, taskErr(t, p.name, p.name+" is not supported yet: list the files in outputFiles instead"))
		}
	}
	if typ, _ := x.TaskRunner["type"].(string); x.TaskRunner != nil && typ != runnerProcess && typ != runnerDocker {
		errs = append(errs, taskErr(t, "taskRunner", fmt.Sprintf("task runner %q is not supported: use %s", typ, runnerProcess)))
	}
	switch strings.ToUpper(x.Runner) {
	case "", "PROCESS", "DOCKER":
	default:
		errs = append(errs, taskErr(t, "runner", fmt.Sprintf("runner %q is not supported: use PROCESS", x.Runner)))
	}
	switch v := x.Interpreter.(type) {
	case nil, string:
	case []any:
		if len(v) == 0 {
			errs = append(errs, taskErr(t, "interpreter", "interpreter must not be empty"))
		}
	default:
		errs = append(errs, taskErr(t, "interpreter", "interpreter must be a list of strings"))
	}
	return errs
}

// Run implements worker.Runnable.
func (s *ShellCommands) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	// {{ workingDir }} is the scratch directory, as in Kestra's scripts.
	vars := maps.Clone(rc.Vars)
	if vars == nil {
		vars = map[string]any{}
	}
	vars["workingDir"] = rc.TmpDir
	if outputDirectory(s.OutputDirectory) {
		// {{ outputDir }}: what the commands write there becomes outputFiles.
		vars["outputDir"] = outputDirOf(rc.TmpDir)
		if err := os.MkdirAll(outputDirOf(rc.TmpDir), 0o700); err != nil {
			return nil, fmt.Errorf("create outputDir: %w", err)
		}
	}
	rc.Vars = vars
	if err := s.writeNamespaceFiles(ctx, rc); err != nil {
		return nil, err
	}
	return s.run(ctx, rc, rc.TmpDir)
}

// writeNamespaceFiles copies the namespace files namespaceFiles selects
// (the flow's namespace unless namespaces lists others) into the working
// directory, under their paths, before inputFiles are written over them.
func (s *ShellCommands) writeNamespaceFiles(ctx context.Context, rc *worker.RunContext) error {
	nf := s.NamespaceFiles
	if nf == nil || nf.Enabled == nil || !*nf.Enabled {
		return nil
	}
	if rc.Files == nil {
		return errors.New("namespaceFiles: no namespace file store is available to this worker")
	}
	namespaces := nf.Namespaces
	if len(namespaces) == 0 {
		f, _ := rc.Vars["flow"].(map[string]any)
		ns, _ := f["namespace"].(string)
		namespaces = []string{ns}
	}
	if err := os.MkdirAll(rc.TmpDir, 0o700); err != nil {
		return fmt.Errorf("create working directory: %w", err)
	}
	for _, ns := range namespaces {
		list, err := rc.Files.List(ctx, ns, "/")
		if err != nil {
			return fmt.Errorf("namespaceFiles: %w", err)
		}
		for _, f := range list {
			if !nsfile.Match(f.Path, nf.Include, nf.Exclude) {
				continue
			}
			full, err := rc.Files.Get(ctx, ns, f.Path)
			if err != nil {
				return fmt.Errorf("namespaceFiles: %w", err)
			}
			p := filepath.Join(rc.TmpDir, filepath.FromSlash(strings.TrimPrefix(f.Path, "/")))
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				return fmt.Errorf("namespaceFiles: %w", err)
			}
			if err := os.WriteFile(p, full.Content, 0o600); err != nil {
				return fmt.Errorf("namespaceFiles: %w", err)
			}
		}
	}
	return nil
}

// outputLine is Kestra's ::{...}:: protocol between a script and its task.
var outputLine = regexp.MustCompile(`^::(\{.*\})::$`)

func (s *ShellCommands) run(ctx context.Context, env runEnv, dir string) (map[string]any, error) {
	if dir == "" {
		return nil, errors.New("no working directory for the task run")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create working directory: %w", err)
	}
	s.warnIgnored(env)

	before, err := renderLines(ctx, env, s.BeforeCommands)
	if err != nil {
		return nil, err
	}
	cmds, err := renderLines(ctx, env, s.Commands)
	if err != nil {
		return nil, err
	}
	failFast := true
	for _, b := range []*bool{s.FailFast, s.ExitOnFailed} {
		if b != nil {
			failFast = *b
		}
	}
	argv, err := s.argv(ctx, env)
	if err != nil {
		return nil, err
	}
	var script []string
	if failFast && isShell(argv[0]) {
		script = append(script, "set -e")
	}
	script = append(append(script, before...), cmds...)
	if err := s.writeInputFiles(ctx, env, dir); err != nil {
		return nil, err
	}
	environ, err := s.environ(ctx, env, dir)
	if err != nil {
		return nil, err
	}

	body := strings.Join(script, "\n")
	args := append(argv[1:], body)
	if len(body) > maxArgLen {
		// Too long for one argument (Linux's MAX_ARG_STRLEN): hand the
		// interpreter a file instead, as Kestra does.
		f, err := os.CreateTemp(dir, "script-*.sh")
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
		args = []string{f.Name()}
	}
	p := &lineParser{env: env, legacy: s.legacy, outputs: ordered.New(0)}
	stderrLevel := "WARN"
	if s.WarningOnStdErr != nil && !*s.WarningOnStdErr {
		stderrLevel = "INFO"
	}
	stdout := &lineWriter{line: func(l string) { p.line(l, "INFO") }}
	stderr := &lineWriter{line: func(l string) { p.line(l, stderrLevel) }}

	// Its own process group, clean environment and, on Linux, Landlock
	// confinement: see package taskproc. A kill or a timeout (ctx) ends
	// the script's children too.
	runErr := processes(env).Run(ctx, taskproc.Spec{
		Argv: append([]string{argv[0]}, args...), Dir: dir, Env: environ, Stdout: stdout, Stderr: stderr,
		// Background children may hold stdout open; stop waiting for them.
		WaitDelay: 2 * time.Second,
	})
	stdout.flush()
	stderr.flush()
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	code := 0
	if runErr != nil {
		var ee *exec.ExitError
		if !errors.As(runErr, &ee) {
			if errors.Is(runErr, exec.ErrWaitDelay) {
				runErr = nil
			} else {
				return nil, fmt.Errorf("start %s: %w", argv[0], runErr)
			}
		} else {
			code = ee.ExitCode()
			if sig, ok := signalOf(ee); ok {
				return nil, fmt.Errorf("command ended by %s", sig)
			}
		}
	}
	if code != 0 {
		return nil, fmt.Errorf("command failed with exit code %d", code)
	}
	out := map[string]any{"exitCode": code, "vars": p.vars()}
	if files, err := s.collectFiles(ctx, env, dir); err != nil {
		return nil, err
	} else if files != nil {
		out["outputFiles"] = files
	}
	if s.legacy {
		out["stdOutLineCount"], out["stdErrLineCount"] = stdout.count, stderr.count
	}
	return out, nil
}

// isShell reports whether an interpreter understands `set -e`.
func isShell(path string) bool {
	switch filepath.Base(path) {
	case "sh", "bash", "dash", "ash", "ksh", "zsh", "busybox":
		return true
	}
	return false
}

func (s *ShellCommands) warnIgnored(env runEnv) {
	typ, _ := s.TaskRunner["type"].(string)
	switch {
	case typ == runnerDocker, strings.EqualFold(s.Runner, "DOCKER"):
		env.Log("WARN", "Docker is not available in Osprey: the commands run as a local process")
	case s.ContainerImage != "" || s.Docker != nil || s.DockerOptions != nil:
		env.Log("WARN", "containerImage and docker options are ignored: Osprey runs the commands as a local process")
	}
}

// argv is the interpreter: ["/bin/sh", "-c"] unless the flow says.
func (s *ShellCommands) argv(ctx context.Context, env runEnv) ([]string, error) {
	var argv []string
	switch v := s.Interpreter.(type) {
	case nil:
		argv = []string{"/bin/sh", "-c"}
		if s.legacy && s.InterpreterArgs != nil {
			argv = append([]string{"/bin/sh"}, s.InterpreterArgs...)
		}
	case string:
		args := s.InterpreterArgs
		if args == nil {
			args = []string{"-c"}
		}
		argv = append([]string{v}, args...)
	case []any:
		for _, a := range v {
			argv = append(argv, str(a))
		}
	}
	for i, a := range argv {
		r, err := env.Render(ctx, a)
		if err != nil {
			return nil, err
		}
		argv[i] = r
	}
	return argv, nil
}

// environ is the task's own variables: WORKING_DIR and the rendered env.
// Unlike Kestra's process runner, a script never inherits the worker's
// environment; taskproc adds its documented allow-list.
func (s *ShellCommands) environ(ctx context.Context, env runEnv, dir string) ([]string, error) {
	out := []string{"WORKING_DIR=" + dir}
	out = append(out, workerEnv(env)...)
	for _, k := range sortedKeys(s.Env) {
		v, err := env.Render(ctx, str(s.Env[k]))
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", k, err)
		}
		out = append(out, k+"="+v)
	}
	return out, nil
}

// taskEnviron is implemented by the worker's RunContext: variables the
// worker gives the task run's processes (its Azure identity endpoint).
type taskEnviron interface{ TaskEnv() []string }

func workerEnv(env runEnv) []string {
	if e, ok := env.(taskEnviron); ok {
		return e.TaskEnv()
	}
	return nil
}

// writeInputFiles writes inline inputFiles (a map of relative path to
// content, or a JSON string of one) into the working directory.
func (s *ShellCommands) writeInputFiles(ctx context.Context, env runEnv, dir string) error {
	if s.InputFiles == nil {
		return nil
	}
	v, err := env.RenderValue(ctx, s.InputFiles)
	if err != nil {
		return err
	}
	if txt, ok := v.(string); ok {
		if err := json.Unmarshal([]byte(txt), &v); err != nil {
			return fmt.Errorf("inputFiles: expected a map of file name to content: %w", err)
		}
	}
	files, ok := ordered.AsMap(v)
	if !ok {
		return errors.New("inputFiles: expected a map of file name to content")
	}
	for _, name := range sortedKeys(files) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if rel, err := filepath.Rel(dir, p); err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("inputFiles: %q is outside the working directory", name)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return fmt.Errorf("inputFiles: %w", err)
		}
		if err := writeInputFile(ctx, env, p, str(files[name])); err != nil {
			return fmt.Errorf("inputFiles: %w", err)
		}
	}
	return nil
}

// renderLines renders a string or a list of strings into lines.
func renderLines(ctx context.Context, env runEnv, v any) ([]string, error) {
	var in []any
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []any:
		in = v
	default:
		in = []any{v}
	}
	out := make([]string, 0, len(in))
	for _, c := range in {
		r, err := env.Render(ctx, str(c))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// lineParser turns a script's lines into log lines and, for ::{...}::
// lines, outputs, log entries and metrics as Kestra does.
type lineParser struct {
	env     runEnv
	legacy  bool
	mu      sync.Mutex
	outputs *ordered.Map // in the order the lines gave them, as Kestra's LinkedHashMap
}

// kestraLine is the JSON inside ::{...}::.
type kestraLine struct {
	Outputs *ordered.Map `json:"outputs"`
	Logs    []struct {
		Level   string `json:"level"`
		Message string `json:"message"`
	} `json:"logs"`
	Metrics []struct {
		Name  string            `json:"name"`
		Type  string            `json:"type"`
		Value any               `json:"value"`
		Tags  map[string]string `json:"tags"`
	} `json:"metrics"`
}

func (p *lineParser) line(l, level string) {
	m := outputLine.FindStringSubmatch(strings.TrimRight(l, "\r"))
	if m == nil {
		p.env.Log(level, l)
		return
	}
	if p.legacy {
		p.env.Log(level, l) // the old Bash task logged these lines too
	}
	var k kestraLine
	if err := json.Unmarshal([]byte(m[1]), &k); err != nil {
		p.env.Log("WARN", fmt.Sprintf("Invalid outputs '%v'", err))
		return
	}
	if k.Outputs != nil {
		p.mu.Lock()
		for name, v := range k.Outputs.All() {
			p.outputs.Set(name, v)
		}
		p.mu.Unlock()
	}
	for _, e := range k.Logs {
		p.env.Log(e.Level, e.Message)
	}
	p.metrics(k)
}

// metricSink is implemented by the worker's RunContext: metrics kept on
// the task run's attempt.
type metricSink interface {
	Metric(m flow.Metric)
}

// metrics hands a line's metrics to the run, as Kestra's counters and
// timers; a metric without a name or a numeric value is a warning.
func (p *lineParser) metrics(k kestraLine) {
	sink, _ := p.env.(metricSink)
	for _, mt := range k.Metrics {
		v, ok := mt.Value.(float64)
		typ := strings.ToLower(mt.Type)
		if !ok || mt.Name == "" || (typ != "counter" && typ != "timer") {
			p.env.Log("WARN", fmt.Sprintf("Invalid metric %q: a metric needs a name, a type (counter or timer) and a numeric value", mt.Name))
			continue
		}
		if sink == nil {
			p.env.Log("DEBUG", fmt.Sprintf("metric %s %s=%s %v", typ, mt.Name, str(mt.Value), mt.Tags))
			continue
		}
		tags := mt.Tags
		if len(tags) == 0 {
			tags = nil
		}
		sink.Metric(flow.Metric{Name: mt.Name, Type: typ, Value: v, Tags: tags})
	}
}

func (p *lineParser) vars() *ordered.Map {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.outputs.Clone()
}

// maxArgLen is the longest script passed inline as an argument.
const maxArgLen = 131072

// maxLine bounds a line kept in memory; a longer one is cut into pieces.
const maxLine = 1 << 20

// lineWriter splits a stream into lines. exec.Cmd writes to it from one
// goroutine per stream.
type lineWriter struct {
	buf   bytes.Buffer
	line  func(string)
	count int
}

func (w *lineWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			w.buf.Write(b)
			if w.buf.Len() >= maxLine {
				w.emit()
			}
			break
		}
		w.buf.Write(b[:i])
		b = b[i+1:]
		w.emit()
	}
	return n, nil
}

func (w *lineWriter) emit() {
	w.count++
	w.line(strings.TrimSuffix(w.buf.String(), "\r"))
	w.buf.Reset()
}

func (w *lineWriter) flush() {
	if w.buf.Len() > 0 {
		w.emit()
	}
}

// processRunner is implemented by the worker's RunContext: the runner
// configured with the server's deny list.
type processRunner interface {
	Processes() *taskproc.Runner
}

// processes is env's process runner, or one with the default policy.
func processes(env runEnv) *taskproc.Runner {
	if p, ok := env.(processRunner); ok {
		if r := p.Processes(); r != nil {
			return r
		}
	}
	return &taskproc.Runner{}
}

var _ worker.Runnable = (*ShellCommands)(nil)
