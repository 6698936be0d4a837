package cli

import (
	"github.com/spf13/cobra"

	"github.com/ospreyhq/osprey/server"
)

// secretsCommands returns `osprey secrets …`.
func secretsCommands(env *Env) []*cobra.Command { return nil }

// mountSecretRoutes adds the secrets API.
func (a *app) mountSecretRoutes(srv *server.Server) {}
