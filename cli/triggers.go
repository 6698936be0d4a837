package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/server"
)

// conformanceCommands returns `osprey conformance`.
func conformanceCommands(env *Env) []*cobra.Command { return nil }

// mountTriggerRoutes adds webhook and trigger routes.
func (a *app) mountTriggerRoutes(srv *server.Server) {}

// onExecutionEnd is called by the executor when an execution ends (flow
// triggers listen here).
func (a *app) onExecutionEnd(ctx context.Context, ex *flow.Execution) {}

// newScheduler returns the scheduler component.
func (a *app) newScheduler() component { return idle{} }

// idle is a component with nothing to do yet.
type idle struct{}

func (idle) Start(context.Context) error { return nil }
func (idle) Stop(context.Context) error  { return nil }
