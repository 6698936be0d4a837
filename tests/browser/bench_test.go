package browser

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/sqlite"
)

const (
	benchFlows      = 1000
	benchExecutions = 10000
	benchNamespaces = 20
)

// seed fills a SQLite store at dir with benchFlows flows and
// benchExecutions finished executions spread over the last week; it
// returns one execution's path under /ui/main/executions/.
func seed(b *testing.B, dir string) string {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "osprey.db"), sqlite.Options{})
	require.NoError(b, err)
	defer st.Close()
	for i := range benchFlows {
		ns := fmt.Sprintf("company.team%d", i%benchNamespaces)
		id := fmt.Sprintf("flow%04d", i)
		src := fmt.Sprintf("id: %s\nnamespace: %s\ninputs:\n  - id: name\n    type: STRING\n    defaults: world\ntasks:\n  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: \"Hello {{ inputs.name }}\"\n  - id: bye\n    type: io.kestra.plugin.core.log.Log\n    message: bye\n", id, ns)
		_, err := st.Flows().Create(ctx, store.PutFlowParams{Namespace: ns, ID: id, Source: src})
		require.NoError(b, err)
	}
	states := []flow.State{flow.StateSuccess, flow.StateSuccess, flow.StateSuccess, flow.StateFailed, flow.StateKilled, flow.StateWarning}
	now := time.Now()
	var path string
	for i := range benchExecutions {
		f := i % benchFlows
		start := now.Add(-time.Duration(i) * time.Minute)
		end := start.Add(time.Duration(1+i%30) * time.Second)
		si := flow.NewStateInfo(flow.StateCreated, start)
		si.Set(flow.StateRunning, start)
		si.Set(states[i%len(states)], end)
		ex := &flow.Execution{
			ID: fmt.Sprintf("bench%07d", i), Namespace: fmt.Sprintf("company.team%d", f%benchNamespaces), FlowID: fmt.Sprintf("flow%04d", f),
			FlowRevision: 1, State: si, Inputs: map[string]any{"name": "world"},
			Labels: []flow.Label{{Key: "team", Value: fmt.Sprintf("t%d", i%7)}},
		}
		for j, task := range []string{"hello", "bye"} {
			ts := flow.NewStateInfo(flow.StateCreated, start.Add(time.Duration(j)*time.Second))
			ts.Set(flow.StateRunning, start.Add(time.Duration(j)*time.Second))
			ts.Set(flow.StateSuccess, end)
			ex.TaskRunList = append(ex.TaskRunList, &flow.TaskRun{ID: fmt.Sprintf("tr%07d%d", i, j), ExecutionID: ex.ID, Namespace: ex.Namespace, FlowID: ex.FlowID, TaskID: task, State: ts})
		}
		require.NoError(b, st.Executions().Create(ctx, ex))
		if i == 0 {
			path = fmt.Sprintf("%s/%s/%s", ex.Namespace, ex.FlowID, ex.ID)
		}
	}
	return path
}

// BenchmarkPageInteractive loads each page of the UI with 10,000
// executions and 1,000 flows in the store, and reports the time from the
// start of navigation to the page showing its data (ms; the median of the
// iterations, and the slowest) on `server local`, every component in one
// process, as a newcomer runs it. The seeded executions are marked for the
// executor, as any new execution is; the benchmark waits until it has looked
// at each (nothing pending) before it measures. The first pass over the
// pages is reported apart (first-<page>-ms): it includes the browser's cold
// start on the UI's assets.
//
//	go test ./tests/browser -run '^$' -bench PageInteractive -benchtime 5x
func BenchmarkPageInteractive(b *testing.B) {
	dir := b.TempDir()
	exec := seed(b, dir)
	br := newBrowser(b, 1280, 800)
	cfg := fmt.Sprintf("kestra:\n  repository:\n    type: sqlite\n  secret:\n    type: embedded\nosprey:\n  data-dir: %s\n", dir)
	o := startOsprey(b, cfg, nil, "local")
	waitSettled(b, o, 10*time.Minute)
	pages := []struct{ name, path, ready string }{
		{"dashboard", "/ui/main/dashboard", `document.querySelector('.hbars') && document.querySelector('.days') && document.querySelector('table[aria-label="Latest executions"] a')`},
		{"flows", "/ui/main/flows", `document.querySelectorAll('table[aria-label=Flows] tbody tr').length === 25 && document.querySelectorAll('.tree-item').length === 21`},
		// the last-execution column, which fills in after the rows
		{"flows-last-state", "/ui/main/flows", `document.querySelectorAll('table[aria-label=Flows] tbody tr').length === 25 && document.querySelectorAll('table[aria-label=Flows] .badge').length === 25 && document.querySelectorAll('.tree-item').length === 21`},
		{"flow-editor", "/ui/main/flows/edit/company.team0/flow0000", `document.querySelector('[data-testid=editor]').editorView`},
		// the first validation answer, which waits for the editor's 300 ms pause after a change
		{"flow-editor-validated", "/ui/main/flows/edit/company.team0/flow0000", `document.querySelector('[data-testid=editor]').editorView && document.querySelector('.problems-panel .ok')`},
		{"executions", "/ui/main/executions", `document.querySelectorAll('table[aria-label=Executions] tbody tr a').length === 25`},
		{"executions-filtered", "/ui/main/executions?state=FAILED&namespace=company.team3", `document.querySelectorAll('table[aria-label=Executions] tbody tr a').length > 0`},
		{"execution", "/ui/main/executions/" + exec, `document.querySelectorAll('tr[data-task]').length === 2`},
		{"execution-logs", "/ui/main/executions/" + exec + "/logs", `document.querySelector('[data-testid=logs]')`},
		{"namespaces", "/ui/main/namespaces", `document.querySelectorAll('table[aria-label=Namespaces] a').length >= 20`},
		{"namespace-secrets", "/ui/main/namespaces/edit/company.team0/secrets", `document.querySelector('table[aria-label=Secrets]')`},
	}
	load := func(path, ready string) float64 {
		var ms float64
		js := fmt.Sprintf(`new Promise((res) => { const f = () => (%s) ? res(performance.now()) : requestAnimationFrame(f); f(); })`, ready)
		br.run(chromedp.Navigate(o.base+path), chromedp.Evaluate(js, &ms, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
		return ms
	}
	first := make(map[string]float64)
	for _, p := range pages {
		first[p.name] = load(p.path, p.ready)
	}
	times := make(map[string][]float64)
	for b.Loop() {
		for _, p := range pages {
			times[p.name] = append(times[p.name], load(p.path, p.ready))
		}
	}
	for _, p := range pages {
		t := times[p.name]
		slices.Sort(t)
		b.ReportMetric(t[len(t)/2], p.name+"-ms")
		b.ReportMetric(t[len(t)-1], p.name+"-max-ms")
		b.ReportMetric(first[p.name], "first-"+p.name+"-ms") // reported after the loop, which resets metrics
	}
}

// waitSettled waits until the executor has looked at every execution
// waiting for it (osprey_queue_executions_pending is 0 on /metrics).
func waitSettled(b *testing.B, o *osprey, timeout time.Duration) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n, err := pendingExecutions(o.mgmt)
		if err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("executions still pending for the executor after %s: %d (%v)", timeout, n, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func pendingExecutions(mgmt string) (int, error) {
	resp, err := http.Get(mgmt + "/metrics")
	if err != nil {
		return -1, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "osprey_queue_executions_pending "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(f), err
		}
	}
	return -1, fmt.Errorf("no osprey_queue_executions_pending on %s/metrics", mgmt)
}
