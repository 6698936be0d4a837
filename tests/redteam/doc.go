// Package redteam tries, as a flow author would, to get secret values out
// of Osprey through every channel a flow has (logs, outputs, labels, flow
// outputs, KV, subflow and Flow-trigger inputs, error messages, shell
// output) and every transform the expression engine and a shell offer,
// then scans everything Osprey returned or wrote — API responses, SSE
// streams, the SQLite database and its WAL, the server's own output — for
// the values in every form docs/security.md promises to mask. It also
// sends the denial-of-service inputs docs/security.md lists and checks
// that each ends in a clear refusal or a failed task while the server
// stays within its memory budget and other executions finish. The tests
// live in the _test.go files; the server runs as a subprocess (the test
// binary re-executed) so that its peak memory can be read from /proc.
package redteam
