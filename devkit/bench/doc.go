// Package bench measures Osprey the way its users meet it. It starts
// `osprey server` as a separate process on loopback (SQLite, or PostgreSQL
// with fsync on), drives it over the HTTP API from a load generator bounded
// in count and time, and reads what the server spent from outside: CPU
// seconds and peak RSS from /proc, Key Vault calls from the local Azure
// emulator. `osprey bench` runs it; docs/performance.md explains the method
// and holds the results.
//
// The scenarios follow Kestra's published benchmark: its two-task flow
// (OutputValues then Log) at fixed rates and at saturation, plus the shapes
// that stress an orchestrator: ten If tasks, ForEach over 100 to 100,000
// values, a 40-task chain, three secret() calls, and a log follow (SSE).
package bench
