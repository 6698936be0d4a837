package azurefake

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// secretState is where a secret name is in Key Vault's soft-delete cycle.
type secretState int

const (
	stateActive     secretState = iota
	stateDeleting               // DELETE accepted, not yet completed
	stateDeleted                // soft-deleted: recoverable or purgeable
	stateRecovering             // recover accepted, not yet completed
	statePurging                // purge accepted, not yet completed
)

type secretVersion struct {
	version     string
	value       string
	contentType *string
	tags        map[string]string
	enabled     bool
	nbf, exp    *int64
	created     int64
	updated     int64
}

type secretEntry struct {
	name      string // as first created; lookups ignore case
	versions  []*secretVersion
	state     secretState
	deletedAt time.Time
	purgeAt   time.Time // scheduled purge date
	readyAt   time.Time // when a pending delete/recover/purge completes
}

func newVersionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *secretEntry) latest() *secretVersion { return s.versions[len(s.versions)-1] }

func (s *secretEntry) version(id string) *secretVersion {
	if id == "" {
		return s.latest()
	}
	for _, v := range s.versions {
		if v.version == id {
			return v
		}
	}
	return nil
}

// lookup returns the entry for a name after applying every transition that
// became due on the clock; purged entries disappear. Callers hold v.mu.
func (v *Vault) lookup(name string, now time.Time) *secretEntry {
	key := lower(name)
	s := v.secrets[key]
	if s == nil {
		return nil
	}
	if v.settle(key, s, now) {
		return nil
	}
	return s
}

// settle moves a secret along its soft-delete cycle; it reports whether the
// entry was purged. Callers hold v.mu.
func (v *Vault) settle(key string, s *secretEntry, now time.Time) bool {
	pending := !s.readyAt.IsZero() && !now.Before(s.readyAt)
	switch {
	case s.state == stateDeleting && pending:
		s.state, s.readyAt = stateDeleted, time.Time{}
	case s.state == stateRecovering && pending:
		s.state, s.readyAt = stateActive, time.Time{}
	case s.state == statePurging && pending:
		delete(v.secrets, key)
		return true
	}
	if s.state == stateDeleted && !now.Before(s.purgeAt) {
		delete(v.secrets, key)
		return true
	}
	return false
}
