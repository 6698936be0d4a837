// Package files is the end-to-end test of flows' files on Azure Blob
// Storage through Workload Identity: Osprey runs in-process as in a pod
// (the webhook's AZURE_* variables, internal storage in a Blob container)
// against the local Azure emulator, and a flow takes a FILE input,
// transforms it in a shell task, uploads, lists and downloads it with the
// Blob tasks — with no credential in the configuration or the flow, and
// none anywhere in what Osprey writes.
package files
