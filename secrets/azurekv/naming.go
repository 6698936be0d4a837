package azurekv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Tags Osprey writes on every vault secret it creates. A secret without
// ManagedByTag=ManagedByValue was not created by Osprey and is never
// modified or deleted by it.
const (
	TagNamespace   = "namespace"
	TagKey         = "key"
	TagTenant      = "tenant"
	TagPrefix      = "prefix"
	TagDescription = "description"
	ManagedByTag   = "managed-by"
	ManagedByValue = "osprey"
)

// reserved tags cannot be set by users through the API.
var reserved = map[string]bool{TagNamespace: true, TagKey: true, TagTenant: true, TagPrefix: true, TagDescription: true, ManagedByTag: true}

// maxName is Key Vault's limit on secret names.
const maxName = 127

// hashLen is the number of hex digits of the disambiguating hash: 48 bits,
// so two (namespace, key) pairs share a name with probability ~2^-48.
const hashLen = 12

var (
	validName  = regexp.MustCompile(`^[0-9a-zA-Z-]{1,127}$`)
	notAllowed = regexp.MustCompile(`[^0-9a-zA-Z]+`)
)

// Name maps a Kestra (namespace, key) onto a Key Vault secret name:
//
//	<prefix><namespace>--<key>--<hash>
//
// where dots and other characters Key Vault refuses become "-", the global
// namespace reads "global", and hash is the first 12 hex digits of
// SHA-256(namespace NUL key) over the exact, case-sensitive pair. Key Vault
// names allow only [0-9a-zA-Z-] and compare case-insensitively, so the
// readable part alone could collide (a.b and a_b; KEY and key); the hash
// keeps distinct pairs apart, and the readable part is shortened when
// needed so the whole name fits 127 characters. Example:
// company.team + DB_PASSWORD → company-team--DB-PASSWORD--1f0c3a9e4b27.
// The tags carry the exact namespace and key, so nothing needs decoding.
func Name(prefix, namespace, key string) string {
	sum := sha256.Sum256([]byte(namespace + "\x00" + key))
	hash := hex.EncodeToString(sum[:])[:hashLen]
	ns := namespace
	if ns == "" {
		ns = "global"
	}
	readable := clean(ns) + "--" + clean(key)
	room := maxName - len(prefix) - 2 - hashLen
	if len(readable) > room {
		readable = strings.TrimRight(readable[:max(room, 0)], "-")
	}
	return prefix + readable + "--" + hash
}

func clean(s string) string {
	s = strings.Trim(notAllowed.ReplaceAllString(s, "-"), "-")
	if s == "" {
		return "x"
	}
	return s
}

// checkPrefix validates a configured prefix: it must leave room for a name.
func checkPrefix(p string) error {
	if p == "" {
		return nil
	}
	if !validName.MatchString(p) || len(p) > 64 {
		return fmt.Errorf("kestra.secret.azure-key-vault.prefix %q: use up to 64 letters, digits and hyphens (Key Vault secret names allow nothing else)", p)
	}
	return nil
}

// externalKey turns a vault secret name found by discovery into a Kestra
// key: the filter prefix removed unless kept, hyphens read as underscores
// and upper-cased, so DB-PASSWORD is secret('DB_PASSWORD').
func externalKey(name, filterPrefix string, keepPrefix bool) string {
	if !keepPrefix && filterPrefix != "" && len(name) > len(filterPrefix) && strings.EqualFold(name[:len(filterPrefix)], filterPrefix) {
		name = name[len(filterPrefix):]
	}
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}
