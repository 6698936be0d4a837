package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// memStore is an in-memory store.Store with just what the server uses.
type memStore struct {
	mu         sync.Mutex
	flows      map[string][]store.FlowRecord // key ns|id, revisions oldest first
	execs      map[string]*memExec
	logs       []flow.LogEntry
	seq        int64
	subs       []chan struct{}
	pingErr    error
	kv         map[string]store.KVRecord   // key ns|key
	files      map[string]store.FileRecord // key ns|path
	namespaces map[string]store.NamespaceRecord
}

type memExec struct {
	e       *flow.Execution
	version int64
}

var _ store.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{flows: map[string][]store.FlowRecord{}, execs: map[string]*memExec{}, kv: map[string]store.KVRecord{}, files: map[string]store.FileRecord{}, namespaces: map[string]store.NamespaceRecord{}}
}

func (m *memStore) Flows() store.FlowStore           { return memFlows{m} }
func (m *memStore) Executions() store.ExecutionStore { return memExecs{m} }
func (m *memStore) Logs() store.LogStore             { return memLogs{m} }
func (m *memStore) Triggers() store.TriggerStore     { return nil }
func (m *memStore) Queue() store.QueueStore          { return memQueue{m} }
func (m *memStore) Secrets() store.SecretStore       { return nil }
func (m *memStore) KV() store.KVStore                { return memKV{m} }
func (m *memStore) Files() store.FileStore           { return memFiles{m} }
func (m *memStore) Namespaces() store.NamespaceStore { return memNamespaces{m} }
func (m *memStore) Close() error                     { return nil }
func (m *memStore) Ping(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pingErr
}

func (m *memStore) setPingErr(err error) {
	m.mu.Lock()
	m.pingErr = err
	m.mu.Unlock()
}

// clone copies an execution through JSON-free means good enough for tests.
func clone(e *flow.Execution) *flow.Execution {
	c := *e
	c.State.Histories = slices.Clone(e.State.Histories)
	c.Labels = slices.Clone(e.Labels)
	c.TaskRunList = slices.Clone(e.TaskRunList)
	return &c
}

func (m *memStore) notify() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.subs {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

type memFlows struct{ m *memStore }

func (f memFlows) latest(ns, id string) (store.FlowRecord, bool) {
	revs := f.m.flows[ns+"|"+id]
	if len(revs) == 0 {
		return store.FlowRecord{}, false
	}
	return revs[len(revs)-1], true
}

func (f memFlows) Create(_ context.Context, p store.PutFlowParams) (store.FlowRecord, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	last, ok := f.latest(p.Namespace, p.ID)
	if ok && !last.Deleted {
		return store.FlowRecord{}, store.ErrConflict
	}
	rec := store.FlowRecord{Namespace: p.Namespace, ID: p.ID, Revision: last.Revision + 1, Source: p.Source, Updated: time.Now()}
	f.m.flows[p.Namespace+"|"+p.ID] = append(f.m.flows[p.Namespace+"|"+p.ID], rec)
	return rec, nil
}

func (f memFlows) Update(_ context.Context, p store.PutFlowParams) (store.FlowRecord, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	last, ok := f.latest(p.Namespace, p.ID)
	if !ok || last.Deleted {
		return store.FlowRecord{}, store.ErrNotFound
	}
	if last.Source == p.Source {
		return last, nil
	}
	rec := store.FlowRecord{Namespace: p.Namespace, ID: p.ID, Revision: last.Revision + 1, Source: p.Source, Updated: time.Now()}
	f.m.flows[p.Namespace+"|"+p.ID] = append(f.m.flows[p.Namespace+"|"+p.ID], rec)
	return rec, nil
}

func (f memFlows) Get(_ context.Context, ns, id string, rev int) (store.FlowRecord, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	revs := f.m.flows[ns+"|"+id]
	if rev == 0 {
		last, ok := f.latest(ns, id)
		if !ok || last.Deleted {
			return store.FlowRecord{}, store.ErrNotFound
		}
		return last, nil
	}
	for _, r := range revs {
		if r.Revision == rev {
			return r, nil
		}
	}
	return store.FlowRecord{}, store.ErrNotFound
}

func (f memFlows) Revisions(_ context.Context, ns, id string) ([]store.FlowRecord, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	return slices.Clone(f.m.flows[ns+"|"+id]), nil
}

func (f memFlows) Delete(_ context.Context, ns, id string) error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	last, ok := f.latest(ns, id)
	if !ok || last.Deleted {
		return store.ErrNotFound
	}
	last.Revision++
	last.Deleted = true
	f.m.flows[ns+"|"+id] = append(f.m.flows[ns+"|"+id], last)
	return nil
}

func (f memFlows) Search(_ context.Context, q store.FlowQuery) ([]store.FlowRecord, int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	var all []store.FlowRecord
	for _, revs := range f.m.flows {
		last := revs[len(revs)-1]
		if last.Deleted {
			continue
		}
		if q.Namespace != "" && last.Namespace != q.Namespace && !strings.HasPrefix(last.Namespace, q.Namespace+".") {
			continue
		}
		if q.Query != "" && !strings.Contains(strings.ToLower(last.ID), strings.ToLower(q.Query)) {
			continue
		}
		all = append(all, last)
	}
	slices.SortFunc(all, func(a, b store.FlowRecord) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return pageOf(all, q.Page, q.Size), len(all), nil
}

func pageOf[T any](all []T, page, size int) []T {
	if size == 0 {
		return all
	}
	start := min((page-1)*size, len(all))
	return all[start:min(start+size, len(all))]
}

type memExecs struct{ m *memStore }

func (x memExecs) Create(_ context.Context, e *flow.Execution) error {
	x.m.mu.Lock()
	defer x.m.mu.Unlock()
	if _, ok := x.m.execs[e.ID]; ok {
		return store.ErrConflict
	}
	x.m.execs[e.ID] = &memExec{e: clone(e), version: 1}
	return nil
}

func (x memExecs) Get(_ context.Context, id string) (*flow.Execution, int64, error) {
	x.m.mu.Lock()
	defer x.m.mu.Unlock()
	e, ok := x.m.execs[id]
	if !ok {
		return nil, 0, store.ErrNotFound
	}
	return clone(e.e), e.version, nil
}

func (x memExecs) Save(_ context.Context, p store.SaveParams) (int64, error) {
	x.m.mu.Lock()
	me, ok := x.m.execs[p.Execution.ID]
	if !ok {
		x.m.mu.Unlock()
		return 0, store.ErrNotFound
	}
	if me.version != p.Version {
		x.m.mu.Unlock()
		return 0, store.ErrConflict
	}
	me.e = clone(p.Execution)
	me.version++
	v := me.version
	x.m.mu.Unlock()
	x.m.notify()
	return v, nil
}
func (x memExecs) MarkDirty(context.Context, string) error { return nil }
func (x memExecs) Send(context.Context, store.Command) (store.Command, error) {
	return store.Command{}, errors.New("not used by the server")
}
func (x memExecs) Commands(context.Context, string) ([]store.Command, error) {
	return nil, errors.New("not used by the server")
}
func (x memExecs) CountActive(context.Context, string, string) (int, error) {
	return 0, errors.New("not used by the server")
}

func (x memExecs) Search(_ context.Context, q store.ExecutionQuery) ([]*flow.Execution, int, error) {
	x.m.mu.Lock()
	defer x.m.mu.Unlock()
	var all []*flow.Execution
	for _, me := range x.m.execs {
		e := me.e
		if q.Namespace != "" && e.Namespace != q.Namespace && !strings.HasPrefix(e.Namespace, q.Namespace+".") {
			continue
		}
		if q.FlowID != "" && e.FlowID != q.FlowID {
			continue
		}
		if len(q.States) > 0 && !slices.Contains(q.States, e.State.Current) {
			continue
		}
		if !slices.ContainsFunc(q.Labels, func(l flow.Label) bool { return !slices.Contains(e.Labels, l) }) {
			all = append(all, clone(e))
		}
	}
	slices.SortFunc(all, func(a, b *flow.Execution) int { return strings.Compare(a.ID, b.ID) })
	return pageOf(all, q.Page, q.Size), len(all), nil
}

func (x memExecs) Delete(_ context.Context, id string) error {
	x.m.mu.Lock()
	defer x.m.mu.Unlock()
	if _, ok := x.m.execs[id]; !ok {
		return store.ErrNotFound
	}
	delete(x.m.execs, id)
	return nil
}

type memLogs struct{ m *memStore }

var levelRank = map[string]int{"TRACE": 0, "DEBUG": 1, "INFO": 2, "WARN": 3, "ERROR": 4}

func (l memLogs) Append(_ context.Context, entries []flow.LogEntry) error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	for _, e := range entries {
		l.m.seq++
		e.Seq = l.m.seq
		l.m.logs = append(l.m.logs, e)
	}
	return nil
}

func (l memLogs) List(_ context.Context, q store.LogQuery) ([]flow.LogEntry, error) {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	var out []flow.LogEntry
	for _, e := range l.m.logs {
		if e.ExecutionID != q.ExecutionID || e.Seq <= q.AfterSeq ||
			(q.TaskID != "" && e.TaskID != q.TaskID) || (q.TaskRunID != "" && e.TaskRunID != q.TaskRunID) ||
			(q.MinLevel != "" && levelRank[e.Level] < levelRank[q.MinLevel]) {
			continue
		}
		out = append(out, e)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

func (l memLogs) DeleteByExecution(context.Context, string) error { return nil }

type memQueue struct{ m *memStore }

func (q memQueue) ClaimExecutions(context.Context, string, int, time.Duration) ([]string, error) {
	return nil, errors.New("not used by the server")
}
func (q memQueue) ClaimJobs(context.Context, string, int, time.Duration) ([]store.Job, error) {
	return nil, errors.New("not used by the server")
}
func (q memQueue) Heartbeat(context.Context, string, []string, time.Duration) ([]string, error) {
	return nil, errors.New("not used by the server")
}
func (q memQueue) Complete(context.Context, string, string, []byte) error {
	return errors.New("not used by the server")
}
func (q memQueue) Results(context.Context, string) ([]store.Job, error) {
	return nil, errors.New("not used by the server")
}
func (q memQueue) RequeueExpired(context.Context) (int, error)   { return 0, nil }
func (q memQueue) Release(context.Context, string, string) error { return store.ErrConflict }
func (q memQueue) Notify(context.Context, string) error          { q.m.notify(); return nil }

func (q memQueue) Subscribe(ctx context.Context, _ string) (<-chan struct{}, error) {
	c := make(chan struct{}, 1)
	q.m.mu.Lock()
	q.m.subs = append(q.m.subs, c)
	q.m.mu.Unlock()
	go func() {
		<-ctx.Done()
		q.m.mu.Lock()
		defer q.m.mu.Unlock()
		q.m.subs = slices.DeleteFunc(q.m.subs, func(x chan struct{}) bool { return x == c })
	}()
	return c, nil
}

// setState moves an execution to st as an executor step would: read,
// change, save at the read version.
func setState(ctx context.Context, st store.Store, id string, state flow.State) error {
	e, v, err := st.Executions().Get(ctx, id)
	if err != nil {
		return err
	}
	e.State.Set(state, time.Now())
	_, err = st.Executions().Save(ctx, store.SaveParams{Execution: e, Version: v})
	return err
}

// fakeRunner stores a CREATED execution, as the engine's runner does, and
// refuses a missing required input (as flow.Errors, like the launcher) and
// a non-integer INT input (as *InputError). With finish set it runs the execution
// to SUCCESS in the background, logging one line.
type fakeRunner struct {
	st     store.Store
	finish bool
	// step is how long each state of a finishing execution lasts
	// (default 20 ms).
	step   time.Duration
	mu     sync.Mutex
	killed []string
	last   StartParams
}

func (r *fakeRunner) Start(ctx context.Context, p StartParams) (*flow.Execution, error) {
	var problems flow.Errors
	for _, in := range p.Flow.Inputs {
		if _, ok := p.Inputs[in.ID]; !ok && in.IsRequired() {
			problems = append(problems, &flow.Error{Path: "inputs." + in.ID, Message: fmt.Sprintf("input %q: missing required input", in.ID)})
		}
		if v, ok := p.Inputs[in.ID].(string); ok && in.Type == "INT" && strings.Trim(v, "0123456789") != "" {
			return nil, &InputError{Input: in.ID, Message: fmt.Sprintf("%q is not an integer", v)}
		}
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.last = p
	r.mu.Unlock()
	now := time.Now()
	e := &flow.Execution{
		ID: uuid.NewString(), Namespace: p.Flow.Namespace, FlowID: p.Flow.ID, FlowRevision: p.Flow.Revision,
		Inputs: p.Inputs, Labels: p.Labels, State: flow.NewStateInfo(flow.StateCreated, now),
	}
	if err := r.st.Executions().Create(ctx, e); err != nil {
		return nil, err
	}
	if r.finish {
		step := r.step
		if step == 0 {
			step = 20 * time.Millisecond
		}
		go func() {
			ctx := context.WithoutCancel(ctx)
			time.Sleep(step)
			_ = setState(ctx, r.st, e.ID, flow.StateRunning)
			_ = r.st.Logs().Append(ctx, []flow.LogEntry{{
				ExecutionID: e.ID, Namespace: e.Namespace, FlowID: e.FlowID, TaskID: "hello",
				Level: "INFO", Message: "hello from " + e.FlowID, Timestamp: time.Now(),
			}})
			time.Sleep(step)
			_ = setState(ctx, r.st, e.ID, flow.StateSuccess)
		}()
	}
	return e, nil
}

func (r *fakeRunner) Kill(ctx context.Context, id string) error {
	r.mu.Lock()
	r.killed = append(r.killed, id)
	r.mu.Unlock()
	return setState(ctx, r.st, id, flow.StateKilling)
}

// fakeParse is a small stand-in for flow.Parse: id, namespace, disabled,
// inputs and tasks (with nested tasks), positioned errors for a syntax
// error, a missing id or namespace, and a task type outside io.kestra.
func fakeParse(src []byte) (*flow.Flow, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(src)).Decode(&doc); err != nil {
		return nil, flow.Errors{{Line: 1, Column: 1, Message: "invalid YAML: " + err.Error()}}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, flow.Errors{{Line: 1, Column: 1, Message: "a flow must be a YAML mapping"}}
	}
	root := doc.Content[0]
	f := &flow.Flow{}
	var errs flow.Errors
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "id":
			f.ID = v.Value
		case "namespace":
			f.Namespace = v.Value
		case "disabled":
			f.Disabled = v.Value == "true"
		case "inputs":
			for _, n := range v.Content {
				var in flow.Input
				if err := n.Decode(&in); err != nil {
					return nil, err
				}
				f.Inputs = append(f.Inputs, &in)
			}
		case "tasks":
			f.Tasks = fakeTasks(v, "tasks", &errs)
		}
	}
	if f.ID == "" {
		errs = append(errs, &flow.Error{Path: "id", Line: root.Line, Column: root.Column, Message: "missing required property"})
	}
	if f.Namespace == "" {
		errs = append(errs, &flow.Error{Path: "namespace", Line: root.Line, Column: root.Column, Message: "missing required property"})
	}
	if err := errs.Err(); err != nil {
		return f, err
	}
	return f, nil
}

func fakeTasks(seq *yaml.Node, path string, errs *flow.Errors) []*flow.Task {
	var out []*flow.Task
	for i, n := range seq.Content {
		t := &flow.Task{Props: map[string]any{}, Path: fmt.Sprintf("%s[%d]", path, i)}
		for j := 0; j+1 < len(n.Content); j += 2 {
			k, v := n.Content[j], n.Content[j+1]
			switch k.Value {
			case "id":
				t.ID = v.Value
			case "type":
				t.Type = v.Value
				if !strings.HasPrefix(v.Value, "io.kestra.") {
					*errs = append(*errs, &flow.Error{Path: t.Path + ".type", Line: v.Line, Column: v.Column, Message: "unknown task type " + v.Value})
				}
			case "tasks":
				t.Children = map[string][]*flow.Task{"tasks": fakeTasks(v, t.Path+".tasks", errs)}
			default:
				var x any
				_ = v.Decode(&x)
				t.Props[k.Value] = x
			}
		}
		out = append(out, t)
	}
	return out
}

// memKV keeps KV entries in memory; an expired entry reads as absent.
type memKV struct{ m *memStore }

func (k memKV) live(ns, key string) (store.KVRecord, bool) {
	r, ok := k.m.kv[ns+"|"+key]
	if ok && r.Expires != nil && !r.Expires.After(time.Now()) {
		return r, false
	}
	return r, ok
}

func (k memKV) Put(_ context.Context, r store.KVRecord) error {
	k.m.mu.Lock()
	defer k.m.mu.Unlock()
	now := time.Now().UTC()
	r.Created, r.Updated = now, now
	if old, ok := k.live(r.Namespace, r.Key); ok {
		r.Created = old.Created
	}
	k.m.kv[r.Namespace+"|"+r.Key] = r
	return nil
}

func (k memKV) Get(_ context.Context, ns, key string) (store.KVRecord, error) {
	k.m.mu.Lock()
	defer k.m.mu.Unlock()
	if r, ok := k.live(ns, key); ok {
		return r, nil
	}
	return store.KVRecord{}, store.ErrNotFound
}

func (k memKV) List(_ context.Context, ns string) ([]store.KVRecord, error) {
	k.m.mu.Lock()
	defer k.m.mu.Unlock()
	var out []store.KVRecord
	for _, r := range k.m.kv {
		if _, ok := k.live(r.Namespace, r.Key); ok && r.Namespace == ns {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b store.KVRecord) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (k memKV) Delete(_ context.Context, ns, key string) error {
	k.m.mu.Lock()
	defer k.m.mu.Unlock()
	_, ok := k.live(ns, key)
	delete(k.m.kv, ns+"|"+key)
	if !ok {
		return store.ErrNotFound
	}
	return nil
}

// memFiles keeps namespace files in memory.
type memFiles struct{ m *memStore }

// under reports whether p is dir or below it ("/" holds everything).
func under(p, dir string) bool {
	return dir == "/" || dir == "" || p == dir || strings.HasPrefix(p, dir+"/")
}

func (f memFiles) Put(_ context.Context, r store.FileRecord) error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	now := time.Now().UTC()
	r.Size, r.Created, r.Updated = int64(len(r.Content)), now, now
	if old, ok := f.m.files[r.Namespace+"|"+r.Path]; ok {
		r.Created = old.Created
	}
	f.m.files[r.Namespace+"|"+r.Path] = r
	return nil
}

func (f memFiles) Get(_ context.Context, ns, p string) (store.FileRecord, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if r, ok := f.m.files[ns+"|"+p]; ok {
		return r, nil
	}
	return store.FileRecord{}, store.ErrNotFound
}

func (f memFiles) List(_ context.Context, ns, prefix string) ([]store.FileRecord, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	var out []store.FileRecord
	for _, r := range f.m.files {
		if r.Namespace == ns && under(r.Path, prefix) {
			r.Content = nil
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b store.FileRecord) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

func (f memFiles) Delete(_ context.Context, ns, p string) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	n := 0
	for k, r := range f.m.files {
		if r.Namespace == ns && under(r.Path, p) {
			delete(f.m.files, k)
			n++
		}
	}
	return n, nil
}

type memNamespaces struct{ m *memStore }

func (n memNamespaces) Put(_ context.Context, r store.NamespaceRecord) error {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	r.Updated = time.Now().UTC()
	n.m.namespaces[r.Namespace] = r
	return nil
}

func (n memNamespaces) Get(_ context.Context, ns string) (store.NamespaceRecord, error) {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	r, ok := n.m.namespaces[ns]
	if !ok {
		return r, store.ErrNotFound
	}
	return r, nil
}

func (n memNamespaces) List(context.Context) ([]store.NamespaceRecord, error) {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	out := make([]store.NamespaceRecord, 0, len(n.m.namespaces))
	for _, r := range n.m.namespaces {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b store.NamespaceRecord) int { return strings.Compare(a.Namespace, b.Namespace) })
	return out, nil
}
