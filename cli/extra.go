package cli

import (
	"github.com/spf13/cobra"

	"github.com/ospreyhq/osprey/server"
)

// extraCommands lists the commands beyond server, flow, version, configs;
// each family lives in its own file.
func extraCommands(env *Env) []*cobra.Command {
	var out []*cobra.Command
	out = append(out, secretsCommands(env)...)
	out = append(out, devCommands(env)...)
	out = append(out, conformanceCmds(env)...)
	out = append(out, benchCommands(env)...)
	return out
}

// mountExtraRoutes adds API routes served by other packages.
func (a *app) mountExtraRoutes(srv *server.Server) {
	a.mountSecretRoutes(srv)
}
