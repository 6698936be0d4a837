package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/executor"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/launch"
	"github.com/ospreyhq/osprey/render"
	"github.com/ospreyhq/osprey/server"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/tasks"
	"github.com/ospreyhq/osprey/worker"
)

// Component roles a process can take.
const (
	roleWebserver = "webserver"
	roleExecutor  = "executor"
	roleWorker    = "worker"
	roleScheduler = "scheduler"
)

type serverFlags struct {
	port           int
	portSet        bool // --port given, 0 included (an ephemeral port)
	managementSet  bool // --management-port given, 0 included (an ephemeral port)
	dataDirSet     bool // --data-dir given: it wins over osprey.data-dir
	managementPort int
	managementHost string
	livenessWindow time.Duration
	threads        int
	flowPath       string
	dataDir        string
	shutdownGrace  time.Duration
}

func newServerCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "server", Short: "Run Osprey's components"}
	modes := []struct {
		name, short string
		roles       []string
	}{
		{"local", "Everything in one process on embedded SQLite under --data-dir (for a laptop)", nil},
		{"standalone", "Everything in one process on the configured store", nil},
		{roleWebserver, "The HTTP API only", []string{roleWebserver}},
		{roleExecutor, "The executor only", []string{roleExecutor}},
		{roleWorker, "The worker only", []string{roleWorker}},
		{roleScheduler, "The scheduler only", []string{roleScheduler}},
	}
	for _, m := range modes {
		var fl serverFlags
		mode := m
		cmd := &cobra.Command{
			Use:   mode.name,
			Short: mode.short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				roles := mode.roles
				if roles == nil {
					roles = []string{roleWebserver, roleExecutor, roleWorker, roleScheduler}
				}
				fl.portSet = cmd.Flags().Changed("port")
				fl.managementSet = cmd.Flags().Changed("management-port")
				fl.dataDirSet = cmd.Flags().Changed("data-dir")
				return runServer(cmd.Context(), env, mode.name, roles, fl)
			},
		}
		f := cmd.Flags()
		f.IntVar(&fl.port, "port", 0, "API port (default 8080; micronaut.server.port); 0 picks a free port, logged as api listening")
		f.IntVar(&fl.managementPort, "management-port", 0, "health and metrics port (default 8081; endpoints.all.port); 0 picks a free port, logged as management listening")
		f.StringVar(&fl.managementHost, "management-host", "", "address the management port binds (default: micronaut.server.host when set, else 127.0.0.1; 0.0.0.0: every interface, as in a pod)")
		f.DurationVar(&fl.livenessWindow, "liveness-window", server.DefaultLivenessWindow, "/health/liveness fails when a loop has not turned for this long")
		f.IntVar(&fl.threads, "worker-thread", 0, "task runs a worker runs at once (default: 8 × the CPUs the process may use)")
		f.IntVar(&fl.threads, "thread", 0, "alias of --worker-thread")
		f.StringVarP(&fl.flowPath, "flow-path", "f", "", "load every flow in this folder at start-up")
		f.DurationVar(&fl.shutdownGrace, "shutdown-grace", 25*time.Second, "how long to let running task runs finish on SIGTERM")
		if mode.name == "local" {
			f.StringVar(&fl.dataDir, "data-dir", "data", "where the SQLite database and generated keys live (default osprey.data-dir, else ./data)")
		}
		c.AddCommand(cmd)
	}
	return c
}

// component is what runServer starts and stops.
type component interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

func runServer(ctx context.Context, env *Env, mode string, roles []string, fl serverFlags) (rerr error) {
	overrides := map[string]string{}
	if fl.portSet {
		overrides["micronaut.server.port"] = strconv.Itoa(fl.port)
	}
	if fl.managementPort != 0 {
		overrides["endpoints.all.port"] = strconv.Itoa(fl.managementPort)
	}
	if mode == "local" {
		overrides["kestra.repository.type"] = config.RepositorySQLite
		if fl.dataDirSet {
			// Without the flag, osprey.data-dir from the configuration
			// (or its environment variable) holds, defaulting to ./data.
			overrides["osprey.data-dir"] = fl.dataDir
		}
	}
	log, err := env.logger()
	if err != nil {
		return err
	}
	cfg, warns, err := env.loadConfig(ctx, overrides)
	for _, w := range warns {
		log.WarnContext(ctx, "configuration", "warning", w.String())
	}
	if err != nil {
		return err
	}
	a, err := wire(ctx, cfg, log, env)
	if err != nil {
		return err
	}
	defer func() {
		if err := a.store.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()
	if fl.flowPath != "" {
		if err := a.loadFlowDir(ctx, fl.flowPath); err != nil {
			return err
		}
	}

	a.isolate()
	has := func(r string) bool { return containsStr(roles, r) }
	metrics := newMetricsRegistry()
	if c, ok := a.files.(prometheus.Collector); ok {
		metrics.MustRegister(c)
	}
	var (
		started []component
		loops   []server.Loop
		mgmt    *server.Management
		wk      *worker.Worker
	)
	// stopAll runs before the store closes (deferred after it). A worker
	// that could not hand its running jobs back fails the process.
	stopAll := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), fl.shutdownGrace)
		defer cancel()
		if mgmt != nil {
			mgmt.Drain() // readiness fails at once: the Service stops sending work
		}
		var werr error
		// Scheduler first, then claiming, then the workers drain, then HTTP.
		for i := len(started) - 1; i >= 0; i-- {
			err := started[i].Stop(sctx)
			if err != nil && started[i] == component(wk) {
				werr = err
				log.Error("stop worker", "err", err)
			} else if err != nil && !errors.Is(err, context.Canceled) {
				log.Warn("stop component", "err", err)
			}
		}
		// Liveness keeps answering while the work drains.
		if mgmt != nil {
			_ = mgmt.Stop(sctx)
		}
		return werr
	}
	defer func() {
		if err := stopAll(); err != nil && rerr == nil {
			rerr = err
		}
	}()
	start := func(c component) error {
		if err := c.Start(ctx); err != nil {
			return err
		}
		started = append(started, c)
		return nil
	}
	if has(roleWebserver) {
		srv, addr, err := a.newServer(ctx, metrics)
		if err != nil {
			return err
		}
		if err := start(srv); err != nil {
			return fmt.Errorf("start webserver on %s: %w", addr, err)
		}
	}
	if has(roleWorker) {
		threads := fl.threads
		var ids worker.Identities
		if s, err := a.newTaskIdentity(); err != nil {
			return err
		} else if s != nil {
			if err := start(s); err != nil {
				return err
			}
			ids = s
		}
		w := worker.New(worker.Options{
			Store: a.store, Tasks: a.reg, Flows: a.flows, Renderers: a.rendererFor(roleWorker), Logger: a.log,
			Threads: threads, TmpDir: tmpDir(cfg), Secrets: a.inputs, Metrics: metrics, Storage: a.files, Identities: ids,
			Processes: taskRunner(cfg, env), MaxLeaseExpiries: cfg.Osprey.MaxLeaseExpiries, Lease: cfg.Osprey.WorkerLease,
			Masks:    maskCache(cfg),
			Commands: taskCommands{a.launcher},
		})
		if err := start(w); err != nil {
			return err
		}
		wk = w
		loops = append(loops, server.Loop{Name: roleWorker, LastPass: w.LastPass})
	}
	if has(roleExecutor) {
		x := executor.New(executor.Options{Store: a.store, Engine: a.engine, Flows: a.flows, Logger: a.log, OnChange: a.onExecutionChange, Metrics: metrics,
			Parallel: executorParallel(a.cfg)})
		if err := start(x); err != nil {
			return err
		}
		loops = append(loops, server.Loop{Name: roleExecutor, LastPass: x.LastPass})
	}
	if has(roleScheduler) {
		sch := a.newScheduler(metrics)
		if err := start(sch); err != nil {
			return err
		}
		loops = append(loops, server.Loop{Name: roleScheduler, LastPass: sch.LastPass})
	}
	// Every role serves the management port: the chart probes each pod on
	// it. endpoints.all.port 0 turns it off; --management-port 0 binds a
	// free port instead, as --port 0 does, so that tests and side-by-side
	// runs never race each other for a port picked in advance.
	mport := cfg.Server.ManagementPort
	if fl.managementSet && fl.managementPort == 0 {
		mport = 0
	}
	if mport > 0 || fl.managementSet {
		var queue store.QueueInspector
		if qi, ok := a.store.Queue().(store.QueueInspector); ok && (has(roleExecutor) || has(roleWorker)) {
			queue = qi
		}
		mgmt = server.NewManagement(server.ManagementOptions{
			Addr: server.ManagementAddr(managementHost(fl, cfg), mport), Store: a.store,
			Loops: loops, Window: fl.livenessWindow, Registry: metrics, Logger: a.log, Queue: queue,
			Pprof: cfg.Osprey.Pprof,
		})
		if err := mgmt.Start(ctx); err != nil {
			return err
		}
	}
	log.InfoContext(ctx, "osprey started", "mode", mode, "components", strings.Join(roles, ","), "version", Version())
	<-ctx.Done()
	log.Info("shutting down", "grace", fl.shutdownGrace)
	return nil
}

// managementHost is where the management port binds: --management-host,
// else the API's configured host (Micronaut serves its management endpoints
// on the server's host), else loopback.
func managementHost(fl serverFlags, cfg *config.Config) string {
	if fl.managementHost != "" {
		return fl.managementHost
	}
	if cfg.IsSet("micronaut.server.host") {
		return cfg.Server.Host
	}
	return ""
}

// newMetricsRegistry returns the registry /metrics serves: the Go runtime
// and process collectors, and whatever the process's components register.
func newMetricsRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// rendererFor returns the renderer a component uses (isolation applied).
func (a *app) rendererFor(role string) *render.Renderer {
	if role == roleWorker && a.workerRenderer != nil {
		return a.workerRenderer
	}
	return a.renderer
}

func tmpDir(cfg *config.Config) string {
	if cfg.Tasks.TmpDir != "" {
		return cfg.Tasks.TmpDir
	}
	return filepath.Join(os.TempDir(), "osprey")
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isolate applies kestra.secret.isolation: a component named in
// denied-services gets a renderer whose secret() refuses, even when it
// shares the process with components that may resolve secrets.
func (a *app) isolate() {
	iso := a.cfg.Secret.Isolation
	if iso.Denies(roleExecutor) {
		r := *a.renderer
		r.DeniedSecrets = roleExecutor
		a.engine.Renderer = &r
	}
	if iso.Denies(roleWorker) {
		r := *a.renderer
		r.DeniedSecrets = roleWorker
		a.workerRenderer = &r
	}
}

// newServer builds the webserver from the configuration, applying the bind
// rule: no credentials, loopback only, unless auth is explicitly disabled.
func (a *app) newServer(ctx context.Context, metrics *prometheus.Registry) (*server.Server, string, error) {
	cfg := a.cfg.Server
	var auth *server.BasicAuth
	if cfg.BasicAuth.Active() {
		auth = &server.BasicAuth{Username: cfg.BasicAuth.Username, Password: cfg.BasicAuth.Password.Reveal()}
	}
	// The bind rule: without credentials the API stays on loopback unless
	// kestra.server.basic-auth.enabled: false says otherwise.
	addr, notice := server.ListenAddr(cfg.Host, cfg.Port, auth, cfg.BasicAuth.ExplicitlyDisabled())
	if notice != "" {
		a.log.WarnContext(ctx, notice)
	}
	// The management port is served by runServer for every role, not here.
	srv := server.New(server.Options{
		Store: a.store, Parse: a.parse, Flows: a.flows, Runner: serverRunner{a}, Logger: a.log, Registry: metrics,
		Addr: addr, BasicAuth: auth,
		AllowUnauthenticated: cfg.BasicAuth.ExplicitlyDisabled(),
		Triggers:             &server.Triggers{Webhooks: a.dispatcher(), Flows: a.flows, Scheduled: scheduled},
		Storage:              a.files,
	})
	a.mountExtraRoutes(srv)
	return srv, addr, nil
}

// serverRunner adapts the launcher to the webserver's Runner.
type serverRunner struct{ a *app }

func (r serverRunner) Start(ctx context.Context, p server.StartParams) (*flow.Execution, error) {
	return r.a.launcher.StartAs(ctx, p.Flow, p.Inputs, p.Labels, p.ScheduleDate, p.ExecutionID)
}

func (r serverRunner) Kill(ctx context.Context, id string) error {
	_, err := r.a.launcher.Kill(ctx, id, true)
	return conflict(err)
}

var (
	_ server.Steerer   = serverRunner{}
	_ server.Catalog   = serverRunner{}
	_ server.Evaluator = serverRunner{}
)

// Eval renders an expression for the API's eval with the engine's
// renderer, secret() refused: the answer leaves the server.
func (r serverRunner) Eval(ctx context.Context, ex *flow.Execution, tr *flow.TaskRun, expression string) (string, error) {
	f, err := r.a.flows.Get(ctx, ex.Namespace, ex.FlowID, ex.FlowRevision)
	if err != nil {
		return "", fmt.Errorf("flow %s.%s revision %d: %w", ex.Namespace, ex.FlowID, ex.FlowRevision, err)
	}
	rd := *r.a.renderer
	rd.Secrets = evalSecrets{}
	e := *r.a.engine
	e.Renderer = &rd
	return e.Eval(ctx, f, ex, tr, expression)
}

// evalSecrets refuses secret() in the API's eval.
type evalSecrets struct{}

func (evalSecrets) Get(context.Context, string, string) (string, error) {
	return "", errors.New("secret() is not evaluated by the API: a secret's value never leaves the server")
}

func (r serverRunner) Command(ctx context.Context, p server.CommandParams) (*flow.Execution, error) {
	ex, err := command(ctx, r.a.launcher, p)
	return ex, conflict(err)
}

func (r serverRunner) Replay(ctx context.Context, p server.ReplayParams) (*flow.Execution, error) {
	ex, err := r.a.launcher.Replay(ctx, p.ExecutionID, p.TaskRunID, p.Revision)
	return ex, conflict(err)
}

func (r serverRunner) FlowSchema() map[string]any { return r.a.reg.FlowSchema() }

func (r serverRunner) PluginTypes() []server.PluginType {
	var out []server.PluginType
	for _, typ := range r.a.reg.Types() {
		spec, _ := r.a.reg.Spec(typ)
		out = append(out, server.PluginType{
			Type: typ, Kind: tasks.KindName(spec.Kind), Aliases: r.a.reg.Aliases(typ), Schema: r.a.reg.TypeSchema(typ),
		})
	}
	return out
}

// conflict turns the engine's refusal of a transition (the execution
// changed state since the server looked) into a 409.
// command hands a webserver action to the launcher as a command and, with
// p.Wait, waits until the executor applied it.
func command(ctx context.Context, l *launch.Launcher, p server.CommandParams) (*flow.Execution, error) {
	var a launch.Accepted
	var err error
	switch p.Action {
	case server.ActionKill:
		a, err = l.Kill(ctx, p.ExecutionID, !p.NoCascade)
	case server.ActionResume:
		a, err = l.Resume(ctx, p.ExecutionID, p.Inputs)
	case server.ActionRestart:
		a, err = l.Restart(ctx, p.ExecutionID)
	case server.ActionChangeStatus:
		a, err = l.ChangeStatus(ctx, p.ExecutionID, p.TaskRunID, p.State)
	case server.ActionPause:
		a, err = l.Pause(ctx, p.ExecutionID)
	case server.ActionForceRun:
		a, err = l.ForceRun(ctx, p.ExecutionID)
	case server.ActionSetLabels:
		a, err = l.SetLabels(ctx, p.ExecutionID, p.Labels)
	case server.ActionUnqueue:
		a, err = l.Unqueue(ctx, p.ExecutionID, p.State)
	default:
		return nil, fmt.Errorf("unknown action %q", p.Action)
	}
	if err != nil || !p.Wait {
		return a.Execution, err
	}
	return l.Await(ctx, a)
}

func conflict(err error) error {
	if errors.Is(err, engine.ErrInvalidTransition) {
		return &server.Error{Status: http.StatusConflict, Message: err.Error()}
	}
	return err
}

// loadFlowDir creates or updates every flow file under dir.
func (a *app) loadFlowDir(ctx context.Context, dir string) error {
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := a.parse(src)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if _, err := a.store.Flows().Update(ctx, store.PutFlowParams{Namespace: f.Namespace, ID: f.ID, Source: string(src)}); errors.Is(err, store.ErrNotFound) {
			_, err = a.store.Flows().Create(ctx, store.PutFlowParams{Namespace: f.Namespace, ID: f.ID, Source: string(src)})
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		} else if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		n++
		return nil
	})
	if err != nil {
		return fmt.Errorf("load flows from %s: %w", dir, err)
	}
	a.log.InfoContext(ctx, "flows loaded", "dir", dir, "count", n)
	return nil
}

// executorParallel is how many steps an executor runs at once. On
// PostgreSQL a step spends most of its time waiting for its commit to reach
// the disk: more steps in flight share each flush (group commit), where
// four at a time were bound to four flushes' worth of steps. SQLite has one
// writer, whose group commit lets the saves of the steps in flight share a
// transaction, and a claim takes as many executions as there are free
// slots: 16 steps in flight made about one commit per execution at
// saturation, from 2.7 with four.
func executorParallel(cfg *config.Config) int {
	if cfg.Repository.Type == config.RepositoryPostgres {
		return 32
	}
	return 16
}
