// Package archtest holds the tests that keep docs/ARCHITECTURE.md true:
// the import directions between packages, and that only the executor
// (through the engine) writes an existing execution's state.
package archtest
