package taskidentity

import (
	"fmt"
	"slices"
	"strings"
)

// ConfigKey is the configuration key that allows audiences per namespace.
const ConfigKey = "osprey.task-identity.audiences"

// Policy is which audiences each namespace's tasks may get tokens for:
// namespace → audiences. A namespace is allowed what it lists and what
// its parent namespaces list (company.team gets company's audiences), as
// secrets are inherited.
type Policy map[string][]string

// ParsePolicy reads the configuration's value (namespace → a list of
// audiences, or comma-separated text), naming the key of a bad entry.
func ParsePolicy(raw map[string]any) (Policy, error) {
	p := Policy{}
	for ns, v := range raw {
		var list []string
		switch x := v.(type) {
		case string:
			list = strings.Split(x, ",")
		case []any:
			for _, a := range x {
				s, ok := a.(string)
				if !ok {
					return nil, fmt.Errorf("%s.%s: %v is not an audience; write a list of URIs such as [https://storage.azure.com]", ConfigKey, ns, a)
				}
				list = append(list, s)
			}
		default:
			return nil, fmt.Errorf("%s.%s: must be a list of audiences such as [https://storage.azure.com]", ConfigKey, ns)
		}
		for _, a := range list {
			if a = normalize(a); a != "" {
				if !strings.HasPrefix(a, "https://") && !strings.HasPrefix(a, "api://") {
					return nil, fmt.Errorf("%s.%s: %q is not an audience; write the resource URI, e.g. https://storage.azure.com or https://vault.azure.net", ConfigKey, ns, a)
				}
				p[ns] = append(p[ns], a)
			}
		}
	}
	return p, nil
}

// Empty reports whether no namespace is allowed anything.
func (p Policy) Empty() bool {
	for _, l := range p {
		if len(l) > 0 {
			return false
		}
	}
	return true
}

// Allows reports whether namespace ns may get tokens for audience, and
// which namespace's entry allows it.
func (p Policy) Allows(ns, audience string) (by string, ok bool) {
	audience = normalize(audience)
	for n := ns; n != ""; n = parent(n) {
		if slices.ContainsFunc(p[n], func(a string) bool { return normalize(a) == audience }) {
			return n, true
		}
	}
	return "", false
}

// Allowed lists the audiences ns may get, its own and its parents'.
func (p Policy) Allowed(ns string) []string {
	var out []string
	for n := ns; n != ""; n = parent(n) {
		for _, a := range p[n] {
			if a = normalize(a); !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return out
}

func parent(ns string) string {
	i := strings.LastIndexByte(ns, '.')
	if i < 0 {
		return ""
	}
	return ns[:i]
}

// normalize makes https://Storage.azure.com/ and https://storage.azure.com
// one audience: Azure treats a resource with and without its trailing
// slash alike, and hosts are case-insensitive.
func normalize(a string) string {
	a = strings.TrimSpace(a)
	a = strings.TrimSuffix(a, "/.default")
	a = strings.TrimRight(a, "/")
	if scheme, rest, ok := strings.Cut(a, "://"); ok {
		host, path, _ := strings.Cut(rest, "/")
		a = strings.ToLower(scheme) + "://" + strings.ToLower(host)
		if path != "" {
			a += "/" + path
		}
	}
	return a
}
