// Package e2e holds end-to-end tests of the assembled binary's behaviour:
// the README tour against `server local`, persistence across restarts, the
// split components on PostgreSQL, and the throughput benchmark.
package e2e
