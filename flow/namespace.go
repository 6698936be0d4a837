package flow

import (
	"errors"
	"fmt"
	"regexp"
)

// MaxNamespace bounds a namespace's length, as Kestra does.
const MaxNamespace = 150

// MaxKey bounds the length of a KV key and of a secret key, the same for
// both: Key Vault's own names stop at 127 characters, so a longer Osprey
// key is stored under a hashed name, and nothing useful needs more than
// 255.
const MaxKey = 255

// namespaceRE is Kestra's namespace rule (lower-case letters, digits, '.',
// '_' and '-', starting with a letter or digit), with no empty part: a
// namespace is a path of parents (a.b is under a), so "a..b" and "a." name
// nothing.
var namespaceRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*(\.[a-z0-9_-]+)*$`)

// CheckNamespace reports a namespace Osprey refuses. It is the one rule for
// every place a namespace comes in: flows, and the API's KV, file, secret,
// execution and trigger routes.
func CheckNamespace(ns string) error {
	switch {
	case ns == "":
		return errors.New("the namespace must not be empty")
	case len(ns) > MaxNamespace:
		return fmt.Errorf("the namespace is %d characters; the limit is %d", len(ns), MaxNamespace)
	case !namespaceRE.MatchString(ns):
		return fmt.Errorf("namespace %q must be dot-separated parts of lower-case letters, digits, '_' and '-', starting with a letter or digit (e.g. company.team)", ns)
	}
	return nil
}
