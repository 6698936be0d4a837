// Package config loads Osprey's configuration, written in Kestra's format.
//
// Kestra users bring their application.yml (Micronaut-style YAML: `kestra.*`,
// `datasources.*`, `micronaut.*`, `endpoints.*`) and their environment
// variables; Osprey reads both unchanged so a migration is a binary swap, not
// a rewrite. Load layers, from lowest to highest precedence:
//
//  1. built-in defaults (Default),
//  2. YAML files (MICRONAUT_CONFIG_FILES, then OSPREY_CONFIG_FILES, then the
//     -c flags, each comma-separated list in order; later wins),
//  3. the YAML document held by KESTRA_CONFIGURATION,
//  4. relaxed-binding environment variables (KESTRA_SECRET_TYPE,
//     DATASOURCES_POSTGRES_URL, MICRONAUT_SERVER_PORT, …),
//  5. explicit overrides from command-line flags (Sources.Overrides).
//
// Keys match in kebab-case and camelCase alike and are kept in kebab-case.
// Scalar values may hold ${NAME} or ${NAME:default} placeholders, expanded
// from the environment. Unknown keys under the sections Osprey reads are
// reported with a "did you mean" suggestion; sections Osprey does not read
// (logger, jackson, …) are ignored. Every problem is reported with its key,
// and with the file and line it came from when there is one.
//
// Values that must never be printed (passwords, client secrets, keys) are
// held in Secret, which redacts itself in every output format.
//
// The environment is injected through Sources, never read from the process,
// so loading is deterministic and tests are hermetic.
package config
