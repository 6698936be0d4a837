// Package taskidentity is the end-to-end test of Azure for scripts: Osprey
// runs in-process as in a pod with workload identity (the webhook's
// AZURE_* variables and a projected token file) against the local Azure
// emulator, and a shell task runs a Go program that reaches Blob Storage
// and Key Vault with the official SDK's ManagedIdentityCredential through
// the task's own identity endpoint, never through the pod's federated
// token.
package taskidentity
