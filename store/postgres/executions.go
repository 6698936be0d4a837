package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/store/internal/execdoc"
)

type executions struct{ s *Store }

// row is an execution's indexed columns and its header document (the
// execution without its task runs, which have rows of their own).
type row struct {
	namespace, flowID, state, parentID, labels string
	startDate                                  time.Time
	doc                                        []byte
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
		startDate: utc(startDate(e, now)), labels: string(labels), doc: doc,
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

// queueInsert adds e's insert to b.
func (x executions) queueInsert(b *pgx.Batch, e *flow.Execution) error {
	r, err := toRow(e, x.s.now())
	if err != nil {
		return err
	}
	b.Queue(x.s.sql("execInsert"), e.ID, r.namespace, r.flowID, r.state, r.startDate, r.labels, r.parentID, r.doc)
	return x.queueTaskRuns(b, e.ID, e.TaskRunList)
}

// queueTaskRuns adds to b the write of task runs of execution id, in one
// statement however many there are.
func (x executions) queueTaskRuns(b *pgx.Batch, id string, runs []*flow.TaskRun) error {
	if len(runs) == 0 {
		return nil
	}
	ids := make([]string, len(runs))
	docs := make([][]byte, len(runs))
	for i, tr := range runs {
		doc, err := execdoc.TaskRun(tr)
		if err != nil {
			return err
		}
		ids[i], docs[i] = tr.ID, doc
	}
	b.Queue(x.s.sql("taskRunPut"), id, ids, docs)
	return nil
}

// queueSaveTaskRuns adds to b what a step did to e's task runs: only the
// delta when there is one, else every task run in place of the stored ones.
func (x executions) queueSaveTaskRuns(b *pgx.Batch, e *flow.Execution, d *store.TaskRunDelta) error {
	if d == nil {
		b.Queue(x.s.sql("taskRunDeleteAll"), e.ID)
		return x.queueTaskRuns(b, e.ID, e.TaskRunList)
	}
	if len(d.Removed) > 0 {
		b.Queue(x.s.sql("taskRunDelete"), e.ID, d.Removed)
	}
	return x.queueTaskRuns(b, e.ID, d.Changed)
}

// assemble decodes an execution from its header and task run documents.
func assemble(doc []byte, runs [][]byte) (*flow.Execution, error) {
	return execdoc.Assemble(doc, runs)
}

// Create is one INSERT, its own transaction: one round trip.
func (x executions) Create(ctx context.Context, e *flow.Execution) error {
	r, err := toRow(e, x.s.now())
	if err != nil {
		return err
	}
	if len(e.TaskRunList) > 0 {
		// With task runs (a replay): the row and theirs, one transaction.
		b := &pgx.Batch{}
		if err := x.queueInsert(b, e); err != nil {
			return err
		}
		if err := x.s.tx(ctx, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() }); err != nil {
			return fmt.Errorf("create execution %s: %w", e.ID, err)
		}
		x.s.notify(store.TopicExecutions)
		return nil
	}
	if _, err := x.s.pool.Exec(ctx, x.s.sql("execInsert"), e.ID, r.namespace, r.flowID, r.state, r.startDate,
		r.labels, r.parentID, r.doc); err != nil {
		return fmt.Errorf("create execution %s: %w", e.ID, translate(err))
	}
	x.s.notify(store.TopicExecutions)
	return nil
}

func (x executions) Get(ctx context.Context, id string) (*flow.Execution, int64, error) {
	var doc []byte
	var runs [][]byte
	var version int64
	if err := x.s.pool.QueryRow(ctx, x.s.sql("execGet"), id).Scan(&doc, &version, &runs); err != nil {
		return nil, 0, fmt.Errorf("get execution %s: %w", id, translate(err))
	}
	e, err := assemble(doc, runs)
	if err != nil {
		return nil, 0, fmt.Errorf("get execution %s: %w", id, err)
	}
	return e, version, nil
}

var _ store.StepReader = executions{}

// ReadStep is ReadSteps for one execution: one round trip.
func (x executions) ReadStep(ctx context.Context, id string, withExecution bool) (store.StepInput, error) {
	in, err := queue(x).ReadSteps(ctx, []store.StepRead{{ExecutionID: id, WithExecution: withExecution}})
	if err != nil {
		return store.StepInput{}, err
	}
	if withExecution && in[0].Execution == nil {
		return store.StepInput{}, fmt.Errorf("read the step inputs of execution %s: %w", id, store.ErrNotFound)
	}
	return in[0], nil
}

func (x executions) State(ctx context.Context, id string) (flow.State, error) {
	var st string
	if err := x.s.pool.QueryRow(ctx, x.s.sql("execState"), id).Scan(&st); err != nil {
		return "", fmt.Errorf("get the state of execution %s: %w", id, translate(err))
	}
	return flow.State(st), nil
}

// Save sends the whole step as one pipelined batch, which PostgreSQL runs
// as one implicit transaction: one round trip, without BEGIN and COMMIT,
// however many jobs and subflows it carries. Its preconditions (the
// version, a free slot) are statements of the batch that raise when they
// do not hold, which rolls the whole batch back.
//
// A step that leaves its execution unended commits without waiting for the
// disk (synchronous_commit off for its transaction alone): a two-task
// execution then waits for four flushes rather than six. It is safe
// because everything such a step writes is derived again, by the next
// claim's step, from what is durable: the execution as last stored, the
// results and commands not yet acknowledged (its acknowledgements are
// lost with it) and the flow. A crash of the database can lose such a
// step only together with everything that committed after it and read it:
// a commit that waits for the disk flushes every commit before it, so the
// job result a worker stores for a job that step queued, a later step's
// end, a subflow's durable write, each makes the step durable first.
// What is lost was acknowledged to nobody: the execution's creation and
// every worker's result were durable before, and the step that ends the
// execution, which ?wait=true and the end topic report, waits for the disk
// as before. After the crash the execution is as it was before the step,
// still marked for a step (the lost step's claim is lost with it, or its
// lease runs out), and a task the lost step dispatched may run again under
// a new task run, as after any crash of a worker's database session.
// TestCrashLosesOnlyWhatIsDerivedAgain shows it on a real crash.
func (x executions) Save(ctx context.Context, p store.SaveParams) (int64, error) {
	now := utc(x.s.now())
	e := p.Execution
	r, err := toRow(e, now)
	if err != nil {
		return 0, err
	}
	b := &pgx.Batch{}
	if p.Slot != nil {
		// The lock serializes the starts of this flow across executors
		// until commit; the check then sees every start committed before.
		b.Queue(x.s.sql("execSlotLock"), e.Namespace, e.FlowID)
		b.Queue(x.s.sql("execSlotCheck"), e.Namespace, e.FlowID, e.ID, activeStates, int64(p.Slot.Limit))
	}
	lazy := !e.State.Current.IsTerminal()
	b.Queue(x.s.sql("execSave"), e.ID, p.Version, r.state, r.labels, r.doc, utcPtr(p.WakeAt), p.Owner, lazy)
	if err := x.queueSaveTaskRuns(b, e, p.Delta); err != nil {
		return 0, err
	}
	for i, j := range p.Jobs {
		b.Queue(x.s.sql("jobInsert"), j.ID, e.ID, j.TaskRunID, j.Attempt, j.Payload, now, p.FirstTurn+i)
	}
	for _, ne := range p.NewExecutions {
		if err := x.queueInsert(b, ne); err != nil {
			return 0, err
		}
	}
	if len(p.AckResults) > 0 {
		b.Queue(x.s.sql("jobAck"), p.AckResults)
	}
	if len(p.CancelJobs) > 0 {
		b.Queue(x.s.sql("jobCancelQueued"), p.CancelJobs)
		b.Queue(x.s.sql("jobCancel"), p.CancelJobs)
	}
	if len(p.AckCommands) > 0 {
		b.Queue(x.s.sql("cmdAck"), p.AckCommands)
	}
	for _, c := range p.Send {
		// a missing target inserts nothing: the execution is gone
		b.Queue(x.s.sql("cmdSendIfExists"), c.ExecutionID, c.Payload, now)
		b.Queue(x.s.sql("execMarkDirty"), c.ExecutionID)
	}
	for _, id := range p.Wake {
		b.Queue(x.s.sql("execMarkDirty"), id)
	}
	var version int64
	var dirty bool
	err = x.s.batch(ctx, b, func(br pgx.BatchResults) error {
		if p.Slot != nil {
			for range 2 {
				if _, err := br.Exec(); err != nil {
					return err
				}
			}
		}
		return br.QueryRow().Scan(&version, &dirty)
	})
	switch {
	case errors.Is(err, errNoSlot):
		return 0, fmt.Errorf("save execution %s: %w", e.ID, store.ErrNoSlot)
	case errors.Is(err, errStale):
		var exists bool
		if err := x.s.pool.QueryRow(ctx, x.s.sql("execExists"), e.ID).Scan(&exists); err != nil {
			return 0, fmt.Errorf("save execution %s: %w", e.ID, translate(err))
		}
		return 0, fmt.Errorf("save execution %s: version %d is stale: %w", e.ID, p.Version, store.ErrConflict)
	case err != nil:
		return 0, fmt.Errorf("save execution %s: %w", e.ID, err)
	}
	topics := []string{store.TopicExecution(e.ID)}
	if len(p.Jobs) > 0 {
		topics = append(topics, store.TopicJobs)
	}
	if len(p.CancelJobs) > 0 {
		topics = append(topics, store.TopicKills)
	}
	if e.State.Current.IsTerminal() {
		topics = append(topics, store.TopicExecutionEnd(e.ID))
	}
	// Work that arrived while the executor held its claim (a job result,
	// a kill) makes the execution claimable again right away.
	if len(p.NewExecutions) > 0 || len(p.Send) > 0 || len(p.Wake) > 0 || dirty {
		topics = append(topics, store.TopicExecutions)
	}
	x.s.notify(topics...)
	return version, nil
}

func (x executions) Send(ctx context.Context, c store.Command) (store.Command, error) {
	now := utc(x.s.now())
	err := x.s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, x.s.sql("execMarkDirty"), c.ExecutionID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		if err := tx.QueryRow(ctx, x.s.sql("cmdInsert"), c.ExecutionID, c.Payload, now).Scan(&c.ID); err != nil {
			return fmt.Errorf("store command: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.Command{}, fmt.Errorf("send command to execution %s: %w", c.ExecutionID, err)
	}
	c.Created = now.Truncate(time.Microsecond)
	x.s.notify(store.TopicExecutions)
	return c, nil
}

func (x executions) Commands(ctx context.Context, executionID string) ([]store.Command, error) {
	rows, err := x.s.pool.Query(ctx, x.s.sql("cmdList"), executionID)
	if err != nil {
		return nil, fmt.Errorf("list commands of execution %s: %w", executionID, err)
	}
	return scanCommands(rows, executionID)
}

// scanCommands reads cmdList's rows.
func scanCommands(rows pgx.Rows, executionID string) ([]store.Command, error) {
	defer rows.Close()
	var out []store.Command
	for rows.Next() {
		c := store.Command{ExecutionID: executionID}
		if err := rows.Scan(&c.ID, &c.Payload, &c.Created); err != nil {
			return nil, fmt.Errorf("list commands of execution %s: %w", executionID, err)
		}
		c.Created = c.Created.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list commands of execution %s: %w", executionID, err)
	}
	return out, nil
}

func (x executions) MarkDirty(ctx context.Context, id string) error {
	tag, err := x.s.pool.Exec(ctx, x.s.sql("execMarkDirty"), id)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("mark execution %s dirty: %w", id, err)
	}
	x.s.notify(store.TopicExecutions)
	return nil
}

func (x executions) Search(ctx context.Context, q store.ExecutionQuery) ([]*flow.Execution, int, error) {
	args, err := searchArgs(q)
	if err != nil {
		return nil, 0, err
	}
	limit, offset := page(q.Page, q.Size)
	rows, err := x.s.pool.Query(ctx, x.s.sql("execSearch"), append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("search executions: %w", err)
	}
	defer rows.Close()
	var out []*flow.Execution
	for rows.Next() {
		var doc []byte
		var runs [][]byte
		if err := rows.Scan(&doc, &runs); err != nil {
			return nil, 0, fmt.Errorf("search executions: %w", err)
		}
		e, err := assemble(doc, runs)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("search executions: %w", err)
	}
	var total int
	if err := x.s.pool.QueryRow(ctx, x.s.sql("execCount"), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count executions: %w", err)
	}
	return out, total, nil
}

// searchArgs binds an ExecutionQuery to execSearch's first seven
// parameters; NULL disables a filter.
func searchArgs(q store.ExecutionQuery) ([]any, error) {
	var states []string
	for _, s := range q.States {
		states = append(states, string(s))
	}
	var labels *string
	if len(q.Labels) > 0 {
		b, err := json.Marshal(q.Labels)
		if err != nil {
			return nil, fmt.Errorf("encode labels: %w", err)
		}
		v := string(b)
		labels = &v
	}
	return []any{q.Namespace, q.FlowID, states, labels, q.ParentID, utcPtr(q.From), utcPtr(q.To)}, nil
}

// activeStates are the states CountActive counts: not terminal, and past
// CREATED and QUEUED.
var activeStates = []string{string(flow.StateRunning), string(flow.StatePaused), string(flow.StateRestarted),
	string(flow.StateKilling), string(flow.StateRetrying), string(flow.StateBreakpoint)}

func (x executions) CountActive(ctx context.Context, namespace, flowID string) (int, error) {
	var n int
	if err := x.s.pool.QueryRow(ctx, x.s.sql("execCountActive"), namespace, flowID, activeStates).Scan(&n); err != nil {
		return 0, fmt.Errorf("count active executions of %s/%s: %w", namespace, flowID, err)
	}
	return n, nil
}

func (x executions) Delete(ctx context.Context, id string) error {
	err := x.s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, x.s.sql("execDelete"), id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.Exec(ctx, x.s.sql("taskRunDeleteAll"), id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, x.s.sql("jobDeleteByExecution"), id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, x.s.sql("cmdDeleteByExecution"), id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, x.s.sql("logDeleteByExecution"), id)
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
	type ref struct {
		Namespace string `json:"namespace"`
		ID        string `json:"id"`
	}
	refs := make([]ref, len(flows))
	for i, f := range flows {
		refs[i] = ref(f)
	}
	list, err := json.Marshal(refs)
	if err != nil {
		return nil, fmt.Errorf("encode flows: %w", err)
	}
	rows, err := x.s.pool.Query(ctx, x.s.sql("execLatest"), string(list))
	if err != nil {
		return nil, fmt.Errorf("latest executions: %w", err)
	}
	defer rows.Close()
	var out []*flow.Execution
	for rows.Next() {
		var doc []byte
		var runs [][]byte
		if err := rows.Scan(&doc, &runs); err != nil {
			return nil, fmt.Errorf("latest executions: %w", err)
		}
		e, err := assemble(doc, runs)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("latest executions: %w", err)
	}
	return out, nil
}

func (x executions) Daily(ctx context.Context, q store.DailyQuery) ([]store.DailyCount, error) {
	off := int64(q.Offset / time.Second)
	rows, err := x.s.pool.Query(ctx, x.s.sql("execDaily"), q.From, q.To, off, q.Namespace, q.FlowID)
	if err != nil {
		return nil, fmt.Errorf("count executions by day: %w", err)
	}
	defer rows.Close()
	var out []store.DailyCount
	for rows.Next() {
		var day int64
		var state string
		var c store.DailyCount
		if err := rows.Scan(&day, &state, &c.Count); err != nil {
			return nil, fmt.Errorf("count executions by day: %w", err)
		}
		c.State = flow.State(state)
		c.Day = time.Unix(day*86400-off, 0).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count executions by day: %w", err)
	}
	return out, nil
}
