package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/tasks"
)

func newFlowCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "flow", Short: "Work with flow files"}
	c.AddCommand(&cobra.Command{
		Use:   "validate FILE...",
		Short: "Check flow files; print every problem with its line and column",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			parse := parser(tasks.New())
			bad := 0
			for _, path := range args {
				src, err := os.ReadFile(path)
				if err != nil {
					return fmt.Errorf("read %s: %w", path, err)
				}
				f, err := parse(src)
				var errs flow.Errors
				switch {
				case errors.As(err, &errs):
					bad++
					for _, e := range errs {
						fmt.Fprintf(env.Stdout, "%s:%s\n", path, e.Error())
					}
				case err != nil:
					bad++
					fmt.Fprintf(env.Stdout, "%s: %v\n", path, err)
				default:
					fmt.Fprintf(env.Stdout, "%s: ok (%s.%s, %d tasks)\n", path, f.Namespace, f.ID, len(f.AllTasks()))
				}
			}
			if bad > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d files are invalid", bad, len(args))}
			}
			return nil
		},
	})
	return c
}

// parser returns the flow parser that checks types against reg.
func parser(reg *tasks.Registry) func([]byte) (*flow.Flow, error) {
	return func(src []byte) (*flow.Flow, error) {
		return flow.Parse(src, flow.ParseOptions{Types: reg})
	}
}
