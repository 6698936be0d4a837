// Package engine is Osprey's executor logic as a pure state machine: given a
// flow, an execution and what happened since the last step (worker results,
// subflow outcomes, the clock), Advance moves the execution forward in
// memory and returns the effects for the caller to persist in one
// transaction — task runs to dispatch to workers, subflow executions to
// create, when to look again.
//
// Changes asked from outside (kill, resume, restart, change-status, pause,
// force-run) arrive as Commands, which Apply carries out in the same step,
// before Advance: the executor running the engine is the only writer of an
// execution's state. Replay builds the new execution a replay starts.
//
// The engine does no I/O. Flowable tasks (Sequential, Parallel, If, ForEach,
// Pause, Subflow, …) are supplied by a Types registry and decide their
// children through a Scope; runnable tasks are dispatched. Expressions are
// rendered through an injected Renderer so tests need neither a database nor
// goroutines.
package engine
