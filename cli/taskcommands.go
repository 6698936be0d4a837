package cli

import (
	"context"

	"github.com/ospreyhq/osprey/launch"
	"github.com/ospreyhq/osprey/worker"
)

// taskCommands lets a worker's tasks send commands to other executions
// through the launcher: checked against the stored execution, stored with
// ExecutionStore.Send, applied by the executor, exactly as the API's.
type taskCommands struct{ l *launch.Launcher }

var _ worker.Commands = taskCommands{}

// Resume implements worker.Commands.
func (c taskCommands) Resume(ctx context.Context, id string, inputs map[string]any) error {
	_, err := c.l.Resume(ctx, id, inputs)
	return err
}
