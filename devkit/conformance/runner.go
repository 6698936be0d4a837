package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// System is an Osprey under test, fresh for each case.
type System interface {
	// Load stores flow sources.
	Load(ctx context.Context, sources []string) error
	// Start creates an execution; parsed says whether inputs go through
	// input typing and validation (an API call) or are given as they are.
	Start(ctx context.Context, namespace, id string, inputs map[string]any, parsed bool, labels []flow.Label) (*flow.Execution, error)
	Execution(ctx context.Context, id string) (*flow.Execution, error)
	// Executions lists a flow's executions, oldest first.
	Executions(ctx context.Context, namespace, id string) ([]*flow.Execution, error)
	Logs(ctx context.Context, executionID string) ([]flow.LogEntry, error)
	Resume(ctx context.Context, id string, inputs map[string]any) error
	Restart(ctx context.Context, id string) error
	// HTTP sends a request to the API (webhooks) and returns the status
	// and body.
	HTTP(ctx context.Context, method, path, contentType string, body []byte) (int, []byte, error)
	Close() error
}

// NewSystem starts a fresh System with the corpus environment.
type NewSystem func(ctx context.Context, env *Env) (System, error)

// Options tune Run.
type Options struct {
	// Dir is the corpus folder (flows/, expectations.yaml, env.yaml).
	Dir string
	// Filter keeps cases whose "file: name" contains it.
	Filter string
	// Parallel is how many cases run at once (default 4).
	Parallel int
	// Timeout bounds one case (default 30s).
	Timeout time.Duration
}

// Result is the outcome of one case.
type Result struct {
	File     string
	Case     string
	Expected string
	Got      string
	Pass     bool
	Problems []string
	Elapsed  time.Duration
}

// Report is the outcome of a run.
type Report struct {
	Results []Result
	// Flows counts flow files that validated.
	FlowsValid, FlowsTotal int
	InvalidFlows           []string
}

// Passed counts passing cases.
func (r *Report) Passed() int {
	n := 0
	for _, x := range r.Results {
		if x.Pass {
			n++
		}
	}
	return n
}

// Rate is the share of cases that pass.
func (r *Report) Rate() float64 {
	if len(r.Results) == 0 {
		return 0
	}
	return float64(r.Passed()) / float64(len(r.Results))
}

// Print writes the table and the pass rate.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "%-44s %-46s %-10s %-10s %s\n", "FLOW", "CASE", "EXPECTED", "GOT", "PASS")
	for _, x := range r.Results {
		mark := "pass"
		if !x.Pass {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%-44s %-46s %-10s %-10s %s\n", x.File, trunc(x.Case, 46), x.Expected, x.Got, mark)
		for _, p := range x.Problems {
			fmt.Fprintf(w, "    - %s\n", p)
		}
	}
	fmt.Fprintf(w, "\nflows validated: %d/%d\n", r.FlowsValid, r.FlowsTotal)
	for _, f := range r.InvalidFlows {
		fmt.Fprintf(w, "    - %s\n", f)
	}
	fmt.Fprintf(w, "cases passed: %d/%d (%.1f%%)\n", r.Passed(), len(r.Results), 100*r.Rate())
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// Run loads the corpus, validates every flow with validate, and runs every
// case against a fresh System.
func Run(ctx context.Context, newSys NewSystem, validate func([]byte) error, o Options) (*Report, error) {
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	exp, env, err := LoadCorpus(o.Dir)
	if err != nil {
		return nil, err
	}
	sources := map[string]string{}
	files, err := filepath.Glob(filepath.Join(o.Dir, "flows", "*.y*ml"))
	if err != nil {
		return nil, err
	}
	rep := &Report{FlowsTotal: len(files)}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sources[filepath.Base(f)] = string(raw)
		if err := validate(raw); err != nil {
			rep.InvalidFlows = append(rep.InvalidFlows, fmt.Sprintf("%s: %v", filepath.Base(f), err))
		} else {
			rep.FlowsValid++
		}
	}
	type job struct {
		fe FlowEntry
		c  Case
		i  int
	}
	var jobs []job
	for _, fe := range exp.Flows {
		if o.Filter != "" && !strings.Contains(fe.File, o.Filter) {
			continue
		}
		for _, c := range fe.Cases {
			jobs = append(jobs, job{fe, c, len(jobs)})
		}
	}
	results := make([]Result, len(jobs))
	sem := make(chan struct{}, o.Parallel)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cctx, cancel := context.WithTimeout(ctx, o.Timeout)
			defer cancel()
			start := time.Now()
			r := runCase(cctx, newSys, env, sources, exp.Flows, j.fe, j.c)
			r.Elapsed = time.Since(start)
			results[j.i] = r
		}()
	}
	wg.Wait()
	rep.Results = results
	return rep, nil
}

// caseRun holds one case's state.
type caseRun struct {
	sys     System
	fe      FlowEntry
	c       Case
	sources map[string]string
	res     *Result
	all     []FlowEntry
}

func runCase(ctx context.Context, newSys NewSystem, env *Env, sources map[string]string, all []FlowEntry, fe FlowEntry, c Case) Result {
	res := Result{File: fe.File, Case: c.Name, Expected: expectedLabel(c)}
	fail := func(format string, a ...any) Result {
		res.Problems = append(res.Problems, fmt.Sprintf(format, a...))
		return res
	}
	sys, err := newSys(ctx, env)
	if err != nil {
		return fail("start osprey: %v", err)
	}
	defer sys.Close()
	cr := &caseRun{sys: sys, fe: fe, c: c, sources: sources, res: &res, all: all}
	if err := cr.load(ctx); err != nil {
		return fail("load flows: %v", err)
	}
	v, err := cr.start(ctx)
	if err != nil {
		return fail("%v", err)
	}
	if c.Expected == "no execution" {
		res.Got = "no execution"
		if v.exec != nil {
			return fail("an execution was created: %s", v.exec.ID)
		}
		cr.assertAll(v, c.Asserts)
		res.Pass = len(res.Problems) == 0
		return res
	}
	if v.exec == nil {
		return fail("no execution of %s.%s appeared", fe.Namespace, fe.ID)
	}
	if c.Intermediate != nil {
		ex, err := cr.waitFor(ctx, v.exec.ID, func(e *flow.Execution) bool {
			return string(e.State.Current) == c.Intermediate.State || e.Settled()
		})
		if err != nil {
			return fail("intermediate: %v", err)
		}
		v.exec = ex
		if string(ex.State.Current) != c.Intermediate.State {
			res.Got = string(ex.State.Current)
			return fail("intermediate state %s, want %s", ex.State.Current, c.Intermediate.State)
		}
		if n := c.Intermediate.TaskRunCount; n != nil && len(ex.TaskRunList) != *n {
			res.Problems = append(res.Problems, fmt.Sprintf("intermediate task runs: %d, want %d", len(ex.TaskRunList), *n))
		}
		cr.refreshLogs(ctx, v)
		cr.assertAll(v, c.Intermediate.Asserts)
	}
	for _, a := range c.Actions {
		if err := cr.act(ctx, v, a); err != nil {
			return fail("action %q: %v", a, err)
		}
	}
	if c.Expected == "unknown" {
		time.Sleep(100 * time.Millisecond)
		ex, err := sys.Execution(ctx, v.exec.ID)
		if err != nil {
			return fail("reload: %v", err)
		}
		v.exec = ex
		res.Got = string(ex.State.Current)
		cr.assertAll(v, c.Asserts)
		res.Pass = len(res.Problems) == 0
		return res
	}
	ex, err := cr.waitFor(ctx, v.exec.ID, func(e *flow.Execution) bool { return e.Settled() })
	if err != nil {
		if ex != nil {
			res.Got = string(ex.State.Current)
		}
		return fail("%v", err)
	}
	v.exec = ex
	res.Got = string(ex.State.Current)
	if c.ExpectedState != "" && string(ex.State.Current) != c.ExpectedState {
		msg := fmt.Sprintf("state %s, want %s", ex.State.Current, c.ExpectedState)
		if ex.Error != "" {
			msg += " (" + ex.Error + ")"
		}
		for _, tr := range ex.TaskRunList {
			if tr.Error != "" {
				msg += fmt.Sprintf("; %s: %s", tr.TaskID, tr.Error)
			}
		}
		res.Problems = append(res.Problems, msg)
	}
	if n := c.TaskRunCount; n != nil && len(ex.TaskRunList) != *n {
		res.Problems = append(res.Problems, fmt.Sprintf("task runs: %d, want %d (%s)", len(ex.TaskRunList), *n, taskIDs(ex)))
	}
	if n := c.ExecCount; n != nil {
		all := cr.awaitExecutions(ctx, *n)
		if len(all) != *n {
			res.Problems = append(res.Problems, fmt.Sprintf("executions: %d, want %d", len(all), *n))
		}
	}
	cr.awaitLogs(ctx, v, c.Asserts)
	cr.recordAll(ctx, v)
	cr.assertAll(v, c.Asserts)
	cr.related(ctx, v)
	res.Pass = len(res.Problems) == 0
	return res
}

// awaitExecutions waits, up to 15 s as Kestra's tests do (a latch on the
// executions they expect), until n executions of the case's flow exist
// and all are settled, and returns them: a Flow trigger starts its
// listener's executions as the source changes state, and the last ones
// end after the first one. It returns what there is at the deadline.
func (cr *caseRun) awaitExecutions(ctx context.Context, n int) []*flow.Execution {
	deadline := time.Now().Add(15 * time.Second)
	for {
		all, _ := cr.sys.Executions(ctx, cr.fe.Namespace, cr.fe.ID)
		settled := len(all) >= n
		for _, e := range all {
			settled = settled && e.Settled()
		}
		if settled || time.Now().After(deadline) || ctx.Err() != nil {
			return all
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// awaitLogs reads the execution's log, again for a few seconds while an
// assert on a log line does not hold yet: the executor appends its own
// lines just after the step that ended the execution, and Kestra's tests
// wait for log lines the same way (TestsUtils.awaitLog).
func (cr *caseRun) awaitLogs(ctx context.Context, v *view, asserts []Assert) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		cr.refreshLogs(ctx, v)
		pending := false
		for _, a := range asserts {
			if !strings.HasPrefix(a.Target, "log(") || a.Op == "absent" {
				continue
			}
			got, err := v.resolve(a.Target)
			if err == nil && check(a, got, cr.substitute(v, a.Value)) != "" {
				pending = true
			}
		}
		if !pending || time.Now().After(deadline) || ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func taskIDs(ex *flow.Execution) string {
	ids := make([]string, len(ex.TaskRunList))
	for i, tr := range ex.TaskRunList {
		ids[i] = tr.TaskID
	}
	return strings.Join(ids, ",")
}

func expectedLabel(c Case) string {
	if c.Expected != "" {
		return c.Expected
	}
	return c.ExpectedState
}

var reFile = regexp.MustCompile(`[A-Za-z0-9_.-]+\.ya?ml`)

// load stores the flows the case's test had loaded.
func (cr *caseRun) load(ctx context.Context) error {
	var srcs []string
	seen := map[string]bool{}
	for _, lf := range cr.c.LoadedFlows {
		if strings.HasPrefix(lf, "ALL of") {
			for name, src := range cr.sources {
				if !seen[name] {
					seen[name] = true
					srcs = append(srcs, src)
				}
			}
			continue
		}
		name := strings.TrimSpace(lf)
		if src, ok := cr.sources[name]; ok && !seen[name] {
			seen[name] = true
			srcs = append(srcs, src)
		}
	}
	if src, ok := cr.sources[cr.fe.File]; ok && !seen[cr.fe.File] {
		srcs = append(srcs, src)
	}
	sort.Strings(srcs) // deterministic order; Load handles dependencies itself
	return cr.sys.Load(ctx, srcs)
}

// flowOf returns namespace and id of a corpus file.
func (cr *caseRun) flowOf(file string) (string, string, bool) {
	src, ok := cr.sources[file]
	if !ok {
		return "", "", false
	}
	var head struct{ ID, Namespace string }
	for _, line := range strings.Split(src, "\n") {
		if v, ok := strings.CutPrefix(line, "id:"); ok && head.ID == "" {
			head.ID = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "namespace:"); ok && head.Namespace == "" {
			head.Namespace = strings.TrimSpace(v)
		}
	}
	return head.Namespace, head.ID, head.ID != ""
}

func (cr *caseRun) waitFor(ctx context.Context, id string, done func(*flow.Execution) bool) (*flow.Execution, error) {
	var last *flow.Execution
	for {
		ex, err := cr.sys.Execution(ctx, id)
		if err == nil {
			last = ex
			if done(ex) {
				return ex, nil
			}
		}
		select {
		case <-ctx.Done():
			state := "unknown"
			if last != nil {
				state = string(last.State.Current)
			}
			return last, fmt.Errorf("timed out waiting; execution is %s", state)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitNew waits for an execution of namespace.id not in skip.
func (cr *caseRun) waitNew(ctx context.Context, ns, id string, skip map[string]bool, within time.Duration) *flow.Execution {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		all, _ := cr.sys.Executions(ctx, ns, id)
		for _, e := range all {
			if !skip[e.ID] {
				return e
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func (cr *caseRun) refreshLogs(ctx context.Context, v *view) {
	if v.exec == nil {
		return
	}
	logs, err := cr.sys.Logs(ctx, v.exec.ID)
	if err == nil {
		v.logs = logs
	}
}

func (cr *caseRun) assertAll(v *view, asserts []Assert) {
	for _, a := range asserts {
		var got any
		var err error
		if rest, ok := strings.CutPrefix(a.Target, everySuccess); ok {
			got, err = cr.eachSuccess(v, strings.TrimSpace(rest))
		} else {
			got, err = v.resolve(a.Target)
		}
		if err != nil {
			cr.res.Problems = append(cr.res.Problems, err.Error())
			continue
		}
		want := cr.substitute(v, a.Value)
		if a.ValueOf != "" {
			w, err := cr.valueOf(v, a.ValueOf)
			if err != nil {
				cr.res.Problems = append(cr.res.Problems, err.Error())
				continue
			}
			want = w
		}
		if msg := check(a, got, want); msg != "" {
			cr.res.Problems = append(cr.res.Problems, msg)
		}
	}
}

// everySuccess starts a target over every SUCCESS execution of the case's
// flow, in the order they ended.
const everySuccess = "SUCCESS executions of this flow, in the order they reach SUCCESS:"

func (cr *caseRun) eachSuccess(v *view, target string) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	all, err := cr.sys.Executions(ctx, cr.fe.Namespace, cr.fe.ID)
	if err != nil {
		return nil, err
	}
	var done []*flow.Execution
	for _, e := range all {
		if e.State.Current == flow.StateSuccess && e.State.EndDate != nil {
			done = append(done, e)
		}
	}
	sort.SliceStable(done, func(i, j int) bool { return done[i].State.EndDate.Before(*done[j].State.EndDate) })
	out := make([]any, 0, len(done))
	for _, e := range done {
		got, err := (&view{exec: e, values: v.values}).resolve(target)
		if err != nil {
			return nil, err
		}
		out = append(out, got)
	}
	return out, nil
}

var rePlaceholder = regexp.MustCompile(`<(?:([^<>]+) execution id|id of the task run of ([^<>]+))>`)

// substitute replaces "<X execution id>" placeholders inside expected
// values with the ids seen in this case.
func (cr *caseRun) substitute(v *view, want any) any {
	switch w := want.(type) {
	case string:
		return rePlaceholder.ReplaceAllStringFunc(w, func(m string) string {
			sm := rePlaceholder.FindStringSubmatch(m)
			if task := sm[2]; task != "" && v.exec != nil {
				if runs := v.exec.TaskRunsByTaskID(task); len(runs) > 0 {
					return runs[0].ID
				}
				return m
			}
			name := sm[1]
			if name == "this" && v.exec != nil {
				return v.exec.ID
			}
			if id, ok := v.values[strings.TrimSuffix(strings.TrimSuffix(name, ".yaml"), ".yml")]; ok {
				return id
			}
			return m
		})
	case map[string]any:
		out := map[string]any{}
		for k, x := range w {
			out[k] = cr.substitute(v, x)
		}
		return out
	case []any:
		out := make([]any, len(w))
		for i, x := range w {
			out[i] = cr.substitute(v, x)
		}
		return out
	}
	return want
}

var reLiteralPlus = regexp.MustCompile(`^'([^']*)' \+ (.*)$`)

var reValueOf = regexp.MustCompile(`^(?:'([^']*)' \+ )?<?(?:id of the )?([A-Za-z0-9_.-]+?)(?:\.ya?ml)? execution(?: id)?>?$`)

// valueOf resolves a value_of description such as "trigger-flow execution
// id" or "'childs: from parents: ' + <trigger-flow execution id>".
func (cr *caseRun) valueOf(v *view, desc string) (any, error) {
	desc = strings.TrimSpace(desc)
	prefix := ""
	if m := reLiteralPlus.FindStringSubmatch(desc); m != nil {
		prefix, desc = m[1], m[2]
	}
	if strings.HasPrefix(desc, "taskrun") || strings.HasPrefix(desc, "{{") {
		got, err := v.resolve(desc)
		if err != nil {
			return nil, fmt.Errorf("value_of %q: %w", desc, err)
		}
		return prefix + text(got), nil
	}
	m := reValueOf.FindStringSubmatch(desc)
	if m == nil {
		return nil, fmt.Errorf("value_of %q is not understood by the runner", desc)
	}
	if prefix != "" {
		m[1] = prefix
	}
	id, ok := v.values[m[2]]
	if !ok {
		return nil, fmt.Errorf("value_of %q: no execution of %s seen", desc, m[2])
	}
	return m[1] + id, nil
}

// related checks the other executions the case asserts.
func (cr *caseRun) related(ctx context.Context, v *view) {
	byRole := map[string]int{}
	for _, r := range cr.c.Related {
		ns, id, ok := cr.flowOf(r.Flow)
		if !ok {
			cr.res.Problems = append(cr.res.Problems, fmt.Sprintf("related flow %s is not in the corpus", r.Flow))
			continue
		}
		var ex *flow.Execution
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			all, _ := cr.sys.Executions(ctx, ns, id)
			idx := 0
			if r.Role != "" {
				idx = byRole[r.Flow]
			}
			if idx < len(all) {
				ex = all[idx]
				if ex.Settled() {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		if r.Role != "" {
			byRole[r.Flow]++
		}
		if ex == nil {
			cr.res.Problems = append(cr.res.Problems, fmt.Sprintf("related %s: no execution", r.Flow))
			continue
		}
		if r.ExpectedState != "" && string(ex.State.Current) != r.ExpectedState {
			cr.res.Problems = append(cr.res.Problems, fmt.Sprintf("related %s %s: state %s, want %s", r.Flow, r.Role, ex.State.Current, r.ExpectedState))
		}
		if r.TaskRunCount != nil && len(ex.TaskRunList) != *r.TaskRunCount {
			cr.res.Problems = append(cr.res.Problems, fmt.Sprintf("related %s: task runs %d, want %d", r.Flow, len(ex.TaskRunList), *r.TaskRunCount))
		}
		rv := &view{exec: ex, values: v.values}
		cr.refreshLogs(ctx, rv)
		cr.assertAll(rv, r.Asserts)
	}
}

// inputs converts the case's inputs.
func inputsOf(v any) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return m
}

func decodeExecution(body []byte) (map[string]any, *flow.Execution) {
	var m map[string]any
	if err := flow.DecodeJSON(body, &m); err != nil || m == nil {
		return nil, nil
	}
	m, _ = ordered.Plain(m).(map[string]any) // expectations walk Go maps
	var ex flow.Execution
	if json.Unmarshal(body, &ex) != nil || ex.ID == "" {
		return m, nil
	}
	return m, &ex
}

var errUnsupported = errors.New("not supported by the runner")
