// Package tasks holds Kestra's core task, trigger and condition types as
// Osprey implements them: runnable tasks that a worker runs (Log, Return,
// OutputValues, Fail, …) and flowable tasks whose children the executor
// schedules (Sequential, Parallel, If, Switch, ForEach, Subflow, Pause, …).
//
// Registry maps every type name, legacy io.kestra.core.tasks.* aliases
// included, to its implementation; it is the engine's Types, the worker's
// task source and the flow parser's TypeChecker.
package tasks
