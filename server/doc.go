// Package server is Osprey's HTTP face: the Kestra-compatible REST API
// (flows, executions, logs, server-sent events) under /api/v1/main/ and the
// un-tenanted /api/v1/ alias, and the management server (health probes and
// Prometheus metrics) on its own port.
//
// Kestra clients, the Kestra Terraform provider and scripts written against
// Kestra's API must work unchanged, so paths, status codes and JSON field
// names follow Kestra's. Errors are the exception: every error has one shape,
// {"message": "...", "details": [{"path", "line", "column", "message"}]},
// because a flow author needs the line and column of each problem.
//
// The server depends on three injected things: a store.Store, a flow parser
// and a Runner that starts and kills executions. It owns no engine logic.
package server
