// Package render binds the expression engine to Osprey's run-time
// providers: secret(), kv(), errorLogs() and the flow-level defaults, so
// the engine (executor side) and the worker render the same way.
package render

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/nsfile"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/kv"
	"github.com/ospreyhq/osprey/mask"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/worker"
)

// SecretAccess decides whether flows of namespace reader may read the
// secrets of namespace owner (secrets.Access).
type SecretAccess interface {
	CheckRead(ctx context.Context, owner, reader string) error
}

// Secrets resolves secret('KEY') for a namespace, climbing to its parents.
type Secrets interface {
	Get(ctx context.Context, namespace, key string) (string, error)
}

// Logs returns an execution's ERROR log lines, for errorLogs(), and its
// task runs in a given state, for tasksWithState().
type Logs interface {
	ErrorLogs(ctx context.Context, executionID string) ([]map[string]any, error)
	TasksWithState(ctx context.Context, executionID, state string) ([]map[string]any, error)
}

// Files reads a namespace file, for read().
type Files interface {
	Get(ctx context.Context, namespace, path string) (store.FileRecord, error)
}

// Renderer renders templates with the expression engine.
type Renderer struct {
	Expr    *expr.Engine
	Secrets Secrets
	Logs    Logs
	// KV reads namespaces' key-value entries for kv().
	KV kv.Reader
	// Files reads namespace files for read().
	Files Files
	// Storage holds executions' files for read(), fileSize() and the other
	// file functions; nil where there is none.
	Storage storage.Storage
	// DeniedSecrets is set where kestra.secret.isolation forbids this
	// component to resolve secrets.
	DeniedSecrets string
	// Access decides whether a flow may read another namespace's secrets
	// (allowedNamespaces); nil allows every read.
	Access SecretAccess
	learn  func(string)
}

var (
	_ engine.Renderer  = (*Renderer)(nil)
	_ worker.Renderer  = (*Renderer)(nil)
	_ worker.Renderers = (*Renderer)(nil)
)

// ForJob returns a renderer that reports every secret it resolves to learn.
func (r *Renderer) ForJob(learn func(string)) worker.Renderer {
	c := *r
	c.learn = learn
	return &c
}

func (r *Renderer) scope(vars map[string]any) *expr.Scope {
	return &expr.Scope{Vars: vars, Funcs: r.funcs(vars), Strict: true}
}

// Render implements engine.Renderer and worker.Renderer.
func (r *Renderer) Render(ctx context.Context, tmpl string, vars map[string]any) (string, error) {
	if !expr.IsTemplate(tmpl) {
		return tmpl, nil
	}
	return r.Expr.Render(ctx, tmpl, r.scope(vars))
}

// RenderTyped implements engine.Renderer.
func (r *Renderer) RenderTyped(ctx context.Context, tmpl string, vars map[string]any) (any, error) {
	if !expr.IsTemplate(tmpl) {
		return tmpl, nil
	}
	return r.Expr.RenderTyped(ctx, tmpl, r.scope(vars))
}

// RenderValue implements worker.Renderer.
func (r *Renderer) RenderValue(ctx context.Context, v any, vars map[string]any) (any, error) {
	return r.Expr.RenderValue(ctx, v, r.scope(vars))
}

func (r *Renderer) funcs(vars map[string]any) map[string]expr.Func {
	ns := ""
	if f, ok := vars["flow"].(map[string]any); ok {
		ns, _ = f["namespace"].(string)
	}
	execID := ""
	if e, ok := vars["execution"].(map[string]any); ok {
		execID, _ = e["id"].(string)
	}
	funcs := map[string]expr.Func{
		"secret": func(ctx context.Context, a expr.Args) (any, error) {
			return r.secret(ctx, ns, a)
		},
		"read": func(ctx context.Context, a expr.Args) (any, error) {
			if v, _ := a.Get(0, "path"); storage.IsURI(fmt.Sprint(v)) {
				return r.readStorage(ctx, vars, ns, fmt.Sprint(v))
			}
			return r.read(ctx, ns, a)
		},
		"kv": func(ctx context.Context, a expr.Args) (any, error) {
			return r.kv(ctx, ns, a)
		},
		"currentEachOutput": func(ctx context.Context, a expr.Args) (any, error) {
			v, _ := a.Get(0, "outputs")
			return currentEachOutput(v, vars), nil
		},
		"tasksWithState": func(ctx context.Context, a expr.Args) (any, error) {
			st, _ := a.Get(0, "state")
			state, _ := st.(string)
			if state == "" {
				return nil, fmt.Errorf("tasksWithState() needs a state: tasksWithState('FAILED')")
			}
			if ex := flow.ExecutionFrom(ctx); ex != nil && ex.ID == execID {
				// during an executor step: the execution as it is now
				return tasksWithState(ex, strings.ToUpper(state)), nil
			}
			if r.Logs == nil || execID == "" {
				return []any{}, nil
			}
			runs, err := r.Logs.TasksWithState(ctx, execID, strings.ToUpper(state))
			if err != nil {
				return nil, err
			}
			out := make([]any, len(runs))
			for i, x := range runs {
				out[i] = x
			}
			return out, nil
		},
		"errorLogs": func(ctx context.Context, a expr.Args) (any, error) {
			if r.Logs == nil || execID == "" {
				return []any{}, nil
			}
			logs, err := r.Logs.ErrorLogs(ctx, execID)
			if err != nil {
				return nil, err
			}
			out := make([]any, len(logs))
			for i, l := range logs {
				out[i] = l
			}
			return out, nil
		},
	}
	r.fileFuncs(vars, ns, funcs)
	return funcs
}

// read is Kestra's read(path): the content of a namespace file of the
// flow's namespace (or the one named), as text. Internal storage URIs
// (kestra:///…) are read by readStorage.
func (r *Renderer) read(ctx context.Context, ns string, a expr.Args) (any, error) {
	v, _ := a.Get(0, "path")
	p, _ := v.(string)
	clean, err := nsfile.Clean(p)
	if err != nil {
		return nil, fmt.Errorf("read(): %w", err)
	}
	if n, ok := a.Get(1, "namespace"); ok && n != nil {
		ns = fmt.Sprint(n)
	}
	if r.Files == nil {
		return nil, fmt.Errorf("read(): no namespace files here")
	}
	f, err := r.Files.Get(ctx, ns, clean)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("read(%q): no namespace file %s in namespace %s", p, clean, ns)
	}
	if err != nil {
		return nil, fmt.Errorf("read(%q): %w", p, err)
	}
	return string(f.Content), nil
}

// kv is Kestra's kv(key, namespace, errorOnMissing): the value of a
// key-value entry of the flow's namespace (or the one named), an error
// when it is missing unless errorOnMissing is false.
func (r *Renderer) kv(ctx context.Context, ns string, a expr.Args) (any, error) {
	if r.KV == nil {
		return nil, fmt.Errorf("kv(): no key-value store here")
	}
	k, _ := a.Get(0, "key")
	key, _ := k.(string)
	if key == "" {
		return nil, fmt.Errorf("kv() needs a key: kv('MY_KEY')")
	}
	if v, ok := a.Get(1, "namespace"); ok && v != nil {
		ns = fmt.Sprint(v)
	}
	must := true
	if v, ok := a.Get(2, "errorOnMissing"); ok {
		must = engine.Truthy(fmt.Sprint(v))
	}
	v, found, err := kv.Get(ctx, r.KV, ns, key)
	if err != nil {
		return nil, fmt.Errorf("kv(%q): %w", key, err)
	}
	if !found && must {
		return nil, fmt.Errorf("kv(%q): no such key in namespace %s (or it expired); kv('%s', errorOnMissing=false) reads null instead", key, ns, key)
	}
	return v, nil
}

func (r *Renderer) secret(ctx context.Context, ns string, a expr.Args) (any, error) {
	if r.DeniedSecrets != "" {
		return nil, fmt.Errorf("secret(): the %s may not resolve secrets (kestra.secret.isolation.denied-services)", r.DeniedSecrets)
	}
	if r.Secrets == nil {
		return nil, fmt.Errorf("secret(): no secret manager is configured (kestra.secret.type)")
	}
	k, ok := a.Get(0, "key")
	key, _ := k.(string)
	if !ok || key == "" {
		return nil, fmt.Errorf("secret() needs a key: secret('MY_KEY')")
	}
	flowNS := ns
	if v, ok := a.Get(1, "namespace"); ok {
		if s, _ := v.(string); s != "" {
			ns = s
		}
	}
	if ns != flowNS && r.Access != nil {
		if err := r.Access.CheckRead(ctx, ns, flowNS); err != nil {
			return nil, err
		}
	}
	val, err := r.Secrets.Get(ctx, ns, key)
	if err != nil {
		return nil, err
	}
	if r.learn != nil {
		r.learn(val)
	}
	if m := mask.FromContext(ctx); m != nil {
		m.Add(val)
	}
	if sk, ok := a.Named["subkey"]; ok {
		field, _ := sk.(string)
		var obj map[string]any
		if err := json.Unmarshal([]byte(val), &obj); err != nil {
			return nil, fmt.Errorf("secret(%q, subkey=%q): the secret is not a JSON object", key, field)
		}
		v, ok := obj[field]
		if !ok {
			return nil, fmt.Errorf("secret(%q): no subkey %q", key, field)
		}
		s, ok := v.(string)
		if !ok {
			b, _ := json.Marshal(v)
			s = string(b)
		}
		if r.learn != nil {
			r.learn(s)
		}
		return s, nil
	}
	return strings.Clone(val), nil
}

// currentEachOutput picks, in a loop task's outputs (nested by loop
// values), the entry of the current iteration: the values of the task
// run's parents, outermost first, then its own.
func currentEachOutput(v any, vars map[string]any) any {
	var keys []string
	if ps, ok := vars["parents"].([]any); ok {
		for i := len(ps) - 1; i >= 0; i-- {
			if p, ok := ordered.AsMap(ps[i]); ok {
				if tr, ok := ordered.AsMap(p["taskrun"]); ok {
					if s, ok := tr["value"].(string); ok && s != "" {
						keys = append(keys, s)
					}
				}
			}
		}
	}
	if tr, ok := vars["taskrun"].(map[string]any); ok {
		if s, ok := tr["value"].(string); ok && s != "" {
			keys = append(keys, s)
		}
	}
	cur := v
	for _, k := range keys {
		m, ok := ordered.AsMap(cur)
		if !ok {
			return cur
		}
		next, ok := m[k]
		if !ok {
			return cur
		}
		cur = next
	}
	return cur
}

// tasksWithState lists the task runs of ex in state, as tasksWithState()
// returns them.
func tasksWithState(ex *flow.Execution, state string) []any {
	out := []any{}
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
	return out
}
