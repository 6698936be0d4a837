package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/internal/execdoc"
)

type executions struct{ s *Store }

// row is an execution's indexed columns and its header document (the
// execution without its task runs, which have rows of their own).
type row struct {
	namespace, flowID, state, parentID string
	startDate                          int64
	labels, doc                        []byte
}

func toRow(e *flow.Execution, now time.Time) (row, error) {
	doc, err := execdoc.Header(e)
	if err != nil {
		return row{}, err
	}
	labels := []byte("[]")
	if len(e.Labels) > 0 {
		if labels, err = json.Marshal(e.Labels); err != nil {
			return row{}, fmt.Errorf("encode labels of execution %s: %w", e.ID, err)
		}
	}
	return row{
		namespace: e.Namespace, flowID: e.FlowID, state: string(e.State.Current), parentID: e.ParentID,
		startDate: micros(startDate(e, now)), labels: labels, doc: doc,
	}, nil
}

// startDate is what searches sort and filter on: the state's start, else
// the first history entry, else the schedule date, else now.
func startDate(e *flow.Execution, now time.Time) time.Time {
	switch {
	case e.State.StartDate != nil:
		return *e.State.StartDate
	case len(e.State.Histories) > 0:
		return e.State.Histories[0].Date
	case e.ScheduleDate != nil:
		return *e.ScheduleDate
	}
	return now
}

func (x executions) insert(ctx context.Context, tx *sql.Tx, e *flow.Execution) error {
	r, err := toRow(e, x.s.now())
	if err != nil {
		return err
	}
	_, err = x.s.stmt(ctx, tx, "execInsert").ExecContext(ctx, e.ID, r.namespace, r.flowID, r.state, r.startDate,
		r.labels, r.parentID, r.doc)
	if err = translate(err); err != nil {
		return fmt.Errorf("insert execution %s: %w", e.ID, err)
	}
	return x.putTaskRuns(ctx, tx, e.ID, 0, e.TaskRunList)
}

// putTaskRuns writes task runs of execution id, inserting the ones not
// stored yet at positions from pos on and replacing the others.
func (x executions) putTaskRuns(ctx context.Context, tx *sql.Tx, id string, pos int64, runs []*flow.TaskRun) error {
	if len(runs) == 0 {
		return nil
	}
	put := x.s.stmt(ctx, tx, "taskRunPut")
	for i, tr := range runs {
		doc, err := execdoc.TaskRun(tr)
		if err != nil {
			return err
		}
		if _, err := put.ExecContext(ctx, id, pos+int64(i), tr.ID, doc); err != nil {
			return fmt.Errorf("store task run %s: %w", tr.ID, translate(err))
		}
	}
	return nil
}

// saveTaskRuns writes what a step did to e's task runs: only the delta
// when there is one, else every task run in place of the stored ones.
func (x executions) saveTaskRuns(ctx context.Context, tx *sql.Tx, e *flow.Execution, d *store.TaskRunDelta) error {
	if d == nil {
		if _, err := x.s.stmt(ctx, tx, "taskRunDeleteAll").ExecContext(ctx, e.ID); err != nil {
			return fmt.Errorf("replace task runs: %w", err)
		}
		return x.putTaskRuns(ctx, tx, e.ID, 0, e.TaskRunList)
	}
	if len(d.Removed) > 0 {
		del := x.s.stmt(ctx, tx, "taskRunDelete")
		for _, id := range d.Removed {
			if _, err := del.ExecContext(ctx, e.ID, id); err != nil {
				return fmt.Errorf("remove task run %s: %w", id, err)
			}
		}
	}
	if len(d.Changed) == 0 {
		return nil
	}
	var pos int64
	if err := x.s.stmt(ctx, tx, "taskRunNextPos").QueryRowContext(ctx, e.ID).Scan(&pos); err != nil {
		return fmt.Errorf("place task runs: %w", err)
	}
	return x.putTaskRuns(ctx, tx, e.ID, pos, d.Changed)
}

// read runs fn in one read transaction, so an execution's header and its
// task runs come from the same committed state.
func (x executions) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := x.s.r.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	return fn(tx)
}

// rstmt is a reader's prepared statement bound to tx.
func (x executions) rstmt(ctx context.Context, tx *sql.Tx, name string) *sql.Stmt {
	return tx.StmtContext(ctx, x.s.rq(name))
}

// assemble adds their task runs to headers (id → header document, in
// order of ids) and decodes them.
func (x executions) assemble(ctx context.Context, tx *sql.Tx, ids []string, headers map[string][]byte) ([]*flow.Execution, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("encode execution ids: %w", err)
	}
	rows, err := x.rstmt(ctx, tx, "taskRunLists").QueryContext(ctx, string(list))
	if err != nil {
		return nil, fmt.Errorf("load task runs: %w", err)
	}
	defer rows.Close()
	runs := map[string][][]byte{}
	for rows.Next() {
		var id string
		var doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, fmt.Errorf("load task runs: %w", err)
		}
		runs[id] = append(runs[id], doc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load task runs: %w", err)
	}
	out := make([]*flow.Execution, 0, len(ids))
	for _, id := range ids {
		e, err := execdoc.Assemble(headers[id], runs[id])
		if err != nil {
			return nil, fmt.Errorf("execution %s: %w", id, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// scanHeaders reads (id, doc) rows.
func scanHeaders(rows *sql.Rows) ([]string, map[string][]byte, error) {
	defer rows.Close()
	var ids []string
	headers := map[string][]byte{}
	for rows.Next() {
		var id string
		var doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, nil, err
		}
		ids = append(ids, id)
		headers[id] = doc
	}
	return ids, headers, rows.Err()
}

// Create is one INSERT in autocommit, the document encoded before it: the
// writer connection is held for the statement only.
func (x executions) Create(ctx context.Context, e *flow.Execution) error {
	r, err := toRow(e, x.s.now())
	if err != nil {
		return fmt.Errorf("create execution: %w", err)
	}
	if len(e.TaskRunList) > 0 {
		// With task runs (a replay): the row and theirs, one transaction.
		if err := x.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error { return x.insert(ctx, tx, e) }); err != nil {
			return fmt.Errorf("create execution: %w", err)
		}
		x.s.hub.Notify(store.TopicExecutions)
		return nil
	}
	err = x.s.exec1(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := x.s.stmt(ctx, tx, "execInsert").ExecContext(ctx, e.ID, r.namespace, r.flowID, r.state,
			r.startDate, r.labels, r.parentID, r.doc)
		return err
	})
	if err = translate(err); err != nil {
		return fmt.Errorf("create execution: insert execution %s: %w", e.ID, err)
	}
	x.s.hub.Notify(store.TopicExecutions)
	return nil
}

func (x executions) Get(ctx context.Context, id string) (*flow.Execution, int64, error) {
	var e *flow.Execution
	var version int64
	err := x.read(ctx, func(tx *sql.Tx) error {
		var err error
		e, version, err = x.get(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("get execution %s: %w", id, err)
	}
	return e, version, nil
}

// get reads execution id and its task runs in tx.
func (x executions) get(ctx context.Context, tx *sql.Tx, id string) (*flow.Execution, int64, error) {
	var doc []byte
	var version int64
	if err := x.rstmt(ctx, tx, "execGet").QueryRowContext(ctx, id).Scan(&doc, &version); err != nil {
		return nil, 0, translate(err)
	}
	rows, err := x.rstmt(ctx, tx, "taskRunList").QueryContext(ctx, id)
	if err != nil {
		return nil, 0, fmt.Errorf("load task runs: %w", err)
	}
	defer rows.Close()
	// Each task run is decoded as it is read: a wide execution's documents
	// are never all held at once.
	a, err := execdoc.NewAssembler(doc, 0)
	if err != nil {
		return nil, 0, err
	}
	for rows.Next() {
		var r []byte
		if err := rows.Scan(&r); err != nil {
			return nil, 0, fmt.Errorf("load task runs: %w", err)
		}
		if err := a.Add(r); err != nil {
			return nil, 0, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("load task runs: %w", err)
	}
	return a.Execution(), version, nil
}

var _ store.StepReader = executions{}

// ReadStep reads the execution, its results and its commands in one read
// transaction.
func (x executions) ReadStep(ctx context.Context, id string, withExecution bool) (store.StepInput, error) {
	var in store.StepInput
	err := x.read(ctx, func(tx *sql.Tx) error {
		in = store.StepInput{}
		var err error
		if withExecution {
			if in.Execution, in.Version, err = x.get(ctx, tx, id); err != nil {
				return err
			}
		}
		rows, err := x.rstmt(ctx, tx, "jobResults").QueryContext(ctx, id)
		if err != nil {
			return fmt.Errorf("load results: %w", err)
		}
		if in.Results, err = collectJobs(rows); err != nil {
			return fmt.Errorf("load results: %w", err)
		}
		rows, err = x.rstmt(ctx, tx, "cmdList").QueryContext(ctx, id)
		if err != nil {
			return fmt.Errorf("load commands: %w", err)
		}
		if in.Commands, err = scanCommands(rows, id); err != nil {
			return fmt.Errorf("load commands: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.StepInput{}, fmt.Errorf("read a step of execution %s: %w", id, err)
	}
	return in, nil
}

func (x executions) State(ctx context.Context, id string) (flow.State, error) {
	var st string
	if err := x.s.rq("execState").QueryRowContext(ctx, id).Scan(&st); err != nil {
		return "", fmt.Errorf("get the state of execution %s: %w", id, translate(err))
	}
	return flow.State(st), nil
}

func (x executions) Save(ctx context.Context, p store.SaveParams) (int64, error) {
	now := x.s.now()
	e := p.Execution
	r, err := toRow(e, now)
	if err != nil {
		return 0, err
	}
	var version int64
	var dirty bool
	err = x.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if p.Slot != nil {
			// One writer: the count and the save below cannot interleave
			// with another executor's start.
			var n int
			if err := x.s.stmt(ctx, tx, "execCountOthersActive").QueryRowContext(ctx, e.Namespace, e.FlowID, e.ID, activeStates).Scan(&n); err != nil {
				return fmt.Errorf("count active executions of %s/%s: %w", e.Namespace, e.FlowID, err)
			}
			if n >= p.Slot.Limit {
				return fmt.Errorf("%d of %d running: %w", n, p.Slot.Limit, store.ErrNoSlot)
			}
		}
		err := x.s.stmt(ctx, tx, "execSave").QueryRowContext(ctx, e.ID, p.Version, r.state, r.labels, r.doc,
			nullMicros(p.WakeAt), p.Owner).Scan(&version, &dirty)
		if errors.Is(err, sql.ErrNoRows) {
			var one int
			if err := x.s.stmt(ctx, tx, "execExists").QueryRowContext(ctx, e.ID).Scan(&one); err != nil {
				return translate(err)
			}
			return fmt.Errorf("version %d is stale: %w", p.Version, store.ErrConflict)
		}
		if err != nil {
			return err
		}
		if err := x.saveTaskRuns(ctx, tx, e, p.Delta); err != nil {
			return err
		}
		if len(p.Jobs) > 0 {
			ins := x.s.stmt(ctx, tx, "jobInsert")
			for i, j := range p.Jobs {
				if _, err := ins.ExecContext(ctx, j.ID, e.ID, j.TaskRunID, j.Attempt, j.Payload, micros(now), p.FirstTurn+i); err != nil {
					return fmt.Errorf("enqueue job %s: %w", j.ID, translate(err))
				}
			}
		}
		for _, ne := range p.NewExecutions {
			if err := x.insert(ctx, tx, ne); err != nil {
				return err
			}
		}
		if len(p.AckResults) > 0 {
			ack := x.s.stmt(ctx, tx, "jobAck")
			for _, id := range p.AckResults {
				if _, err := ack.ExecContext(ctx, id); err != nil {
					return fmt.Errorf("ack job %s: %w", id, err)
				}
			}
		}
		if len(p.CancelJobs) > 0 {
			ids, err := json.Marshal(p.CancelJobs)
			if err != nil {
				return fmt.Errorf("encode jobs to cancel: %w", err)
			}
			if _, err := x.s.stmt(ctx, tx, "jobCancelQueued").ExecContext(ctx, string(ids)); err != nil {
				return fmt.Errorf("remove cancelled jobs: %w", err)
			}
			if _, err := x.s.stmt(ctx, tx, "jobCancel").ExecContext(ctx, string(ids)); err != nil {
				return fmt.Errorf("cancel jobs: %w", err)
			}
		}
		if len(p.AckCommands) > 0 {
			ack := x.s.stmt(ctx, tx, "cmdAck")
			for _, id := range p.AckCommands {
				if _, err := ack.ExecContext(ctx, id); err != nil {
					return fmt.Errorf("ack command %d: %w", id, err)
				}
			}
		}
		for _, c := range p.Send {
			if _, err := x.s.send(ctx, tx, c, now); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		for _, id := range p.Wake {
			if err := x.s.markDirty(ctx, tx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("wake execution %s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("save execution %s: %w", e.ID, err)
	}
	if len(p.Jobs) > 0 {
		x.s.hub.Notify(store.TopicJobs)
	}
	if len(p.CancelJobs) > 0 {
		x.s.hub.Notify(store.TopicKills)
	}
	x.s.hub.Notify(store.TopicExecution(e.ID))
	if e.State.Current.IsTerminal() {
		x.s.hub.Notify(store.TopicExecutionEnd(e.ID))
	}
	// Work that arrived while the executor held its claim (a job result,
	// a kill) makes the execution claimable again right away.
	if len(p.NewExecutions) > 0 || len(p.Send) > 0 || len(p.Wake) > 0 || dirty {
		x.s.hub.Notify(store.TopicExecutions)
	}
	return version, nil
}

func (x executions) Send(ctx context.Context, c store.Command) (store.Command, error) {
	now := x.s.now()
	var out store.Command
	err := x.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		out, err = x.s.send(ctx, tx, c, now)
		return err
	})
	if err != nil {
		return store.Command{}, fmt.Errorf("send command to execution %s: %w", c.ExecutionID, err)
	}
	x.s.hub.Notify(store.TopicExecutions)
	return out, nil
}

// send marks the command's execution dirty and stores the command, in tx;
// ErrNotFound when the execution does not exist.
func (s *Store) send(ctx context.Context, tx *sql.Tx, c store.Command, now time.Time) (store.Command, error) {
	if err := s.markDirty(ctx, tx, c.ExecutionID); err != nil {
		return store.Command{}, err
	}
	c.Created = now.UTC().Truncate(time.Microsecond)
	if err := s.stmt(ctx, tx, "cmdInsert").QueryRowContext(ctx, c.ExecutionID, c.Payload, micros(now)).Scan(&c.ID); err != nil {
		return store.Command{}, fmt.Errorf("store command: %w", translate(err))
	}
	return c, nil
}

func (x executions) Commands(ctx context.Context, executionID string) ([]store.Command, error) {
	rows, err := x.s.rq("cmdList").QueryContext(ctx, executionID)
	if err != nil {
		return nil, fmt.Errorf("list commands of execution %s: %w", executionID, err)
	}
	out, err := scanCommands(rows, executionID)
	if err != nil {
		return nil, fmt.Errorf("list commands of execution %s: %w", executionID, err)
	}
	return out, nil
}

// scanCommands reads cmdList's rows and closes them.
func scanCommands(rows *sql.Rows, executionID string) ([]store.Command, error) {
	defer rows.Close()
	var out []store.Command
	for rows.Next() {
		c := store.Command{ExecutionID: executionID}
		var created int64
		if err := rows.Scan(&c.ID, &c.Payload, &created); err != nil {
			return nil, err
		}
		c.Created = fromMicros(created)
		out = append(out, c)
	}
	return out, rows.Err()
}

func (x executions) MarkDirty(ctx context.Context, id string) error {
	if err := x.s.markDirty(ctx, nil, id); err != nil {
		return fmt.Errorf("mark execution %s dirty: %w", id, err)
	}
	x.s.hub.Notify(store.TopicExecutions)
	return nil
}

// markDirty flags an execution for the executor, in tx when given.
func (s *Store) markDirty(ctx context.Context, tx *sql.Tx, id string) error {
	if tx == nil {
		return s.exec1(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.markDirtyIn(ctx, tx, id) })
	}
	return s.markDirtyIn(ctx, tx, id)
}

// markDirtyIn is markDirty's statement, in tx or in autocommit (nil).
func (s *Store) markDirtyIn(ctx context.Context, tx *sql.Tx, id string) error {
	res, err := s.stmt(ctx, tx, "execMarkDirty").ExecContext(ctx, id)
	if err != nil {
		return translate(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (x executions) Search(ctx context.Context, q store.ExecutionQuery) ([]*flow.Execution, int, error) {
	args, err := searchArgs(q)
	if err != nil {
		return nil, 0, err
	}
	limit, offset := page(q.Page, q.Size)
	var out []*flow.Execution
	var total int
	err = x.read(ctx, func(tx *sql.Tx) error {
		rows, err := x.rstmt(ctx, tx, "execSearch").QueryContext(ctx, append(args, limit, offset)...)
		if err != nil {
			return err
		}
		ids, headers, err := scanHeaders(rows)
		if err != nil {
			return err
		}
		if out, err = x.assemble(ctx, tx, ids, headers); err != nil {
			return err
		}
		if err := x.rstmt(ctx, tx, "execCount").QueryRowContext(ctx, args...).Scan(&total); err != nil {
			return fmt.Errorf("count: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("search executions: %w", err)
	}
	return out, total, nil
}

// searchArgs binds an ExecutionQuery to execSearch's first seven
// parameters; lists travel as JSON arrays read with json_each.
func searchArgs(q store.ExecutionQuery) ([]any, error) {
	var states, labels any
	if len(q.States) > 0 {
		b, err := json.Marshal(q.States)
		if err != nil {
			return nil, fmt.Errorf("encode states: %w", err)
		}
		states = string(b)
	}
	if len(q.Labels) > 0 {
		// Each label is compared as the JSON text encoding/json writes for
		// it, the same text toRow stored.
		enc := make([]json.RawMessage, len(q.Labels))
		for i, l := range q.Labels {
			b, err := json.Marshal(l)
			if err != nil {
				return nil, fmt.Errorf("encode label: %w", err)
			}
			enc[i] = b
		}
		b, err := json.Marshal(enc)
		if err != nil {
			return nil, fmt.Errorf("encode labels: %w", err)
		}
		labels = string(b)
	}
	return []any{q.Namespace, q.FlowID, states, labels, q.ParentID, nullMicros(q.From), nullMicros(q.To)}, nil
}

// activeStates are the states CountActive counts: not terminal, and past
// CREATED and QUEUED.
var activeStates = func() string {
	b, _ := json.Marshal([]flow.State{flow.StateRunning, flow.StatePaused, flow.StateRestarted,
		flow.StateKilling, flow.StateRetrying, flow.StateBreakpoint})
	return string(b)
}()

func (x executions) CountActive(ctx context.Context, namespace, flowID string) (int, error) {
	var n int
	if err := x.s.rq("execCountActive").QueryRowContext(ctx, namespace, flowID, activeStates).Scan(&n); err != nil {
		return 0, fmt.Errorf("count active executions of %s/%s: %w", namespace, flowID, err)
	}
	return n, nil
}

func (x executions) Delete(ctx context.Context, id string) error {
	err := x.s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := x.s.stmt(ctx, tx, "execDelete").ExecContext(ctx, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := x.s.stmt(ctx, tx, "taskRunDeleteAll").ExecContext(ctx, id); err != nil {
			return err
		}
		if _, err := x.s.stmt(ctx, tx, "jobDeleteByExecution").ExecContext(ctx, id); err != nil {
			return err
		}
		if _, err := x.s.stmt(ctx, tx, "cmdDeleteByExecution").ExecContext(ctx, id); err != nil {
			return err
		}
		_, err = x.s.stmt(ctx, tx, "logDeleteByExecution").ExecContext(ctx, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete execution %s: %w", id, err)
	}
	return nil
}

func (x executions) Latest(ctx context.Context, flows []store.FlowRef) ([]*flow.Execution, error) {
	if len(flows) == 0 {
		return nil, nil
	}
	list, err := flowList(flows)
	if err != nil {
		return nil, err
	}
	var out []*flow.Execution
	err = x.read(ctx, func(tx *sql.Tx) error {
		rows, err := x.rstmt(ctx, tx, "execLatest").QueryContext(ctx, list)
		if err != nil {
			return err
		}
		ids, headers, err := scanHeaders(rows)
		if err != nil {
			return err
		}
		out, err = x.assemble(ctx, tx, ids, headers)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("latest executions: %w", err)
	}
	return out, nil
}

// flowList is the JSON list of {"namespace","id"} execLatest reads.
func flowList(flows []store.FlowRef) (string, error) {
	type ref struct {
		Namespace string `json:"namespace"`
		ID        string `json:"id"`
	}
	refs := make([]ref, len(flows))
	for i, f := range flows {
		refs[i] = ref(f)
	}
	b, err := json.Marshal(refs)
	if err != nil {
		return "", fmt.Errorf("encode flows: %w", err)
	}
	return string(b), nil
}

func (x executions) Daily(ctx context.Context, q store.DailyQuery) ([]store.DailyCount, error) {
	off := int64(q.Offset / time.Second)
	rows, err := x.s.rq("execDaily").QueryContext(ctx, micros(q.From), micros(q.To), off, q.Namespace, q.FlowID)
	if err != nil {
		return nil, fmt.Errorf("count executions by day: %w", err)
	}
	defer rows.Close()
	var out []store.DailyCount
	for rows.Next() {
		var day int64
		var c store.DailyCount
		if err := rows.Scan(&day, &c.State, &c.Count); err != nil {
			return nil, fmt.Errorf("count executions by day: %w", err)
		}
		c.Day = time.Unix(day*86400-off, 0).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count executions by day: %w", err)
	}
	return out, nil
}
