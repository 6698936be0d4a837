package secrets

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrDenied is matched by the error of a secret read that a namespace's
// allowedNamespaces forbids.
var ErrDenied = errors.New("secret read denied")

// Access is Kestra EE's allowedNamespaces for secret reads: a namespace
// may list the namespaces whose flows can read its secrets by naming it
// (secret('K', namespace='owner')). Rules come from the configuration
// (osprey.secret.allowed-namespaces) and from the API (Lister); a
// namespace with no rule, in either, is readable from everywhere, as in
// Kestra. A rule covers the namespace's children that have none of their
// own. A flow may always read its own namespace and its parents (secret
// inheritance does so anyway), and an allowed namespace admits its
// children too.
type Access struct {
	// Static holds the configured rules: namespace → allowed namespaces.
	Static map[string][]string
	// Lister returns the rule set through the API for a namespace (nil,
	// nil when there is none). Optional.
	Lister func(ctx context.Context, namespace string) ([]string, error)
}

// CheckRead reports whether flows of namespace reader may read the
// secrets of namespace owner. A refusal names both namespaces and nothing
// else: not the key, not whether it exists.
func (a *Access) CheckRead(ctx context.Context, owner, reader string) error {
	if a == nil || within(reader, owner) {
		return nil
	}
	for ns := owner; ns != ""; ns = parent(ns) {
		allowed, err := a.rule(ctx, ns)
		if err != nil {
			return fmt.Errorf("read the allowed namespaces of %s: %w", ns, err)
		}
		if len(allowed) == 0 {
			continue
		}
		if slices.ContainsFunc(allowed, func(a string) bool { return within(reader, a) }) {
			return nil
		}
		return fmt.Errorf("%w: namespace %s does not allow namespace %s to read its secrets (allowedNamespaces)", ErrDenied, owner, reader)
	}
	return nil
}

// rule is the union of the configured and the API's rule for ns.
func (a *Access) rule(ctx context.Context, ns string) ([]string, error) {
	out := a.Static[ns]
	if a.Lister != nil {
		more, err := a.Lister(ctx, ns)
		if err != nil {
			return nil, err
		}
		out = append(slices.Clone(out), more...)
	}
	return out, nil
}

// within reports whether ns is base or one of its children.
func within(ns, base string) bool {
	return ns == base || strings.HasPrefix(ns, base+".")
}

func parent(ns string) string {
	if i := strings.LastIndexByte(ns, '.'); i >= 0 {
		return ns[:i]
	}
	return ""
}
