// Package secrets resolves secret('KEY') values for flows and manages them
// for the API and the CLI.
//
// A [Backend] holds values per exact (namespace, key); a read-write backend
// also implements [Writer]. The [Manager] wraps one backend with what every
// backend needs and none should repeat: namespace inheritance (a.b.c, then
// a.b, then a, then the global namespace ""), a TTL- and size-bounded cache,
// coalescing of concurrent misses for one key, a short negative cache, an
// index of which (namespace, key) pairs exist so that climbing parents costs
// at most one backend read once warm, and a client-side rate limiter that
// keeps bursts under a remote vault's service limit.
//
// The backends live in subpackages (env, embedded, azurekv) and are chosen
// in one place, the CLI's wiring. secretstest holds the conformance suite
// every backend passes.
package secrets
