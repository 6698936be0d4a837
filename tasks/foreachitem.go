package tasks

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/worker"
)

// Kestra's io.kestra.plugin.core.flow.ForEachItem: a file's lines in
// batches, one subflow execution per batch. As in Kestra, the task runs as
// a sequence of three sub-tasks under its own task run, with Kestra's ids
// and types, so that outputs.<id>_items and outputs.<id>_merge mean what
// they mean there:
//
//   - <id>_split (ForEachItem$ForEachItemSplit, on a worker) streams the
//     file into batch files of its task run's directory, 1<ext> … n<ext>,
//     and lists them in splits.txt: outputs.splits, .numberOfBatches;
//   - <id>_items (ForEachItem$ForEachItemExecutable, in the executor)
//     starts one subflow execution per batch with taskrun.items (the batch
//     file's URI) and taskrun.iteration (1-based) in its inputs, and, when
//     wait is true, ends once every one has ended: outputs.numberOfBatches
//     and outputs.iterations, the count of subflow executions by state;
//   - <id>_merge (ForEachItem$ForEachItemMergeOutputs, on a worker) writes
//     the outputs of every subflow execution, one JSON object a line (which
//     is also Ion text) in batch order: outputs.subflowOutputs.
//
// Batch file names are the batch numbers, so the executor names each
// batch's URI without reading splits.txt: the engine does no I/O. The
// executor hands <id>_items every subflow execution of its execution
// (Scope.RelatedOf picks the task run's); of each batch the newest
// execution counts. A restart with restartBehavior NEW_EXECUTION starts
// every batch again; with RETRY_FAILED, <id>_items sends a restart command
// to each failed batch's execution (only the executor writes an
// execution), which is restarted in place, as Kestra does.

const (
	pForEachItem      = "io.kestra.plugin.core.flow.ForEachItem"
	pForEachItemSplit = pForEachItem + "$ForEachItemSplit"
	pForEachItemExec  = pForEachItem + "$ForEachItemExecutable"
	pForEachItemMerge = pForEachItem + "$ForEachItemMergeOutputs"

	forEachItemSplitSuffix = "_split"
	forEachItemExecSuffix  = "_items"
	forEachItemMergeSuffix = "_merge"
)

// forEachItemBatch is Kestra's ForEachItem.Batch: bytes wins over
// partitions, which wins over rows (1 when none is set).
type forEachItemBatch struct {
	Rows       any    `json:"rows"`
	Bytes      string `json:"bytes"`
	Partitions any    `json:"partitions"`
	Separator  string `json:"separator"`
}

// forEachItemSubflow are the properties that start the subflows, shared by
// ForEachItem and its <id>_items sub-task.
type forEachItemSubflow struct {
	Namespace       string         `json:"namespace"`
	FlowID          string         `json:"flowId"`
	Revision        any            `json:"revision"`
	Inputs          map[string]any `json:"inputs"`
	Labels          any            `json:"labels"`
	Wait            *bool          `json:"wait"`
	TransmitFailed  *bool          `json:"transmitFailed"`
	InheritLabels   bool           `json:"inheritLabels"`
	ScheduleDate    any            `json:"scheduleDate"`
	RestartBehavior string         `json:"restartBehavior"`
}

var forEachItemSubflowProps = []string{"namespace", "flowId", "revision", "inputs", "labels", "wait", "transmitFailed", "inheritLabels", "scheduleDate", "restartBehavior"}

type forEachItemProps struct {
	Items string            `json:"items"`
	Batch *forEachItemBatch `json:"batch"`
	forEachItemSubflow
}

// forEachItemSpecs lists ForEachItem and its three sub-task types.
func forEachItemSpecs() []*Spec {
	return []*Spec{
		flowable[forEachItemProps](pForEachItem, append([]string{"items", "batch"}, forEachItemSubflowProps...), func(t *flow.Task, x *forEachItemProps) (engine.Flowable, []*flow.Error) {
			if errs := checkForEachItem(t, x); len(errs) > 0 {
				return nil, errs
			}
			expandForEachItem(t)
			return forEachItem{t}, nil
		}),
		runnable[ForEachItemSplit](pForEachItemSplit, []string{"items", "batch"}, nil),
		flowable[forEachItemSubflow](pForEachItemExec, forEachItemSubflowProps, func(t *flow.Task, x *forEachItemSubflow) (engine.Flowable, []*flow.Error) {
			return forEachItemExec{t, *x}, nil
		}),
		runnable[ForEachItemMerge](pForEachItemMerge, nil, nil),
	}
}

func checkForEachItem(t *flow.Task, x *forEachItemProps) []*flow.Error {
	errs := required(t, "items", x.Items != "")
	errs = append(errs, required(t, "namespace", x.Namespace != "")...)
	errs = append(errs, required(t, "flowId", x.FlowID != "")...)
	switch x.RestartBehavior {
	case "", "NEW_EXECUTION", "RETRY_FAILED":
	default:
		errs = append(errs, taskErr(t, "restartBehavior", fmt.Sprintf("restartBehavior %q must be RETRY_FAILED (the default) or NEW_EXECUTION", x.RestartBehavior)))
	}
	if b := x.Batch; b != nil {
		if b.Bytes != "" && !strings.Contains(b.Bytes, "{{") {
			if _, err := parseSize(b.Bytes); err != nil {
				errs = append(errs, taskErr(t, "batch.bytes", err.Error()))
			}
		}
	}
	return errs
}

// expandForEachItem gives t its three sub-tasks, as Kestra's getTasks()
// does, so that the engine and the workers find them in the flow like any
// task. It runs when the flow is parsed (CheckTask); once they are there
// it changes nothing, so a parsed flow shared between goroutines is only
// read.
func expandForEachItem(t *flow.Task) {
	ids := []string{t.ID + forEachItemSplitSuffix, t.ID + forEachItemExecSuffix, t.ID + forEachItemMergeSuffix}
	if cur := t.Children["tasks"]; len(cur) == 3 && cur[0].ID == ids[0] && cur[1].ID == ids[1] && cur[2].ID == ids[2] {
		return
	}
	pick := func(keys ...string) map[string]any {
		out := map[string]any{}
		for _, k := range keys {
			if v, ok := t.Props[k]; ok {
				out[k] = v
			}
		}
		return out
	}
	sub := func(i int, typ string, props map[string]any) *flow.Task {
		return &flow.Task{
			ID: ids[i], Type: typ, Props: props, Pos: t.Pos, PropPos: t.PropPos,
			Path: fmt.Sprintf("%s.tasks[%d]", t.Path, i),
		}
	}
	// allowFailure and allowWarning stay on the ForEachItem itself, as in
	// Kestra: a failed batch fails <id>_items, no merge follows, and the
	// ForEachItem's own allowFailure turns its failure into a WARNING
	items := sub(1, pForEachItemExec, pick(forEachItemSubflowProps...))
	if t.Children == nil {
		t.Children = map[string][]*flow.Task{}
	}
	t.Children["tasks"] = []*flow.Task{
		sub(0, pForEachItemSplit, pick("items", "batch")),
		items,
		sub(2, pForEachItemMerge, nil),
	}
}

// forEachItem runs its three sub-tasks in order, then its errors.
type forEachItem struct{ t *flow.Task }

func (f forEachItem) Resolve(s *engine.Scope, p *flow.TaskRun) (engine.Outcome, error) {
	c := f.t.Children
	return s.Sequential(p, c["tasks"], c["errors"], nil), nil
}

// ForEachItemSplit cuts the items file into batch files (ForEachItem's
// <id>_split): outputs.splits (a file listing their URIs, one a line, as
// Kestra's) and outputs.numberOfBatches.
type ForEachItemSplit struct {
	Items string            `json:"items"`
	Batch *forEachItemBatch `json:"batch"`
}

// Run implements worker.Runnable. Lines are never cut: a batch ends on a
// separator, as Kestra's do.
func (x *ForEachItemSplit) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	uri, err := rc.Render(ctx, x.Items)
	if err != nil {
		return nil, fmt.Errorf("items: %w", err)
	}
	uri = strings.TrimSpace(uri)
	if !storage.IsURI(uri) {
		return nil, fmt.Errorf("items: unable to split the items from %q: this is not an internal storage URI (kestra:///…); give a FILE input or a task's output file", uri)
	}
	f, err := filesOf(rc)
	if err != nil {
		return nil, err
	}
	p, err := f.check(uri)
	if err != nil {
		return nil, fmt.Errorf("items: %w", err)
	}
	info, err := f.st.Stat(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("items %s: %w", uri, err)
	}
	b := forEachItemBatch{}
	if x.Batch != nil {
		b = *x.Batch
	}
	sep := "\n"
	if b.Separator != "" {
		if sep, err = rc.Render(ctx, b.Separator); err != nil {
			return nil, fmt.Errorf("batch.separator: %w", err)
		}
	}
	var maxBytes, maxRows, partitions int64
	switch {
	case b.Bytes != "":
		s, err := rc.Render(ctx, b.Bytes)
		if err == nil {
			maxBytes, err = parseSize(s)
		}
		if err != nil {
			return nil, fmt.Errorf("batch.bytes: %w", err)
		}
	case b.Partitions != nil:
		if partitions, err = renderCount(ctx, rc, "batch.partitions", b.Partitions); err != nil {
			return nil, err
		}
	default:
		maxRows = 1
		if b.Rows != nil {
			if maxRows, err = renderCount(ctx, rc, "batch.rows", b.Rows); err != nil {
				return nil, err
			}
		}
	}
	ext := batchExtension(storage.FileName(p))
	var n int
	if partitions > 0 {
		n, err = splitPartitions(ctx, f, rc.TmpDir, p, sep, ext, int(partitions))
	} else {
		n, err = splitBatches(ctx, f, p, sep, ext, maxBytes, maxRows)
	}
	if err != nil {
		return nil, err
	}
	// splits.txt lists the batches as Kestra's does; it streams, so a
	// file of a million rows costs no memory here either
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriter(pw)
		for i := 1; i <= n; i++ {
			if i > 1 {
				_ = bw.WriteByte('\n')
			}
			_, _ = bw.WriteString(storage.URI(path.Join(f.dir, strconv.Itoa(i)+ext)))
		}
		_ = pw.CloseWithError(bw.Flush())
	}()
	splits, _, err := f.put(ctx, "splits.txt", pr)
	_ = pr.Close()
	if err != nil {
		return nil, fmt.Errorf("store splits.txt: %w", err)
	}
	rc.Log("INFO", fmt.Sprintf("%s (%d bytes) split into %d batches", uri, info.Size, n))
	return map[string]any{"splits": splits, "numberOfBatches": n, "extension": ext}, nil
}

// batchExtension is the extension of the batch files: the items file's,
// or Kestra's .tmp when it has none. One that is not plain letters and
// digits is .tmp too: the executor names a batch's URI from it, so it
// must be stored as it is written.
func batchExtension(name string) string {
	i := strings.LastIndex(name, ".")
	if i < 0 || i == len(name)-1 || len(name)-i > 17 {
		return ".tmp"
	}
	for _, r := range name[i+1:] {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return ".tmp"
		}
	}
	return name[i:]
}

// splitBatches streams the file at p into batches of at most maxRows
// lines or maxBytes bytes (at least one line each), named 1<ext>, 2<ext>, …
func splitBatches(ctx context.Context, f *execFiles, p, sep, ext string, maxBytes, maxRows int64) (int, error) {
	src, err := f.st.Get(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("items: %w", err)
	}
	defer src.Close()
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	sc.Split(splitOn("\n"))
	w := &partWriter{ctx: ctx, f: f}
	var size, rows int64
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r") + sep
		if w.open() && ((maxBytes > 0 && size+int64(len(line)) > maxBytes) || (maxRows > 0 && rows == maxRows)) {
			if err := w.close(); err != nil {
				return 0, err
			}
			size, rows = 0, 0
		}
		if !w.open() {
			w.start(strconv.Itoa(len(w.uris)+1) + ext)
		}
		if err := w.write(line); err != nil {
			return 0, err
		}
		size += int64(len(line))
		rows++
	}
	if err := sc.Err(); err != nil {
		w.abort(err)
		return 0, fmt.Errorf("items: %w", err)
	}
	if err := w.close(); err != nil {
		return 0, err
	}
	return len(w.uris), nil
}

// splitPartitions deals the file's lines round-robin into n batches, as
// Kestra's partitions do; empty batches are dropped (fewer lines than
// partitions). Round-robin fills every batch at once, so they are written
// to the task run's scratch directory first, then stored one by one.
func splitPartitions(ctx context.Context, f *execFiles, tmp, p, sep, ext string, n int) (int, error) {
	if n > 10_000 {
		return 0, fmt.Errorf("batch.partitions: %d partitions is more than 10,000; split by rows or bytes instead", n)
	}
	src, err := f.st.Get(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("items: %w", err)
	}
	defer src.Close()
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return 0, fmt.Errorf("batch.partitions: %w", err)
	}
	parts := make([]*os.File, n)
	bufs := make([]*bufio.Writer, n)
	defer func() {
		for _, pf := range parts {
			if pf != nil {
				_ = pf.Close()
				_ = os.Remove(pf.Name())
			}
		}
	}()
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	sc.Split(splitOn("\n"))
	for i := 0; sc.Scan(); i = (i + 1) % n {
		if parts[i] == nil {
			if parts[i], err = os.CreateTemp(tmp, "partition-*"); err != nil {
				return 0, fmt.Errorf("batch.partitions: %w", err)
			}
			bufs[i] = bufio.NewWriter(parts[i])
		}
		if _, err := bufs[i].WriteString(strings.TrimSuffix(sc.Text(), "\r") + sep); err != nil {
			return 0, fmt.Errorf("batch.partitions: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("items: %w", err)
	}
	count := 0
	for i, pf := range parts {
		if pf == nil {
			continue
		}
		if err := bufs[i].Flush(); err != nil {
			return 0, fmt.Errorf("batch.partitions: %w", err)
		}
		if _, err := pf.Seek(0, io.SeekStart); err != nil {
			return 0, fmt.Errorf("batch.partitions: %w", err)
		}
		count++
		if _, _, err := f.put(ctx, strconv.Itoa(count)+ext, pf); err != nil {
			return 0, err
		}
	}
	return count, nil
}

// forEachItemExec starts the subflow executions of ForEachItem's batches
// and follows them (ForEachItem's <id>_items, run by the executor).
type forEachItemExec struct {
	t *flow.Task
	p forEachItemSubflow
}

// RetriesFailed implements engine.FailedRetrier: with restartBehavior
// RETRY_FAILED (Kestra's default), a restart keeps the outputs and runs
// only the batches whose execution failed or was killed.
func (f forEachItemExec) RetriesFailed() bool { return f.p.RestartBehavior != "NEW_EXECUTION" }

func (f forEachItemExec) Resolve(s *engine.Scope, p *flow.TaskRun) (engine.Outcome, error) {
	wait := f.p.Wait == nil || *f.p.Wait
	transmit := f.p.TransmitFailed == nil || *f.p.TransmitFailed
	if _, started := p.Outputs["numberOfBatches"]; !started {
		b, err := f.batches(s, p)
		if err != nil {
			return engine.Outcome{}, err
		}
		if b.n == 0 {
			// Kestra: no batch, no subflow, and no outputs
			s.AddAttempt(p, flow.StateSuccess)
			return engine.Outcome{Done: true, State: flow.StateSuccess}, nil
		}
		for i := 1; i <= b.n; i++ {
			if err := f.startBatch(s, p, b, i); err != nil {
				return engine.Outcome{}, err
			}
		}
		if !wait {
			s.SetOutputs(p, map[string]any{"numberOfBatches": b.n, "iterations": map[string]any{"RUNNING": 0, "SUCCESS": b.n}})
			s.AddAttempt(p, flow.StateSuccess)
			return engine.Outcome{Done: true, State: flow.StateSuccess}, nil
		}
		s.SetOutputs(p, map[string]any{"numberOfBatches": b.n, "iterations": map[string]any{"CREATED": b.n, "RUNNING": 0}})
	}
	n := intOutput(p.Outputs["numberOfBatches"])
	latest := latestBatches(s.RelatedOf(p.ID))
	restarting := map[int]bool{}
	if since := lastDate(p.State, flow.StateRunning); f.RetriesFailed() {
		// restarted with RETRY_FAILED: a batch whose execution failed
		// before the restart has that execution restarted, as Kestra's
		// ExecutableUtils does (same id, label system.restarted). The
		// command goes with every step until the restart shows; only the
		// first restarts it (EndedBefore).
		for i := 1; i <= n; i++ {
			c := latest[i]
			if c == nil || (c.State.Current != flow.StateFailed && c.State.Current != flow.StateKilled) || !endedBefore(c, since) {
				continue
			}
			s.Send(c.ID, engine.Command{Kind: engine.CommandRestart, EndedBefore: &since})
			restarting[i] = true
		}
	}
	counts := map[string]any{"CREATED": 0, "RUNNING": 0}
	ended := 0
	worst := flow.StateSuccess
	for i, child := range latest {
		st := child.State.Current
		if restarting[i] {
			st = flow.StateRestarted
		}
		counts[string(st)] = intOutput(counts[string(st)]) + 1
		if st.IsTerminal() {
			ended++
			worst = worseIteration(worst, st)
		}
	}
	prev, _ := ordered.AsMap(p.Outputs["iterations"]) // ordered once read back from the store
	if !maps.EqualFunc(prev, counts, func(a, b any) bool { return intOutput(a) == intOutput(b) }) {
		s.SetOutputs(p, map[string]any{"numberOfBatches": n, "iterations": counts})
	}
	if ended < n {
		return engine.Outcome{}, nil
	}
	st := flow.StateSuccess
	if transmit {
		st = worst
	}
	if st == flow.StateFailed || st == flow.StateKilled {
		p.Error = fmt.Sprintf("%d of %d subflow executions of %s.%s did not succeed: %v", n-intOutput(counts["SUCCESS"])-intOutput(counts["WARNING"]), n, f.p.Namespace, f.p.FlowID, iterationSummary(counts))
	} else {
		p.Error = ""
	}
	s.AddAttempt(p, st)
	return engine.Outcome{Done: true, State: st}, nil
}

// worseIteration orders the batches' end states as Kestra's
// findTerminalState does: FAILED over KILLED over WARNING over SUCCESS.
func worseIteration(a, b flow.State) flow.State {
	rank := func(s flow.State) int {
		switch s {
		case flow.StateFailed:
			return 3
		case flow.StateKilled, flow.StateCancelled:
			return 2
		case flow.StateWarning:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		if b == flow.StateCancelled {
			return flow.StateKilled
		}
		return b
	}
	return a
}

func iterationSummary(counts map[string]any) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		if n := intOutput(counts[k]); n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, n))
		}
	}
	return strings.Join(parts, " ")
}

// batchSource is what starting a batch's execution needs: the batches
// the split made, and the subflow, labels and date rendered once.
type batchSource struct {
	n      int
	dir    string // the split task run's directory
	ext    string
	ns, id string
	labels []flow.Label
	at     *time.Time
	vars   map[string]any
}

// batches reads the split's outcome and renders what every batch's
// execution shares.
func (f forEachItemExec) batches(s *engine.Scope, p *flow.TaskRun) (batchSource, error) {
	parent := s.Execution().TaskRunByID(p.ParentTaskRunID)
	base := strings.TrimSuffix(f.t.ID, forEachItemExecSuffix)
	split := s.Run(parent, base+forEachItemSplitSuffix, p.Value, p.Iteration)
	if split == nil {
		return batchSource{}, fmt.Errorf("%s: its split task run %s is missing", f.t.ID, base+forEachItemSplitSuffix)
	}
	b := batchSource{n: intOutput(split.Outputs["numberOfBatches"]), vars: s.Vars(p)}
	b.ext, _ = split.Outputs["extension"].(string)
	b.dir = storage.TaskRunPath(split.Namespace, split.FlowID, split.ExecutionID, split.TaskID, split.ID)
	if b.n == 0 {
		return b, nil
	}
	if limit := s.MaxLoopItems(); b.n > limit {
		// every batch is an execution created in one step
		return b, fmt.Errorf("%d batches exceed osprey.limits.loop-items (%d): put more rows in a batch (batch.rows, batch.bytes, batch.partitions), or raise the limit", b.n, limit)
	}
	var err error
	if b.ns, err = s.Render(p, f.p.Namespace); err != nil {
		return b, fmt.Errorf("namespace: %w", err)
	}
	if b.id, err = s.Render(p, f.p.FlowID); err != nil {
		return b, fmt.Errorf("flowId: %w", err)
	}
	if b.labels, err = subflowLabels(s, p, f.p.InheritLabels, f.p.Labels); err != nil {
		return b, err
	}
	if f.p.ScheduleDate != nil {
		v, err := s.Render(p, fmt.Sprint(f.p.ScheduleDate))
		if err != nil {
			return b, fmt.Errorf("scheduleDate: %w", err)
		}
		d, err := flow.ParseDateTime(v, nil)
		if err != nil {
			return b, fmt.Errorf("scheduleDate: %w", err)
		}
		b.at = &d
	}
	return b, nil
}

// startBatch creates the subflow execution of batch i (from 1), with
// taskrun.items and taskrun.iteration set for its inputs, as in Kestra.
func (f forEachItemExec) startBatch(s *engine.Scope, p *flow.TaskRun, b batchSource, i int) error {
	inputs := map[string]any{}
	if f.p.Inputs != nil {
		tr := maps.Clone(asMapAny(b.vars["taskrun"]))
		tr["items"] = storage.URI(path.Join(b.dir, strconv.Itoa(i)+b.ext))
		tr["iteration"] = i
		v := maps.Clone(b.vars)
		v["taskrun"] = tr
		out, err := s.RenderWith(v, map[string]any(f.p.Inputs))
		if err != nil {
			return fmt.Errorf("inputs of batch %d: %w", i, err)
		}
		inputs = out.(map[string]any)
	}
	ex := s.Execution()
	rev, _ := f.p.Revision.(float64)
	_, err := s.StartExecution(engine.StartRequest{
		Namespace: b.ns, FlowID: b.id, Revision: int(rev), Inputs: inputs, Labels: slices.Clone(b.labels), ParentID: ex.ID, ScheduleDate: b.at,
		Trigger: &flow.ExecutionTrigger{
			ID:   f.t.ID,
			Type: pForEachItemExec,
			Variables: map[string]any{
				"executionId":      ex.ID,
				"namespace":        ex.Namespace,
				"flowId":           ex.FlowID,
				"flowRevision":     ex.FlowRevision,
				"taskRunId":        p.ID,
				"taskRunIteration": i,
			},
		},
	})
	if err != nil {
		return fmt.Errorf("batch %d: %w", i, err)
	}
	return nil
}

// subflowLabels are the labels a subflow execution starts with: the
// parent's correlation id, the parent's labels with inheritLabels, then
// the task's own.
func subflowLabels(s *engine.Scope, p *flow.TaskRun, inherit bool, own any) ([]flow.Label, error) {
	var labels []flow.Label
	ex := s.Execution()
	if inherit {
		for _, l := range ex.Labels {
			if l.Key != correlationLabel {
				labels = append(labels, l)
			}
		}
	}
	for _, l := range ex.Labels {
		if l.Key == correlationLabel && !hasLabel(labels, correlationLabel) {
			labels = append(labels, l)
		}
	}
	if own != nil {
		v, err := s.RenderValue(p, own)
		if err != nil {
			return nil, fmt.Errorf("labels: %w", err)
		}
		labels = append(labels, toLabels(v)...)
	}
	return labels, nil
}

// latestBatches keeps, of the executions a ForEachItem's <id>_items
// started, the newest of each batch: a NEW_EXECUTION restart's execution
// of a batch replaces the one before, and an execution retried with
// CREATE_NEW_EXECUTION (RETRIED) gives way to its retry.
func latestBatches(children []*flow.Execution) map[int]*flow.Execution {
	out := map[int]*flow.Execution{}
	for _, c := range children {
		if c.State.Current == flow.StateRetried || c.Trigger == nil {
			continue
		}
		i := intOutput(c.Trigger.Variables["taskRunIteration"])
		if prev, ok := out[i]; !ok || created(c).After(created(prev)) || created(c).Equal(created(prev)) && c.ID > prev.ID {
			out[i] = c
		}
	}
	return out
}

// created is when the batch's execution was first created (a retry
// chain's first one).
func created(e *flow.Execution) time.Time {
	if e.Metadata != nil && e.Metadata.OriginalCreatedDate != nil {
		return *e.Metadata.OriginalCreatedDate
	}
	if len(e.State.Histories) > 0 {
		return e.State.Histories[0].Date
	}
	return time.Time{}
}

// endedBefore reports whether e reached its current state before t.
func endedBefore(e *flow.Execution, t time.Time) bool {
	h := e.State.Histories
	return len(h) > 0 && h[len(h)-1].Date.Before(t)
}

func asMapAny(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

func intOutput(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	}
	return 0
}

// ForEachItemMerge gathers the outputs of a ForEachItem's subflow
// executions into one file (ForEachItem's <id>_merge):
// outputs.subflowOutputs, one JSON object a line in batch order; no
// outputs when no subflow execution had any, as in Kestra.
type ForEachItemMerge struct{}

// Run implements worker.Runnable.
func (x *ForEachItemMerge) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	if rc.Executions == nil {
		return nil, errors.New("no execution store is available to this worker")
	}
	tr := rc.TaskRun
	ex, _, err := rc.Executions.Get(ctx, tr.ExecutionID)
	if err != nil {
		return nil, fmt.Errorf("load execution %s: %w", tr.ExecutionID, err)
	}
	var items *flow.TaskRun
	base := strings.TrimSuffix(tr.TaskID, forEachItemMergeSuffix)
	for _, s := range ex.TaskRunList {
		if s.TaskID == base+forEachItemExecSuffix && s.ParentTaskRunID == tr.ParentTaskRunID && s.Value == tr.Value {
			items = s
		}
	}
	if items == nil {
		return nil, nil // there were no subflow executions
	}
	children, _, err := rc.Executions.Search(ctx, store.ExecutionQuery{ParentID: ex.ID})
	if err != nil {
		return nil, fmt.Errorf("list subflow executions: %w", err)
	}
	children = slices.DeleteFunc(children, func(c *flow.Execution) bool {
		return c.Trigger == nil || c.Trigger.Variables["taskRunId"] != items.ID
	})
	type batch struct {
		i    int
		outs map[string]any
	}
	var batches []batch
	for i, c := range latestBatches(children) {
		if len(c.Outputs) > 0 {
			batches = append(batches, batch{i, c.Outputs})
		}
	}
	if len(batches) == 0 {
		return nil, nil
	}
	slices.SortFunc(batches, func(a, b batch) int { return a.i - b.i })
	f, err := filesOf(rc)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriter(pw)
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		var err error
		for _, b := range batches {
			if err = enc.Encode(b.outs); err != nil {
				break
			}
		}
		if err == nil {
			err = bw.Flush()
		}
		_ = pw.CloseWithError(err)
	}()
	uri, _, err := f.put(ctx, "outputs.ion", pr)
	_ = pr.Close()
	if err != nil {
		return nil, fmt.Errorf("store the merged outputs: %w", err)
	}
	return map[string]any{"subflowOutputs": uri}, nil
}
