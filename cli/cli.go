// Package cli is Osprey's command line: one file per command. wire.go is
// the only place that chooses implementations (store driver, secret
// backend) from the configuration.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/spf13/cobra"

	"github.com/ospreyhq/osprey/config"
)

// Env is what a command runs with: its streams and the environment, all
// injected so tests can drive commands in-process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Environ        []string
	// AzureTransport, when set, carries Osprey's Azure requests: tests point
	// it at the local Azure emulator, a program embedding Osprey at a proxy.
	AzureTransport policy.Transporter
	// Now is the clock `osprey secrets doctor` judges token lifetimes by;
	// time.Now when nil.
	Now func() time.Time

	configFiles []string
	logLevel    string
}

// usageError is an error whose message already says how to fix the call.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// exitError carries a specific exit code (1 for "checked and found bad").
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	return Run(ctx, &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Environ: environ}, args)
}

// Run runs the command line with env and returns the process exit code.
func Run(ctx context.Context, env *Env, args []string) int {
	stderr := env.Stderr
	root := newRoot(env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(stderr, "Error:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "Error:", err)
	var ue *usageError
	if errors.As(err, &ue) || strings.Contains(err.Error(), "unknown command") || strings.Contains(err.Error(), "flag") {
		return 2
	}
	return 1
}

func newRoot(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "osprey",
		Short:         "Osprey runs Kestra flows, with secrets in Azure Key Vault",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringArrayVarP(&env.configFiles, "config", "c", nil, "configuration file in Kestra's format (repeatable; later files win)")
	root.PersistentFlags().StringVar(&env.logLevel, "log-level", "INFO", "log level: TRACE, DEBUG, INFO, WARN or ERROR")
	root.AddCommand(newServerCmd(env), newFlowCmd(env), newVersionCmd(env), newConfigsCmd(env))
	root.AddCommand(extraCommands(env)...)
	return root
}

// loadConfig loads the configuration from the flags and environment;
// overrides come from command flags (e.g. --port).
func (env *Env) loadConfig(ctx context.Context, overrides map[string]string) (*config.Config, []config.Warning, error) {
	cfg, warns, err := config.Load(ctx, config.Sources{Files: env.configFiles, Env: env.Environ, Overrides: overrides})
	if err != nil {
		return nil, warns, err
	}
	return cfg, warns, nil
}

// logger returns the process logger at the chosen level, as text on stderr.
func (env *Env) logger() (*slog.Logger, error) {
	var lvl slog.Level
	switch strings.ToUpper(env.logLevel) {
	case "TRACE", "DEBUG":
		lvl = slog.LevelDebug
	case "INFO", "":
		lvl = slog.LevelInfo
	case "WARN", "WARNING":
		lvl = slog.LevelWarn
	case "ERROR":
		lvl = slog.LevelError
	default:
		return nil, &usageError{fmt.Sprintf("--log-level %q: use TRACE, DEBUG, INFO, WARN or ERROR", env.logLevel)}
	}
	return slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: lvl})), nil
}

// Version is the binary's version, from the build information.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += "+" + s.Value[:12]
		}
	}
	return v
}

func newVersionCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print Osprey's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(env.Stdout, "osprey %s\n", Version())
			return err
		},
	}
}

func newConfigsCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "configs", Short: "Inspect the configuration"}
	var sources bool
	props := &cobra.Command{
		Use:   "properties",
		Short: "Print the effective configuration (secrets as ******)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, warns, err := env.loadConfig(cmd.Context(), nil)
			for _, w := range warns {
				fmt.Fprintln(env.Stderr, "warning:", w.String())
			}
			if err != nil {
				return err
			}
			return cfg.WriteProperties(env.Stdout, sources)
		},
	}
	props.Flags().BoolVar(&sources, "sources", false, "show where each value comes from")
	c.AddCommand(props)
	return c
}
