// Package flow holds Osprey's leaf model: flows as Kestra writes them in
// YAML, executions, task runs, states and log entries, with JSON shapes that
// match Kestra's API so that Kestra clients and tests read them unchanged.
//
// flow imports nothing else of Osprey's: every other package may import it.
package flow
