package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/secrets"
	"github.com/ospreyhq/osprey/secrets/azurekv"
	"github.com/ospreyhq/osprey/server"
	"github.com/ospreyhq/osprey/store"
)

// mountSecretRoutes adds the secrets API.
func (a *app) mountSecretRoutes(srv *server.Server) {
	if m, ok := a.renderer.Secrets.(*secrets.Manager); ok {
		srv.MountSecretsOf(m, secretBackend(a.cfg.Secret))
	}
}

// secretBackend names the secret backend for the UI: its type and, for
// Azure Key Vault, the vault's URL.
func secretBackend(sc config.SecretManager) server.SecretBackend {
	b := server.SecretBackend{Type: sc.Type}
	if b.Type == "" {
		b.Type = config.SecretEmbedded
	}
	if sc.Type == config.SecretAzureKeyVault {
		b.Location = sc.Azure.KeyVaultURI
		if b.Location == "" && sc.Azure.VaultName != "" {
			b.Location = "https://" + sc.Azure.VaultName + ".vault.azure.net"
		}
	}
	return b
}

// secretsCommands returns `osprey secrets …`.
func secretsCommands(env *Env) []*cobra.Command {
	c := &cobra.Command{Use: "secrets", Short: "Manage the secrets flows read with secret('KEY'), and check the set-up"}
	var dataDir string
	c.PersistentFlags().StringVar(&dataDir, "data-dir", "", "data directory of `server local` (embedded secrets on SQLite)")
	open := func(ctx context.Context) (*secrets.Manager, func(), error) {
		return openSecrets(ctx, env, dataDir)
	}
	c.AddCommand(secretsPutCmd(env, open), secretsListCmd(env, open), secretsDeleteCmd(env, open), secretsDoctorCmd(env, &dataDir))
	return []*cobra.Command{c}
}

type openFunc func(ctx context.Context) (*secrets.Manager, func(), error)

// openSecrets builds the configured manager as the server would.
func openSecrets(ctx context.Context, env *Env, dataDir string) (*secrets.Manager, func(), error) {
	log, err := env.logger()
	if err != nil {
		return nil, nil, err
	}
	overrides := map[string]string{}
	if dataDir != "" {
		overrides["osprey.data-dir"] = dataDir
	}
	cfg, warns, err := env.loadConfig(ctx, overrides)
	for _, w := range warns {
		log.WarnContext(ctx, "configuration", "warning", w.String())
	}
	if err != nil {
		return nil, nil, err
	}
	var st store.Store
	closeFn := func() {}
	if cfg.Secret.Type == config.SecretEmbedded {
		if st, err = openStore(ctx, cfg, log); err != nil {
			return nil, nil, err
		}
		closeFn = func() { _ = st.Close() } // a one-shot command: the store was only read or written through the manager, which reported any error
	}
	m, err := newSecretManager(ctx, cfg, st, env, log, nil)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	return m, closeFn, nil
}

func secretsPutCmd(env *Env, open openFunc) *cobra.Command {
	var file, value, description string
	var fromArgv bool
	var tags []string
	cmd := &cobra.Command{
		Use:   "put NAMESPACE KEY",
		Short: "Create or update a secret; the value is read from stdin or --file, never from the command line unless --value-from-argv",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			val, err := readValue(env.Stdin, file, value, fromArgv)
			if err != nil {
				return err
			}
			tm := map[string]string{}
			for _, t := range tags {
				k, v, ok := strings.Cut(t, "=")
				if !ok || k == "" {
					return &usageError{fmt.Sprintf("--tag %q: write key=value", t)}
				}
				tm[k] = v
			}
			m, closeFn, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			if err := m.Put(cmd.Context(), secrets.PutParams{Namespace: args[0], Key: args[1], Value: val, Description: description, Tags: tm}); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "secret %s written in %s\n", args[1], args[0])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "read the value from this file (- for stdin, the default)")
	f.StringVar(&value, "value", "", "the value itself; shells keep it in history and ps shows it, so it needs --value-from-argv")
	f.BoolVar(&fromArgv, "value-from-argv", false, "accept --value")
	f.StringVar(&description, "description", "", "what the secret is for")
	f.StringArrayVar(&tags, "tag", nil, "tag key=value (repeatable)")
	return cmd
}

// readValue takes the value from a file or stdin, trimming one trailing
// line break as `echo` and editors add.
func readValue(stdin io.Reader, file, value string, fromArgv bool) (string, error) {
	if value != "" {
		if !fromArgv {
			return "", &usageError{"--value puts the secret in shell history and the process list: pipe it on stdin or use --file, or add --value-from-argv"}
		}
		return value, nil
	}
	var raw []byte
	var err error
	if file != "" && file != "-" {
		raw, err = os.ReadFile(file)
	} else {
		if stdin == nil {
			return "", &usageError{"no value: pipe it on stdin or use --file"}
		}
		raw, err = io.ReadAll(io.LimitReader(stdin, 1<<20))
	}
	if err != nil {
		return "", fmt.Errorf("read the secret value: %w", err)
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(raw), "\n"), "\r")
	if v == "" {
		return "", &usageError{"the value is empty: pipe it on stdin or use --file"}
	}
	return v, nil
}

func secretsListCmd(env *Env, open openFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "list [NAMESPACE]",
		Short: "List secret keys (never values)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ns := secrets.AllNamespaces
			if len(args) == 1 {
				ns = args[0]
			}
			m, closeFn, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			list, err := m.List(cmd.Context(), ns)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAMESPACE\tKEY\tDESCRIPTION")
			for _, s := range list {
				n := s.Namespace
				if n == "" {
					n = "(global)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", n, s.Key, s.Description)
			}
			return tw.Flush()
		},
	}
}

func secretsDeleteCmd(env *Env, open openFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAMESPACE KEY",
		Short: "Delete a secret (soft delete in Key Vault)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, closeFn, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			if err := m.Delete(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "secret %s deleted from %s\n", args[1], args[0])
			return nil
		},
	}
}

func secretsDoctorCmd(env *Env, dataDir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check the Azure set-up step by step (config, Workload Identity, token exchange, vault, roles, internal storage)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			checks := doctor(ctx, env, *dataDir)
			failed := 0
			for _, c := range checks {
				line := fmt.Sprintf("%-4s  %s: %s", c.Status, c.Name, c.Detail)
				if c.Fix != "" && c.Status != azurekv.Pass {
					line += " — fix: " + c.Fix
				}
				fmt.Fprintln(env.Stdout, line)
				if c.Status == azurekv.Fail {
					failed++
				}
			}
			if failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d check(s) failed", failed)}
			}
			return nil
		},
	}
}

func doctor(ctx context.Context, env *Env, dataDir string) (out []azurekv.Check) {
	overrides := map[string]string{}
	if dataDir != "" {
		overrides["osprey.data-dir"] = dataDir
	}
	cfg, _, err := env.loadConfig(ctx, overrides)
	if err != nil {
		return []azurekv.Check{{Name: "config", Status: azurekv.Fail, Detail: err.Error()}}
	}
	// Internal storage is checked too: it is the other Azure resource the
	// pod's identity reaches.
	if cfg.Secret.Type == config.SecretAzureKeyVault {
		return append(azurekv.Diagnose(ctx, cfg.Secret, azurekv.ParseEnviron(env.Environ), env.AzureTransport, env.now()), storageChecks(ctx, cfg, env)...)
	}
	defer func() { out = append(out, storageChecks(ctx, cfg, env)...) }()
	out = []azurekv.Check{{Name: "config", Status: azurekv.Pass, Detail: "kestra.secret.type " + cfg.Secret.Type}}
	m, closeFn, err := openSecrets(ctx, env, dataDir)
	if err != nil {
		return append(out, azurekv.Check{Name: "backend", Status: azurekv.Fail, Detail: err.Error()})
	}
	defer closeFn()
	list, err := m.List(ctx, secrets.AllNamespaces)
	if err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return append(out, azurekv.Check{Name: "list", Status: azurekv.Fail, Detail: err.Error()})
	}
	return append(out, azurekv.Check{Name: "list", Status: azurekv.Pass, Detail: fmt.Sprintf("%d secret(s) visible, read-only %t", len(list), m.ReadOnly())})
}
