// Package secrets is the end-to-end test of Osprey's secrets with Azure Key
// Vault through Workload Identity: Osprey runs in-process exactly as in a
// pod (the webhook's four AZURE_* variables, Kestra's guide YAML) against
// the local Azure emulator, and the tests prove what a user sees — the
// value in the vault with its tags, flows reading it through inheritance,
// ****** everywhere it could surface, and one token exchange and one vault
// read for many executions.
package secrets
