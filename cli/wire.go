package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/flowcache"
	"github.com/ospreyhq/osprey/internal/calendar"
	"github.com/ospreyhq/osprey/internal/seal"
	"github.com/ospreyhq/osprey/launch"
	"github.com/ospreyhq/osprey/render"
	"github.com/ospreyhq/osprey/secrets/azurekv"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
	"github.com/ospreyhq/osprey/tasks"
)

// app holds the parts every component shares, built once from the
// configuration.
type app struct {
	cfg      *config.Config
	log      *slog.Logger
	store    store.Store
	reg      *tasks.Registry
	parse    func([]byte) (*flow.Flow, error)
	flows    *flowcache.Cache
	launcher *launch.Launcher
	renderer *render.Renderer
	// inputs seals SECRET-type inputs (nil: no key, such inputs refused).
	inputs *seal.Box
	// workerRenderer is set when isolation denies the worker secrets.
	workerRenderer *render.Renderer
	engine         *engine.Engine
	environ        []string
	// env is the host the process runs on (its environment and, in tests,
	// its Azure transport).
	env *Env
	// files is internal storage (FILE inputs, tasks' output files).
	files storage.Storage
	// holidays are the built-in and supplied holiday calendars.
	holidays *calendar.Calendars
}

// wire opens the store and builds the shared parts. component names the
// process's role for secret isolation ("" for all-in-one).
func wire(ctx context.Context, cfg *config.Config, log *slog.Logger, host *Env) (*app, error) {
	environ := host.Environ
	holidays, err := loadHolidays(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	reg := newRegistry()
	// The Azure tasks reach Azure as the worker does: its workload
	// identity when a flow names no credential.
	reg.SetAzure(tasks.AzureHost{Environ: azurekv.ParseEnviron(host.Environ), Transport: host.AzureTransport})
	a := &app{cfg: cfg, log: log, reg: reg, parse: parser(reg), environ: environ, env: host, holidays: holidays}
	a.flows = flowcache.New(st.Flows(), a.parse)
	a.store = a.flows.Watch(st)
	a.launcher = &launch.Launcher{Store: st, Flows: a.flows, Types: reg}
	secrets, err := newSecrets(ctx, a)
	if err != nil {
		_ = st.Close() // the secrets error is the one to report
		return nil, err
	}
	files, err := openStorage(ctx, cfg, host, a.log)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	// Counted for /metrics: the server registers it with the rest.
	a.files = storage.Instrument(files)
	a.inputs = inputBox(ctx, a)
	a.launcher.Secrets = a.inputs
	a.launcher.Render = func(f *flow.Flow, tmpl string) (string, error) {
		vars := engine.Vars(f, &flow.Execution{Namespace: f.Namespace, FlowID: f.ID, FlowRevision: f.Revision}, nil, cfg.Variables.Globals, a.engine.Envs)
		return a.renderer.Render(context.Background(), tmpl, vars)
	}
	a.launcher.Evaluate = func(f *flow.Flow, ex *flow.Execution, tmpl string) (string, error) {
		vars := engine.Vars(f, ex, nil, cfg.Variables.Globals, a.engine.Envs)
		return a.renderer.Render(context.Background(), tmpl, vars)
	}
	a.renderer = &render.Renderer{Expr: expr.New(expr.Options{
		MaxDuration: cfg.Osprey.Limits.ExpressionTimeout, MaxAlloc: int64(cfg.Osprey.Limits.JQMemoryMB) << 20,
		Holidays: holidays,
	}), Secrets: secrets, Logs: errorLogs{st}, KV: st.KV(), Files: st.Files(), Access: secretAccess(cfg, st), Storage: a.files}
	a.engine = &engine.Engine{
		Types:        reg,
		Renderer:     a.renderer,
		Globals:      cfg.Variables.Globals,
		Envs:         envVars(environ, cfg),
		Starter:      a.launcher,
		MaxLoopItems: cfg.Osprey.Limits.LoopItems,
	}
	return a, nil
}

// newRegistry returns the task types Osprey runs.
func newRegistry() *tasks.Registry { return tasks.New() }

// openStore is the one switch over store drivers.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (store.Store, error) {
	switch cfg.Repository.Type {
	case config.RepositorySQLite:
		dir := cfg.Osprey.DataDir
		if dir == "" {
			dir = "data"
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory %s: %w", dir, err)
		}
		path := filepath.Join(dir, "osprey.db")
		st, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			return nil, fmt.Errorf("open SQLite store %s: %w", path, err)
		}
		log.InfoContext(ctx, "store ready", "type", "sqlite", "path", path)
		return st, nil
	case config.RepositoryPostgres:
		return openPostgres(ctx, cfg, log)
	default:
		return nil, fmt.Errorf("kestra.repository.type %q: use sqlite or postgres", cfg.Repository.Type)
	}
}

// errorLogs serves errorLogs() from the log store and tasksWithState()
// from the execution as last saved.
type errorLogs struct{ st store.Store }

func (e errorLogs) ErrorLogs(ctx context.Context, executionID string) ([]map[string]any, error) {
	logs, err := e.st.Logs().List(ctx, store.LogQuery{ExecutionID: executionID, MinLevel: "ERROR"})
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(logs))
	for _, l := range logs {
		out = append(out, map[string]any{
			"taskId": l.TaskID, "taskRunId": l.TaskRunID, "message": l.Message, "level": l.Level,
			"timestamp": l.Timestamp, "executionId": l.ExecutionID, "namespace": l.Namespace, "flowId": l.FlowID,
		})
	}
	return out, nil
}

func (e errorLogs) TasksWithState(ctx context.Context, executionID, state string) ([]map[string]any, error) {
	ex, _, err := e.st.Executions().Get(ctx, executionID)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, tr := range ex.TaskRunList {
		if string(tr.State.Current) != state {
			continue
		}
		m := map[string]any{"taskId": tr.TaskID, "state": string(tr.State.Current), "taskRunId": tr.ID}
		if tr.Value != "" {
			m["value"] = tr.Value
		}
		out = append(out, m)
	}
	return out, nil
}
