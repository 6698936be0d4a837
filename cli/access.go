package cli

import (
	"context"
	"errors"
	"strings"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/secrets"
	"github.com/ospreyhq/osprey/store"
)

// secretAccess builds the allowedNamespaces rules of secret reads from
// the configuration and the namespaces the API restricted.
func secretAccess(cfg *config.Config, st store.Store) *secrets.Access {
	static := map[string][]string{}
	for ns, v := range cfg.Osprey.AllowedNamespaces {
		switch x := v.(type) {
		case string:
			for _, a := range strings.Split(x, ",") {
				if a = strings.TrimSpace(a); a != "" {
					static[ns] = append(static[ns], a)
				}
			}
		case []any:
			for _, a := range x {
				if s, ok := a.(string); ok && strings.TrimSpace(s) != "" {
					static[ns] = append(static[ns], strings.TrimSpace(s))
				}
			}
		}
	}
	return &secrets.Access{Static: static, Lister: func(ctx context.Context, ns string) ([]string, error) {
		r, err := st.Namespaces().Get(ctx, ns)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return r.AllowedNamespaces, err
	}}
}
