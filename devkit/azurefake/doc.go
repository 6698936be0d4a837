// Package azurefake is a strict local stand-in for the Azure services
// Osprey depends on: Microsoft Entra ID's token endpoint, the service-account
// token issuer of an AKS cluster (the part that signs projected tokens for
// Workload Identity), the Key Vault secrets data plane, and the Blob Storage
// data plane (block blobs, with RBAC, Shared Key and SAS).
//
// Everything is served over HTTPS on loopback with a certificate authority
// generated at start, so Microsoft's own SDKs (azidentity, azsecrets, azblob) talk to
// it unchanged apart from their transport and authority host. Unlike
// permissive emulators it refuses what Azure refuses: federated credentials
// must match exactly, assertions are checked against the issuer's keys and
// time window, access tokens against audience, tenant and expiry, and every
// Key Vault operation against the caller's role assignments. Failures answer
// with Azure's status codes and error bodies (AADSTS codes, ForbiddenByRbac,
// ObjectIsDeletedButRecoverable, Throttled …).
//
// Tests start one with [Start]; the development command uses [New] or
// [RunDev]. Every time check reads the emulator's [Clock], which tests move
// instead of sleeping.
package azurefake
