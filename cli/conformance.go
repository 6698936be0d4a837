package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/ospreyhq/osprey/devkit/conformance"
	"github.com/ospreyhq/osprey/executor"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/server"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/tasks"
	"github.com/ospreyhq/osprey/worker"
)

// conformanceCmds returns `osprey conformance DIR [DIR…]`: the shared
// Kestra corpus, Osprey's own cases (tests/conformance), or both.
func conformanceCmds(env *Env) []*cobra.Command {
	var o conformance.Options
	var min float64
	c := &cobra.Command{
		Use:   "conformance DIR [DIR...]",
		Short: "Run Kestra test flows (a folder of flows/, expectations.yaml, env.yaml) and compare with what Kestra's tests expect",
		Long: "Each DIR holds flows/, expectations.yaml and env.yaml: the shared Kestra corpus, or Osprey's own\n" +
			"cases in tests/conformance, which check behaviours Kestra's tests assert with flows of our own.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var low []string
			for i, dir := range args {
				o.Dir = dir
				rep, err := RunConformance(cmd.Context(), o)
				if err != nil {
					return fmt.Errorf("%s: %w", dir, err)
				}
				if len(args) > 1 {
					if i > 0 {
						fmt.Fprintln(env.Stdout)
					}
					fmt.Fprintf(env.Stdout, "== %s\n", dir)
				}
				rep.Print(env.Stdout)
				if rep.Rate() < min {
					low = append(low, fmt.Sprintf("%s: pass rate %.1f%% is below %.1f%%", dir, 100*rep.Rate(), 100*min))
				}
			}
			if len(low) > 0 {
				return &exitError{code: 1, err: errors.New(strings.Join(low, "; "))}
			}
			return nil
		},
	}
	c.Flags().StringVar(&o.Filter, "filter", "", "only flow files whose name contains this")
	c.Flags().IntVar(&o.Parallel, "parallel", 4, "cases run at once")
	c.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "time limit of one case")
	c.Flags().Float64Var(&min, "min-rate", 0, "exit 1 when a folder's pass rate is below this (0..1)")
	return []*cobra.Command{c}
}

// RunConformance runs the corpus against fresh in-process Osprey systems on
// SQLite.
func RunConformance(ctx context.Context, o conformance.Options) (*conformance.Report, error) {
	reg := parser(tasks.New())
	validate := func(src []byte) error { _, err := reg(src); return err }
	return conformance.Run(ctx, newConformanceSystem, validate, o)
}

// confSystem is one Osprey, all components in-process, on its own SQLite
// file, with the corpus environment.
type confSystem struct {
	a       *app
	dir     string
	cancel  context.CancelFunc
	comps   []component
	handler http.Handler
}

func newConformanceSystem(ctx context.Context, env *conformance.Env) (conformance.System, error) {
	dir, err := os.MkdirTemp("", "osprey-conformance-")
	if err != nil {
		return nil, err
	}
	environ := []string{}
	for k, v := range env.Vars {
		environ = append(environ, k+"="+v)
	}
	if len(env.Globals) > 0 {
		doc, err := yaml.Marshal(map[string]any{"kestra": map[string]any{"variables": map[string]any{"globals": env.Globals}}})
		if err != nil {
			return nil, err
		}
		environ = append(environ, "KESTRA_CONFIGURATION="+string(doc))
	}
	e := &Env{Environ: environ, Stderr: io.Discard}
	// Kestra's tests read secrets from SECRET_* variables (its OSS backend)
	// and, as Kestra before 0.23, envs from KESTRA_* variables.
	cfg, _, err := e.loadConfig(ctx, map[string]string{"kestra.repository.type": "sqlite", "osprey.data-dir": dir, "kestra.secret.type": "env",
		"kestra.variables.env-vars-prefix": "KESTRA_"})
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("OSPREY_CONFORMANCE_DEBUG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := wire(ctx, cfg, log, e)
	if err != nil {
		return nil, err
	}
	s := &confSystem{a: a, dir: dir}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	srv, _, err := a.newServer(runCtx, nil)
	if err != nil {
		return nil, err
	}
	s.handler = srv.Handler()
	comps := []component{
		// Tasks run as a server's do: confined, with the corpus environment
		// (no PATH: taskproc's system PATH).
		worker.New(worker.Options{Store: a.store, Tasks: a.reg, Flows: a.flows, Renderers: a.renderer, Logger: log, Threads: 8, Poll: 20 * time.Millisecond, TmpDir: dir, Secrets: a.inputs, Storage: a.files,
			Processes: taskRunner(cfg, e), Commands: taskCommands{a.launcher}}),
		executor.New(executor.Options{Store: a.store, Engine: a.engine, Flows: a.flows, Logger: log, Poll: 20 * time.Millisecond, OnChange: a.onExecutionChange}),
		a.newScheduler(nil),
	}
	for _, c := range comps {
		if err := c.Start(runCtx); err != nil {
			_ = s.Close() // the start error is the one to report
			return nil, err
		}
		s.comps = append(s.comps, c)
	}
	return s, nil
}

func (s *confSystem) Load(ctx context.Context, sources []string) error {
	for _, src := range sources {
		f, err := s.a.parse([]byte(src))
		if err != nil {
			return err
		}
		if _, err := s.a.store.Flows().Create(ctx, store.PutFlowParams{Namespace: f.Namespace, ID: f.ID, Source: src}); err != nil {
			return fmt.Errorf("%s.%s: %w", f.Namespace, f.ID, err)
		}
	}
	return nil
}

func (s *confSystem) Start(ctx context.Context, ns, id string, inputs map[string]any, parsed bool, labels []flow.Label) (*flow.Execution, error) {
	f, err := s.a.flows.Get(ctx, ns, id, 0)
	if err != nil {
		return nil, err
	}
	if parsed {
		return s.a.launcher.Start(ctx, f, inputs, labels)
	}
	return s.a.launcher.StartRaw(ctx, f, inputs, labels)
}

func (s *confSystem) Execution(ctx context.Context, id string) (*flow.Execution, error) {
	ex, _, err := s.a.store.Executions().Get(ctx, id)
	return ex, err
}

func (s *confSystem) Executions(ctx context.Context, ns, id string) ([]*flow.Execution, error) {
	list, _, err := s.a.store.Executions().Search(ctx, store.ExecutionQuery{Namespace: ns, FlowID: id})
	if err != nil {
		return nil, err
	}
	out := slices.Clone(list)
	slices.SortStableFunc(out, func(x, y *flow.Execution) int {
		return x.State.Histories[0].Date.Compare(y.State.Histories[0].Date)
	})
	return out, nil
}

func (s *confSystem) Logs(ctx context.Context, id string) ([]flow.LogEntry, error) {
	return s.a.store.Logs().List(ctx, store.LogQuery{ExecutionID: id})
}

// Resume and Restart return once the executor applied them, so the
// runner's next look sees their effect.
func (s *confSystem) Resume(ctx context.Context, id string, inputs map[string]any) error {
	_, err := command(ctx, s.a.launcher, server.CommandParams{ExecutionID: id, Action: server.ActionResume, Inputs: inputs, Wait: true})
	return err
}

func (s *confSystem) Restart(ctx context.Context, id string) error {
	_, err := command(ctx, s.a.launcher, server.CommandParams{ExecutionID: id, Action: server.ActionRestart, Wait: true})
	return err
}

func (s *confSystem) HTTP(ctx context.Context, method, path, contentType string, body []byte) (int, []byte, error) {
	req := httptest.NewRequestWithContext(ctx, method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes(), nil
}

func (s *confSystem) Close() error {
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := len(s.comps) - 1; i >= 0; i-- {
		_ = s.comps[i].Stop(sctx)
	}
	s.cancel()
	err := s.a.store.Close()
	if rmErr := os.RemoveAll(s.dir); rmErr != nil && !strings.Contains(rmErr.Error(), "no such file") {
		err = rmErr
	}
	return err
}
