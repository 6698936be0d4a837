// Package archtest holds the test that keeps the import directions written
// in docs/ARCHITECTURE.md true.
package archtest
