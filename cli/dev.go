package cli

import "github.com/spf13/cobra"

// devCommands returns `osprey dev …`.
func devCommands(env *Env) []*cobra.Command { return nil }
