package tasks

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/worker"
)

const pWorkingDirectory = "io.kestra.plugin.core.flow.WorkingDirectory"

// workingDirectory runs its tasks one after the other in one directory on
// one worker (core.flow.WorkingDirectory): files one child writes, the next
// reads. The engine dispatches it as one job (engine.Group); the worker
// runs Run first (namespaceFiles, then inputFiles, into the directory),
// then each child with its own task run, then Collect (outputFiles →
// outputs.outputFiles). Its errors and finally run afterwards on any
// worker, as Kestra's Sequential does them.
type workingDirectory struct {
	t *flow.Task
	workingDirectoryProps
	// restored is when the cache was unpacked into the directory (zero:
	// no cache was there); a file modified since makes a new cache.
	restored time.Time
}

type workingDirectoryProps struct {
	InputFiles     any                `json:"inputFiles"`
	OutputFiles    any                `json:"outputFiles"`
	NamespaceFiles *namespaceFilesSel `json:"namespaceFiles"`
	Cache          *workDirCache      `json:"cache"`
	TaskRunner     map[string]any     `json:"taskRunner"`
}

// namespaceFilesSel is Kestra's NamespaceFiles property.
type namespaceFilesSel = struct {
	Enabled    *bool    `json:"enabled"`
	Include    []string `json:"include"`
	Exclude    []string `json:"exclude"`
	Namespaces []string `json:"namespaces"`
}

var (
	_ engine.Group     = (*workingDirectory)(nil)
	_ worker.Runnable  = (*workingDirectory)(nil)
	_ worker.Collector = (*workingDirectory)(nil)
)

func workingDirectorySpec() *Spec {
	return flowable[workingDirectoryProps](pWorkingDirectory, []string{"inputFiles", "outputFiles", "namespaceFiles", "cache", "taskRunner"},
		func(t *flow.Task, x *workingDirectoryProps) (engine.Flowable, []*flow.Error) {
			var errs []*flow.Error
			if !hasTasks(t.Children["tasks"]) {
				errs = append(errs, taskErr(t, "tasks", "The 'tasks' property cannot be empty"))
			}
			if x.Cache != nil && len(x.Cache.Patterns) == 0 {
				errs = append(errs, taskErr(t, "cache.patterns", "a cache needs patterns: the files of the directory it keeps, e.g. node_modules/**"))
			}
			if x.Cache != nil && x.Cache.TTL != "" {
				if _, err := flow.ParseDuration(x.Cache.TTL); err != nil {
					errs = append(errs, taskErr(t, "cache.ttl", err.Error()))
				}
			}
			if typ, _ := x.TaskRunner["type"].(string); x.TaskRunner != nil && typ != runnerProcess && typ != runnerDocker {
				errs = append(errs, taskErr(t, "taskRunner", fmt.Sprintf("task runner %q is not supported: use %s", typ, runnerProcess)))
			}
			return &workingDirectory{t: t, workingDirectoryProps: *x}, errs
		})
}

func hasTasks(ts []*flow.Task) bool { return len(ts) > 0 }

// checkWorkingDirectory refuses what Kestra's WorkingDirectoryTaskValidator
// refuses: children that are not runnable (a worker runs them all, in
// order), and a workerGroup on a child (only the group may have one).
func (r *Registry) checkWorkingDirectory(t *flow.Task) []*flow.Error {
	var errs []*flow.Error
	for _, c := range t.Children["tasks"] {
		if s, ok := r.Spec(c.Type); ok && s.Kind != KindRunnable {
			errs = append(errs, taskErr(t, "tasks", fmt.Sprintf("Only runnable tasks are allowed as children of a WorkingDirectory task: %s is a %s", c.ID, kindName(s.Kind))))
		}
		if c.WorkerGroup != nil {
			errs = append(errs, taskErr(t, "tasks", fmt.Sprintf("Cannot set a Worker Group in any WorkingDirectory sub-tasks, it is only supported at the WorkingDirectory level (task %s)", c.ID)))
		}
	}
	return errs
}

// GroupTasks implements engine.Group.
func (w *workingDirectory) GroupTasks() []*flow.Task { return w.t.Children["tasks"] }

// Resolve implements engine.Flowable.
func (w *workingDirectory) Resolve(s *engine.Scope, p *flow.TaskRun) (engine.Outcome, error) {
	return s.Group(p, w.t.Children["errors"], w.t.Children["finally"]), nil
}

// Run prepares the group's directory before its first child.
func (w *workingDirectory) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	sh := &ShellCommands{InputFiles: w.InputFiles, NamespaceFiles: w.NamespaceFiles, TaskRunner: w.TaskRunner}
	sh.warnIgnored(rc)
	if err := os.MkdirAll(rc.TmpDir, 0o700); err != nil {
		return nil, fmt.Errorf("create working directory: %w", err)
	}
	if w.Cache != nil {
		restored, err := w.Cache.restore(ctx, rc, w.t.ID)
		if err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
		w.restored = restored
	}
	if err := sh.writeNamespaceFiles(ctx, rc); err != nil {
		return nil, err
	}
	if err := sh.writeInputFiles(ctx, rc, rc.TmpDir); err != nil {
		return nil, err
	}
	return nil, nil
}

// Collect stores outputFiles once the children ran: outputs.outputFiles,
// file name → kestra:/// URI, as Kestra's WorkingDirectory.Outputs.
// With a cache, the files its patterns match are archived for the next
// run when one of them changed since the cache was restored.
func (w *workingDirectory) Collect(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	var outs map[string]any
	if w.OutputFiles != nil {
		files, err := collectOutputFiles(ctx, rc, rc.TmpDir, w.OutputFiles)
		if err != nil {
			return nil, err
		}
		outs = map[string]any{"outputFiles": files}
	}
	if w.Cache != nil {
		if err := w.Cache.save(ctx, rc, w.t.ID, w.restored); err != nil {
			// Kestra logs a cache it cannot store and carries on.
			rc.Log("ERROR", fmt.Sprintf("cache: %v", err))
		}
	}
	return outs, nil
}
