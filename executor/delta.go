package executor

import (
	"reflect"
	"time"
	"unsafe"

	"github.com/ospreyhq/osprey/engine"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
)

// A step saves only the task runs it created or changed (store.TaskRunDelta),
// so its cost follows what it did rather than the execution's width. What
// it changed is found by comparing each task run with a fingerprint taken
// when the execution was read or last saved, kept with the warm copy.
//
// Why fingerprints rather than having the engine mark what it touches: a
// task run is changed in many places — the engine's scope, the flowables
// through it, the commands applied before a step (resume, restart, change
// status), the executor itself (masking, a flow that no longer loads) —
// and one forgotten mark would silently keep a change out of the store.
// A fingerprint sees every change, whoever made it, for the price of
// reading a few fields per task run: no encoding, no allocation.
//
// The fingerprint relies on how task runs change: a state change appends
// to its history (flow.StateInfo.Set), an attempt is appended or its state
// set (which appends to the attempt's history), and outputs, items, retry
// date and iteration are replaced, never written in place (the engine
// shares outputs maps between task runs' variables, so it must not write
// into them anyway). Identity is kept by pointer, which also keeps the
// replaced value alive, so its address cannot be reused by a new one.
type fingerprint struct {
	tr        *flow.TaskRun
	state     flow.State
	histories int
	attempts  int
	// lastAttempt is the history length of the last attempt: a task
	// run's state changed from the API changes its last attempt too.
	lastAttempt int
	outputs     unsafe.Pointer
	nOutputs    int
	items       *string
	nItems      int
	err, value  string
	retryAt     *time.Time
	iteration   *int
}

func fingerprintOf(tr *flow.TaskRun) fingerprint {
	f := fingerprint{
		tr: tr, state: tr.State.Current, histories: len(tr.State.Histories), attempts: len(tr.Attempts),
		nOutputs: len(tr.Outputs), nItems: len(tr.Items), err: tr.Error, value: tr.Value,
		retryAt: tr.RetryAt, iteration: tr.Iteration,
	}
	if n := len(tr.Attempts); n > 0 {
		f.lastAttempt = len(tr.Attempts[n-1].State.Histories)
	}
	if tr.Outputs != nil {
		f.outputs = reflect.ValueOf(tr.Outputs).UnsafePointer()
	}
	if len(tr.Items) > 0 {
		f.items = &tr.Items[0]
	}
	return f
}

// snapshot is the fingerprints of an execution's task runs as stored, in
// the order of its list.
type snapshot struct {
	fps []fingerprint
	// moved is set by diff when the list no longer starts with the
	// snapshot's task runs: refresh then takes the fingerprints anew.
	moved bool
}

func newSnapshot(ex *flow.Execution) *snapshot {
	s := &snapshot{fps: make([]fingerprint, len(ex.TaskRunList))}
	for i, tr := range ex.TaskRunList {
		s.fps[i] = fingerprintOf(tr)
	}
	return s
}

// diff returns what ex's task runs changed since the snapshot, and the
// positions in ex's list of the changed ones (for refresh).
func (s *snapshot) diff(ex *flow.Execution) (*store.TaskRunDelta, []int) {
	d := &store.TaskRunDelta{}
	var idx []int
	list := ex.TaskRunList
	aligned := len(list) >= len(s.fps)
	for i := 0; aligned && i < len(s.fps); i++ {
		if s.fps[i].tr != list[i] {
			aligned = false
		}
	}
	s.moved = !aligned
	if aligned {
		// The usual case: the list only grew.
		for i, tr := range list {
			if i >= len(s.fps) || fingerprintOf(tr) != s.fps[i] {
				d.Changed = append(d.Changed, tr)
				idx = append(idx, i)
			}
		}
		return d, idx
	}
	// Task runs were dropped (a restart) or moved: match by identity.
	old := make(map[*flow.TaskRun]int, len(s.fps))
	for i, f := range s.fps {
		old[f.tr] = i
	}
	seen := make([]bool, len(s.fps))
	for i, tr := range list {
		j, ok := old[tr]
		if ok {
			seen[j] = true
		}
		if !ok || fingerprintOf(tr) != s.fps[j] {
			d.Changed = append(d.Changed, tr)
			idx = append(idx, i)
		}
	}
	for j, f := range s.fps {
		if !seen[j] {
			d.Removed = append(d.Removed, f.tr.ID)
		}
	}
	return d, idx
}

// refresh makes the snapshot ex's as saved; idx are the positions diff
// returned (read again here, after masking replaced some values).
func (s *snapshot) refresh(ex *flow.Execution, idx []int) {
	list := ex.TaskRunList
	if s.moved {
		*s = *newSnapshot(ex)
		return
	}
	for _, i := range idx {
		if i < len(s.fps) {
			s.fps[i] = fingerprintOf(list[i])
		}
	}
	for i := len(s.fps); i < len(list); i++ {
		s.fps = append(s.fps, fingerprintOf(list[i]))
	}
}

// split cuts what a step did to the task runs into the parts its save
// stores, one transaction each: the first holds every change to task runs
// already stored, the removals and the first n task runs the step created;
// each next one the next n created. stored is how many task runs the store
// held, positions where in the list each of d.Changed is (diff's answer).
// The engine only appends task runs, so the created ones are the last of
// d.Changed, in list order, and each part appends after the one before.
func split(d *store.TaskRunDelta, positions []int, stored, n int) []*store.TaskRunDelta {
	first := len(positions)
	for k, pos := range positions {
		if pos >= stored {
			first = k
			break
		}
	}
	if len(d.Changed)-first <= n {
		return []*store.TaskRunDelta{d}
	}
	parts := []*store.TaskRunDelta{{Changed: d.Changed[: first+n : first+n], Removed: d.Removed}}
	for k := first + n; k < len(d.Changed); k += n {
		end := min(k+n, len(d.Changed))
		parts = append(parts, &store.TaskRunDelta{Changed: d.Changed[k:end:end]})
	}
	return parts
}

// sliceDispatches sorts a step's dispatches by the part of its save that
// stores their task runs (split): a job is queued in the transaction that
// stores its task run, or a later one, never before it. Dispatches of task
// runs stored already (a retry) go with the first part.
func sliceDispatches(ds []engine.Dispatch, parts []*store.TaskRunDelta) [][]engine.Dispatch {
	out := make([][]engine.Dispatch, len(parts))
	if len(parts) == 1 {
		out[0] = ds
		return out
	}
	part := make(map[*flow.TaskRun]int, len(ds))
	for i, p := range parts[1:] {
		for _, tr := range p.Changed {
			part[tr] = i + 1
		}
	}
	for _, d := range ds {
		i := part[d.TaskRun]
		out[i] = append(out[i], d)
	}
	return out
}

// ackParts places the acknowledgements of the results a step applied
// (job ids acks, of task runs runs) in the parts of its save (split). When
// pure, each goes with the last part that stores its task run or a task
// run created under it (a group's children come with its result); a
// result that changed nothing goes with the first. Otherwise all go with
// the first part, beside the commands and the task runs changed.
func ackParts(acks, runs []string, parts []*store.TaskRunDelta, pure bool) [][]string {
	out := make([][]string, len(parts))
	if len(parts) == 1 || !pure {
		out[0] = acks
		return out
	}
	last := map[string]int{}
	for i, p := range parts {
		for _, tr := range p.Changed {
			last[tr.ID] = i
			if tr.ParentTaskRunID != "" {
				last[tr.ParentTaskRunID] = max(last[tr.ParentTaskRunID], i)
			}
		}
	}
	for k, id := range acks {
		i := last[runs[k]]
		out[i] = append(out[i], id)
	}
	return out
}
