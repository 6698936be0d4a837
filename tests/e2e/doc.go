// Package e2e holds end-to-end tests of the assembled binary's behaviour:
// the README tour against `server local`, persistence across restarts, the
// split components on PostgreSQL, the fault tests (components killed with
// SIGKILL, PostgreSQL restarted, two executors and two schedulers at once;
// faults_test.go, on the harness in tests/e2e/cluster) and the throughput
// benchmark. The soak benchmark is the program tests/e2e/soak.
package e2e
