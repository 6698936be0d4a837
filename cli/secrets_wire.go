package cli

import (
	"context"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/render"
)

// newSecrets is the one switch over secret backends.
func newSecrets(_ context.Context, a *app) (render.Secrets, error) {
	raw := a.cfg.Secret.Env.Encoding == "raw"
	switch a.cfg.Secret.Type {
	case config.SecretEnv, "":
		return newEnvSecrets(a.environ, raw, a.log), nil
	default:
		return newEnvSecrets(a.environ, raw, a.log), nil
	}
}
