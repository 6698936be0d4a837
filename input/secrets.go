package input

import (
	"fmt"
	"reflect"

	"github.com/ospreyhq/osprey/mask"
)

// SealSecrets replaces every input whose value holds a secret m has learnt
// (an input rendered from secret(): a trigger's or a Subflow's inputs) by
// its sealed form, so the execution is stored without the secret in clear;
// the worker opens it in memory for the tasks. Only text can be sealed: a
// secret inside a list or map is refused, and so is any secret when there
// is no key (wrap nil).
func SealSecrets(m *mask.Masker, inputs map[string]any, wrap func(string) map[string]any) error {
	if m == nil || m.Empty() {
		return nil
	}
	for k, v := range inputs {
		if reflect.DeepEqual(m.Value(v), v) {
			continue // holds no secret
		}
		s, isText := v.(string)
		switch {
		case !isText:
			return fmt.Errorf("input %q holds a secret inside a %T; only text inputs can carry a secret: pass the secret as an input of its own, or call secret() in the flow's tasks", k, v)
		case wrap == nil:
			return fmt.Errorf("input %q holds a secret: set kestra.encryption.secret-key (32+ characters) so Osprey can store it encrypted, or call secret() in the flow's tasks", k)
		}
		inputs[k] = wrap(s)
	}
	return nil
}
