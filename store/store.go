// Package store is the persistence seam: flows, executions, logs, trigger
// state, embedded secrets, namespaces' key-value entries and the queue that
// moves work between components.
//
// One conformance suite (storetest.Exercise) runs against every driver
// (sqlite, postgres). Drivers translate their own errors into ErrNotFound
// and ErrConflict at their boundary; callers branch only on those.
//
// Every method is safe for concurrent use. Times are stored and returned in
// UTC with at least millisecond precision.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/ospreyhq/osprey/flow"
)

// ErrNotFound is returned when the thing asked for does not exist (or is
// deleted, where the method says so).
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write loses a race or breaks uniqueness:
// a stale execution version, a flow that already exists.
var ErrConflict = errors.New("conflict")

// ErrNoSlot is returned by ExecutionStore.Save when SaveParams.Slot asked
// for a place under the flow's concurrency limit and none was free.
var ErrNoSlot = errors.New("flow concurrency limit reached")

// Store gives access to every aggregate. Close releases the connections.
type Store interface {
	Flows() FlowStore
	Executions() ExecutionStore
	Logs() LogStore
	Triggers() TriggerStore
	Queue() QueueStore
	Secrets() SecretStore
	KV() KVStore
	Files() FileStore
	Namespaces() NamespaceStore
	// Ping reports whether the database answers; readiness uses it.
	Ping(ctx context.Context) error
	Close() error
}

// FlowRecord is one stored revision of a flow. The store keeps the source
// only; callers parse it.
type FlowRecord struct {
	TenantID  string
	Namespace string
	ID        string
	Revision  int
	Source    string
	Deleted   bool
	Updated   time.Time
}

// FlowStore keeps flow revisions.
type FlowStore interface {
	// Create stores revision 1 of a new flow, or the next revision of a
	// deleted one. ErrConflict if a live flow with that id exists.
	Create(ctx context.Context, p PutFlowParams) (FlowRecord, error)
	// Update stores a new revision when the source differs from the latest
	// one and returns the latest revision either way. ErrNotFound when no
	// live flow has that id.
	Update(ctx context.Context, p PutFlowParams) (FlowRecord, error)
	// Get returns revision rev, or the latest live revision when rev is 0.
	// ErrNotFound when missing, or when rev is 0 and the flow is deleted.
	Get(ctx context.Context, namespace, id string, rev int) (FlowRecord, error)
	// Revisions lists every revision, oldest first.
	Revisions(ctx context.Context, namespace, id string) ([]FlowRecord, error)
	// Delete marks the flow deleted (a new revision with Deleted set).
	Delete(ctx context.Context, namespace, id string) error
	// Search lists latest live revisions, ordered by namespace then id.
	Search(ctx context.Context, q FlowQuery) ([]FlowRecord, int, error)
}

// PutFlowParams are the arguments of FlowStore.Create and Update.
type PutFlowParams struct {
	Namespace string
	ID        string
	Source    string
}

// FlowQuery filters FlowStore.Search. Namespace matches itself and its
// children (a.b matches a.b and a.b.c); Query is a case-insensitive
// substring of the id. Page is 1-based; Size 0 means no limit.
type FlowQuery struct {
	Namespace string
	Query     string
	Page      int
	Size      int
}

// ExecutionStore keeps executions with a version for optimistic
// concurrency: a header document (every field but the task runs) and one
// document per task run, so a step writes what it changed (SaveParams.Delta)
// rather than the whole execution. Readers always get the whole execution.
type ExecutionStore interface {
	// Create stores a new execution and marks it for the executor.
	Create(ctx context.Context, e *flow.Execution) error
	// Get returns the execution and its version.
	Get(ctx context.Context, id string) (*flow.Execution, int64, error)
	// State returns the execution's current state alone, read from its
	// indexed column: a waiter looks at it without reading every task run
	// of a wide execution. ErrNotFound when there is no such execution.
	State(ctx context.Context, id string) (flow.State, error)
	// Save writes everything one executor step produced, in one transaction:
	// the execution (ErrConflict, writing nothing, unless its stored version
	// is p.Version; only the task runs p.Delta names when it is set),
	// the jobs to enqueue, new executions (subflows), and acknowledges the
	// results the step consumed. It releases the executor's claim. When
	// p.WakeAt is set the execution becomes claimable again at that time.
	Save(ctx context.Context, p SaveParams) (int64, error)
	// MarkDirty asks the executor to look at the execution again. It bumps
	// nothing else.
	MarkDirty(ctx context.Context, id string) error
	// Send stores a command for an existing execution and marks the
	// execution dirty, in one transaction; the executor applies it in its
	// next step (Save acknowledges it). ErrNotFound when there is no such
	// execution. The store assigns ID and Created.
	Send(ctx context.Context, c Command) (Command, error)
	// Commands returns the commands of an execution not yet acknowledged,
	// oldest first.
	Commands(ctx context.Context, executionID string) ([]Command, error)
	// Search lists executions, newest first.
	Search(ctx context.Context, q ExecutionQuery) ([]*flow.Execution, int, error)
	// CountActive counts executions of a flow in a non-terminal state other
	// than CREATED and QUEUED (for flow concurrency limits).
	CountActive(ctx context.Context, namespace, flowID string) (int, error)
	// Latest returns the newest execution (by start date, then id, as
	// Search orders them) of each of the flows that has one, in one query:
	// the flow list shows a page of flows with their last state.
	Latest(ctx context.Context, flows []FlowRef) ([]*flow.Execution, error)
	// Daily counts the executions started in [q.From, q.To) by day and
	// state, in one query: the dashboard's figures and chart.
	Daily(ctx context.Context, q DailyQuery) ([]DailyCount, error)
	// Delete removes an execution, its logs, its jobs and its commands.
	Delete(ctx context.Context, id string) error
}

// StepReader is an ExecutionStore that reads what an executor step starts
// from in one read, where three would each pay for a read of their own
// (on SQLite, a transaction on a reader connection apiece). The executor
// uses it when the driver has it.
type StepReader interface {
	// ReadStep returns the execution id (when withExecution; its version
	// with it), its jobs as QueueStore.Results returns them and its
	// commands as Commands does, from one snapshot.
	ReadStep(ctx context.Context, id string, withExecution bool) (StepInput, error)
}

// StepInput is what an executor step starts from (StepReader).
type StepInput struct {
	Execution *flow.Execution
	Version   int64
	Results   []Job
	Commands  []Command
}

// Command is a change to an existing execution asked from outside the
// executor (kill, resume, restart, …). Payload is opaque to the store (an
// engine command as JSON); only the executor applies it, through the
// engine, in the transaction that saves its step.
type Command struct {
	ID          int64
	ExecutionID string
	Payload     []byte
	Created     time.Time
}

// Slot asks Save to start an execution under its flow's concurrency
// limit: the count of the flow's other active executions (as CountActive
// counts them) and the write are one transaction, so several executors
// never start more than Limit at once.
type Slot struct {
	Limit int
}

// SaveParams are the arguments of ExecutionStore.Save.
type SaveParams struct {
	Execution     *flow.Execution
	Version       int64
	Jobs          []Job
	NewExecutions []*flow.Execution
	AckResults    []string // job ids whose results were applied
	// CancelJobs are the jobs of task runs the step ended (a kill, a
	// timeout): the queued ones are removed, in bulk, the running ones
	// flagged for their workers to stop.
	CancelJobs []string
	WakeAt     *time.Time
	// Owner is the executor's claim owner; Save releases its claim.
	Owner string
	// AckCommands are the ids of the commands the step applied (or
	// refused); Save deletes them.
	AckCommands []int64
	// Send are commands for other executions (a kill cascading to
	// subflows), each marking its execution dirty; a missing target is
	// skipped.
	Send []Command
	// Wake marks other executions dirty (the parent of a subflow that
	// ended, executions queued on a concurrency slot this one freed); a
	// missing one is skipped.
	Wake []string
	// Slot, when set, makes Save fail with ErrNoSlot, writing nothing,
	// unless the flow has a free concurrency slot.
	Slot *Slot
	// FirstTurn is the turn (see ClaimJobs) of the first of Jobs, the
	// others following it: a wide fan-out created over several steps
	// numbers the jobs of each after those of the steps before, so that
	// other executions' jobs still come first.
	FirstTurn int
	// Delta, when set, lists the task runs of Execution that changed since
	// the stored version p.Version: Save writes the execution's header and
	// only those. Nil writes every task run (and drops stored ones no
	// longer in the list).
	Delta *TaskRunDelta
}

// TaskRunDelta is what one step did to an execution's task runs.
type TaskRunDelta struct {
	// Changed are the task runs created or changed, in the order of the
	// execution's list. A task run not stored yet is placed after every
	// stored one: the engine only ever appends to the list.
	Changed []*flow.TaskRun
	// Removed are the ids of stored task runs no longer in the list (a
	// restart drops the task runs of errors and finally branches).
	Removed []string
}

// ExecutionQuery filters ExecutionStore.Search. Page is 1-based; Size 0
// means no limit.
type ExecutionQuery struct {
	Namespace string // itself and children
	FlowID    string
	States    []flow.State
	Labels    []flow.Label // every label must match
	ParentID  string
	From, To  *time.Time // on the start date
	Page      int
	Size      int
}

// FlowRef names one flow (exactly its namespace, not its children).
type FlowRef struct {
	Namespace string
	ID        string
}

// DailyQuery filters ExecutionStore.Daily. Days start at midnight at
// Offset from UTC (the viewer's zone), so a chart's columns are the
// viewer's days.
type DailyQuery struct {
	From, To  time.Time // on the start date, To excluded
	Offset    time.Duration
	Namespace string // itself and children
	FlowID    string
}

// DailyCount is how many executions of one state started on one day;
// Day is the instant that day starts.
type DailyCount struct {
	Day   time.Time
	State flow.State
	Count int
}

// LogStore keeps execution log lines.
type LogStore interface {
	// Append stores entries, assigning Seq in order.
	Append(ctx context.Context, entries []flow.LogEntry) error
	// List returns entries in Seq order.
	List(ctx context.Context, q LogQuery) ([]flow.LogEntry, error)
	// DeleteByExecution removes an execution's logs.
	DeleteByExecution(ctx context.Context, executionID string) error
	// Purge removes the entries p selects, in one statement, and returns
	// how many it removed (core.log.PurgeLogs, core.execution.PurgeExecutions).
	Purge(ctx context.Context, p LogPurgeParams) (int, error)
}

// LogPurgeParams select the log entries LogStore.Purge removes; every field
// set must match. Namespace matches itself and its children, unless FlowID
// is set: then it names the flow's namespace exactly (Kestra's rule).
// Levels are TRACE, DEBUG, INFO, WARN, ERROR (none: all). From and To bound
// the entries' timestamps, both included.
type LogPurgeParams struct {
	ExecutionID string
	Namespace   string
	FlowID      string
	Levels      []string
	From, To    *time.Time
}

// LogQuery filters LogStore.List. MinLevel is TRACE, DEBUG, INFO, WARN or
// ERROR ("" means all). AfterSeq resumes a follow. Limit 0 means no limit.
type LogQuery struct {
	ExecutionID string
	TaskRunID   string
	TaskID      string
	MinLevel    string
	AfterSeq    int64
	Limit       int
}

// TriggerState is the persisted state of one flow trigger: when a schedule
// fires next, when it last fired, whether it is disabled from the API.
type TriggerState struct {
	Namespace string
	FlowID    string
	TriggerID string
	// Next is when the trigger fires next (schedules); nil when unknown.
	Next *time.Time
	// Last is when it last fired (the tick time, not the wall time).
	Last     *time.Time
	Disabled bool
	// Data is trigger-specific state (JSON), e.g. a Flow trigger's
	// multiple-condition window.
	Data    []byte
	Updated time.Time
}

// TriggerStore keeps trigger state.
type TriggerStore interface {
	Get(ctx context.Context, namespace, flowID, triggerID string) (TriggerState, error)
	List(ctx context.Context) ([]TriggerState, error)
	// Put writes the state unconditionally.
	Put(ctx context.Context, s TriggerState) error
	// Fire advances a trigger from prevNext to s.Next and creates the
	// executions in one transaction, only if the stored Next still equals
	// prevNext (nil: no stored state yet). It returns false, and writes
	// nothing, when another scheduler fired first.
	Fire(ctx context.Context, prevNext *time.Time, s TriggerState, execs []*flow.Execution) (bool, error)
	Delete(ctx context.Context, namespace, flowID, triggerID string) error
}

// JobState is where a job is in its life.
type JobState string

// Job states.
const (
	JobQueued  JobState = "QUEUED"
	JobRunning JobState = "RUNNING"
	JobDone    JobState = "DONE"
)

// Job is one attempt of one task run, handed to a worker. Payload and
// Result are opaque to the store (JSON written by the worker package).
type Job struct {
	ID          string
	ExecutionID string
	TaskRunID   string
	Attempt     int
	Payload     []byte
	State       JobState
	Owner       string
	LeaseUntil  time.Time
	Cancel      bool
	Result      []byte
	Created     time.Time
	// Lost counts the runs of this job that ended with no result: its
	// lease ran out (the worker died) or a stopping worker handed it back.
	// Each is one more attempt of the task run.
	Lost int
	// Expired counts, among them, the lease expiries: a task that keeps
	// crashing its worker is failed past a bound.
	Expired int
}

// Completion is one job's end as its worker reports it: the result, and
// the log lines of the run not stored yet.
type Completion struct {
	JobID  string
	Result []byte
	Logs   []flow.LogEntry
}

// Topics a component can wait on.
const (
	TopicExecutions = "executions" // an execution became claimable
	TopicJobs       = "jobs"       // a job was queued
	// TopicKills is woken when a Save asked workers to stop jobs
	// (SaveParams.CancelJobs): workers renew their leases and learn their
	// kills at once then, rather than at every job queued.
	TopicKills = "kills"
)

// TopicExecution is the topic of one execution: every driver wakes it
// after each saved step of that execution (a new state, task runs) and each
// batch of log lines appended to it, once committed. Waits (?wait=true) and
// follows (SSE) listen here, so they answer as soon as the change is stored
// instead of at their next poll; a waiter never sees another execution's
// wake-ups.
func TopicExecution(id string) string { return "execution:" + id }

// TopicExecutionEnd is woken, besides TopicExecution, when a saved step
// leaves execution id in a terminal state: ?wait=true listens here and
// reads the execution once, instead of at every step.
func TopicExecutionEnd(id string) string { return "execution-end:" + id }

// QueueStore moves work between the executor and the workers. Claims are
// leases: a crashed claimer's work becomes claimable again when its lease
// runs out.
type QueueStore interface {
	// ClaimExecutions claims up to limit executions that are marked dirty
	// or whose WakeAt has passed, and that no live lease holds.
	ClaimExecutions(ctx context.Context, owner string, limit int, lease time.Duration) ([]string, error)
	// ClaimJobs claims up to limit queued jobs, setting them RUNNING under
	// owner until now+lease. Jobs take turns: the i-th job one Save queued
	// comes after the first i-1 of every other Save's jobs, oldest first
	// among equals, so a step that queues thousands of jobs does not delay
	// the jobs other executions queue after it.
	ClaimJobs(ctx context.Context, owner string, limit int, lease time.Duration) ([]Job, error)
	// Heartbeat extends owner's leases on the jobs and returns those whose
	// cancellation was asked.
	Heartbeat(ctx context.Context, owner string, jobIDs []string, lease time.Duration) (cancel []string, err error)
	// Complete stores a job's result, marks it DONE and its execution
	// dirty, in one transaction. ErrConflict if owner no longer holds it.
	Complete(ctx context.Context, owner, jobID string, result []byte) error
	// CompleteAll stores the ends of several of owner's jobs in one
	// transaction, as Complete does for each, with each job's log lines
	// (stored as Append stores them): a worker's threads that finish
	// together share one commit. A job owner no longer holds is left as it
	// is, its id returned in lost (its lines are stored all the same: its
	// run happened). It wakes TopicExecutions, and each execution's topic
	// for its lines, once committed.
	CompleteAll(ctx context.Context, owner string, done []Completion) (lost []string, err error)
	// Results returns the DONE jobs of an execution not yet acknowledged;
	// a driver may leave their Payload out (the executor reads results).
	Results(ctx context.Context, executionID string) ([]Job, error)
	// RequeueExpired puts RUNNING jobs whose lease ran out back to QUEUED,
	// counting one more Lost and Expired run on each, and returns how many.
	RequeueExpired(ctx context.Context) (int, error)
	// Release hands a RUNNING job back: QUEUED at once, no owner, one more
	// Lost run. ErrConflict if owner no longer holds it.
	Release(ctx context.Context, owner, jobID string) error
	// Notify wakes the subscribers of topic (in this process and, for
	// PostgreSQL, in every process).
	Notify(ctx context.Context, topic string) error
	// Subscribe returns a channel that receives (coalesced) wake-ups for
	// topic until ctx ends.
	Subscribe(ctx context.Context, topic string) (<-chan struct{}, error)
}

// QueueStats is a snapshot of the work waiting in the queue, for metrics.
type QueueStats struct {
	JobsQueued  int
	JobsRunning int
	// OldestQueued is when the oldest queued job was queued; zero when
	// none is.
	OldestQueued time.Time
	// ExecutionsPending counts executions marked for an executor step.
	ExecutionsPending int
}

// QueueInspector is an optional interface of a QueueStore that reports its
// depth (the management port's /metrics reads it at every scrape). It must
// be cheap: it runs on partial indexes.
type QueueInspector interface {
	Stats(ctx context.Context) (QueueStats, error)
}

// StepRead asks StepBatchReader for the inputs of one execution's step:
// its results and commands, and the execution itself when WithExecution.
type StepRead struct {
	ExecutionID   string
	WithExecution bool
}

// StepBatchReader is an optional interface of a QueueStore that reads the
// inputs of several executions' steps in one round trip (an executor reads
// those of the executions one claim gave it together), each as
// StepReader.ReadStep reads them, in the order of reads; an execution
// asked for that does not exist is left nil. A driver without it is read
// one step at a time.
type StepBatchReader interface {
	ReadSteps(ctx context.Context, reads []StepRead) ([]StepInput, error)
}

// SecretRecord is one secret of the embedded backend. The store never sees
// plaintext: Ciphertext is sealed by the secrets package.
type SecretRecord struct {
	TenantID    string
	Namespace   string
	Key         string
	Ciphertext  []byte
	Description string
	Tags        map[string]string
	Updated     time.Time
}

// SecretStore keeps embedded-backend secrets.
type SecretStore interface {
	Put(ctx context.Context, r SecretRecord) error
	Get(ctx context.Context, namespace, key string) (SecretRecord, error)
	// List lists the secrets of a namespace ("" for all), by namespace, key.
	List(ctx context.Context, namespace string) ([]SecretRecord, error)
	Delete(ctx context.Context, namespace, key string) error
}

// KVRecord is one entry of a namespace's key-value store (Kestra's KV
// store): a JSON value with its Kestra type and an optional expiry.
type KVRecord struct {
	TenantID    string
	Namespace   string
	Key         string
	Type        string          // STRING, NUMBER, BOOLEAN, DATETIME, DATE, DURATION or JSON
	Value       json.RawMessage // the value as JSON
	Description string
	Expires     *time.Time // nil: never
	Created     time.Time  // kept across overwrites
	Updated     time.Time
}

// KVStore keeps namespaces' key-value entries. An entry past its expiry
// reads as absent: Get answers ErrNotFound and List leaves it out.
type KVStore interface {
	// Put creates or replaces an entry; Created and Updated are set by the
	// store.
	Put(ctx context.Context, r KVRecord) error
	Get(ctx context.Context, namespace, key string) (KVRecord, error)
	// List lists the live entries of a namespace, by key; namespace ""
	// lists every namespace's, by namespace then key.
	List(ctx context.Context, namespace string) ([]KVRecord, error)
	// Delete removes an entry; ErrNotFound when there is none (or it has
	// expired).
	Delete(ctx context.Context, namespace, key string) error
	// Purge removes the entries p selects, expired ones included, in one
	// transaction, and returns how many it removed (core.kv.PurgeKV).
	Purge(ctx context.Context, p KVPurgeParams) (int, error)
}

// KVPurgeParams select the entries KVStore.Purge removes: those of
// Namespace (and of its children with Children), only those expired at Now
// with ExpiredOnly, and among them those Match accepts (nil: all).
type KVPurgeParams struct {
	Namespace   string
	Children    bool
	ExpiredOnly bool
	Now         time.Time
	Match       func(namespace, key string) bool
}

// FileRecord is one namespace file (Kestra's namespace files): a path
// under the namespace and its content.
type FileRecord struct {
	TenantID  string
	Namespace string
	// Path is absolute and clean, "/" separated: "/scripts/etl.py".
	Path    string
	Content []byte // empty in List answers
	Size    int64
	Created time.Time // kept across overwrites
	Updated time.Time
}

// FileStore keeps namespaces' files. Directories are implied by the paths
// of the files under them.
type FileStore interface {
	// Put creates or replaces a file; Size, Created and Updated are set by
	// the store.
	Put(ctx context.Context, r FileRecord) error
	// Get returns a file with its content; ErrNotFound when there is none.
	Get(ctx context.Context, namespace, path string) (FileRecord, error)
	// List returns the files of a namespace whose path starts with prefix
	// ("" or "/" for all), by path, without their content.
	List(ctx context.Context, namespace, prefix string) ([]FileRecord, error)
	// Delete removes the files at path and under it (path/...); it
	// returns how many were removed.
	Delete(ctx context.Context, namespace, path string) (int, error)
}

// NamespaceRecord is the settings of one namespace that Osprey enforces
// (Kestra EE's Namespace): for now, which other namespaces may read its
// secrets. A namespace without a record has no restriction.
type NamespaceRecord struct {
	Namespace string
	// AllowedNamespaces lists the namespaces whose flows may read this
	// namespace's secrets by naming it (secret('K', namespace='…')).
	// Empty means no restriction, as in Kestra.
	AllowedNamespaces []string
	Updated           time.Time
}

// NamespaceStore keeps namespace settings. Safe for concurrent use.
type NamespaceStore interface {
	// Put creates or replaces the settings; Updated is set by the store.
	Put(ctx context.Context, r NamespaceRecord) error
	// Get returns the settings of a namespace, ErrNotFound when it has none.
	Get(ctx context.Context, namespace string) (NamespaceRecord, error)
	// List returns every namespace with settings, by name.
	List(ctx context.Context) ([]NamespaceRecord, error)
}
