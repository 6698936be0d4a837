package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors callers branch on. Backends translate their own failures
// into these at their boundary.
var (
	// ErrNotFound: no secret with that key in that namespace.
	ErrNotFound = errors.New("secret not found")
	// ErrReadOnly: the backend or the configuration forbids writes.
	ErrReadOnly = errors.New("secrets are read-only")
	// ErrForbidden: the backend refused the operation for lack of a
	// permission; the wrapping error names the role to grant.
	ErrForbidden = errors.New("permission denied by the secret backend")
	// ErrConflict: the write collides with something the backend will not
	// overwrite (a soft-deleted name that may not be recovered, a vault
	// secret Osprey did not create).
	ErrConflict = errors.New("secret conflict")
	// ErrUnavailable: the backend could not be reached or kept failing.
	ErrUnavailable = errors.New("secret backend unavailable")
	// ErrInvalid: the write itself is refused (too large, too many tags);
	// the wrapping error names the limit.
	ErrInvalid = errors.New("secret refused")
)

// Limits every backend applies, so a secret written on a laptop (embedded)
// can move to Azure Key Vault unchanged: they are Key Vault's.
const (
	// MaxValueBytes is Key Vault's limit on a secret value (25 KB).
	MaxValueBytes = 25 * 1024
	// MaxUserTags is how many tags of yours a secret holds: Key Vault
	// allows 15 per secret and Osprey keeps 6 for its bookkeeping
	// (namespace, key, tenant, prefix, managed-by, description).
	MaxUserTags = 9
)

// checkWrite applies the limits above to a value (nil: unchanged) and tags.
func checkWrite(value *string, tags map[string]string) error {
	if value != nil && len(*value) > MaxValueBytes {
		return fmt.Errorf("%w: the value is %d bytes; the limit is %d bytes (25 KB, Key Vault's): store a larger payload elsewhere (a namespace file, a blob) and keep its credential here",
			ErrInvalid, len(*value), MaxValueBytes)
	}
	if len(tags) > MaxUserTags {
		return fmt.Errorf("%w: %d tags; a secret holds at most %d of yours (Key Vault allows 15 per secret and Osprey keeps 6)", ErrInvalid, len(tags), MaxUserTags)
	}
	return nil
}

// Meta describes a secret without its value. No API returns more.
type Meta struct {
	Namespace   string
	Key         string
	Description string
	Tags        map[string]string
	Updated     time.Time
}

// Backend stores secret values per exact namespace; it never climbs to
// parent namespaces (the Manager does). Implementations are safe for
// concurrent use.
type Backend interface {
	// Get returns the value of key in exactly namespace ("" is the global
	// namespace visible to every flow). A missing secret is an error
	// matching ErrNotFound.
	Get(ctx context.Context, namespace, key string) (string, error)
	// List returns the metadata of the secrets of namespace, or of every
	// namespace when namespace is "*". It never returns values.
	List(ctx context.Context, namespace string) ([]Meta, error)
}

// AllNamespaces asks List for every namespace.
const AllNamespaces = "*"

// PutParams creates a secret or writes a new version of it.
type PutParams struct {
	Namespace   string
	Key         string
	Value       string
	Description string
	Tags        map[string]string
}

// PatchParams changes a secret's description or tags; nil fields are kept.
type PatchParams struct {
	Namespace   string
	Key         string
	Description *string
	Tags        map[string]string
}

// Writer is implemented by backends that can change secrets. A read-only
// backend simply does not implement it.
type Writer interface {
	// Put creates key in namespace or writes a new version of its value.
	Put(ctx context.Context, p PutParams) error
	// Patch updates description and tags; ErrNotFound when missing.
	Patch(ctx context.Context, p PatchParams) error
	// Delete removes the secret (softly where the backend supports it);
	// ErrNotFound when missing.
	Delete(ctx context.Context, namespace, key string) error
}

// KeyCanonicalizer is implemented by backends whose keys are not
// case-sensitive as written (env variables are upper-cased): the Manager
// canonicalizes keys before looking them up.
type KeyCanonicalizer interface {
	CanonicalKey(key string) string
}

// Chain returns the namespaces searched for a secret of namespace, nearest
// first: a.b.c, a.b, a, then the global namespace "".
func Chain(namespace string) []string {
	var out []string
	for ns := namespace; ns != ""; {
		out = append(out, ns)
		i := strings.LastIndexByte(ns, '.')
		if i < 0 {
			break
		}
		ns = ns[:i]
	}
	return append(out, "")
}

// NotFoundError reports a secret missing from a namespace and every parent.
// It names the key and the namespaces searched, never a value.
type NotFoundError struct {
	Key      string
	Searched []string
}

func (e *NotFoundError) Error() string {
	var named []string
	for _, ns := range e.Searched {
		if ns == "" {
			named = append(named, "the global namespace")
		} else {
			named = append(named, ns)
		}
	}
	if len(named) == 0 {
		return fmt.Sprintf("secret '%s' not found", e.Key)
	}
	if len(named) == 1 {
		return fmt.Sprintf("secret '%s' not found in %s", e.Key, named[0])
	}
	return fmt.Sprintf("secret '%s' not found in namespace %s or its parents (%s)", e.Key, named[0], strings.Join(named[1:], ", "))
}

// Unwrap makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }
