package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ospreyhq/osprey/devkit/azurefake"
)

// devCommands returns `osprey dev …`: tools for working on a laptop.
func devCommands(env *Env) []*cobra.Command {
	dev := &cobra.Command{Use: "dev", Short: "Local development helpers"}
	var o azurefake.DevOptions
	var readOnly bool
	az := &cobra.Command{
		Use:   "azure",
		Short: "Run a local Entra ID, service-account token issuer and Key Vault, and print the AZURE_* exports to use",
		Long: `Runs Osprey's Azure emulator on loopback over HTTPS: Entra ID's token endpoint, the cluster's
service-account token issuer (the token file is written and rotated as the kubelet does) and a Key Vault
with RBAC. It prints the environment a workload-identity pod would get and a kestra.secret snippet; run
"osprey server local" with them in another terminal. See docs/azure-emulator.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := env.logger()
			if err != nil {
				return err
			}
			o.Logger = log
			if err := os.MkdirAll(o.Dir, 0o700); err != nil {
				return fmt.Errorf("create %s: %w", o.Dir, err)
			}
			if readOnly {
				o.Role = azurefake.RoleSecretsUser
			}
			return azurefake.RunDev(cmd.Context(), o, env.Stdout)
		},
	}
	f := az.Flags()
	f.StringVar(&o.Dir, "dir", ".osprey-azure", "where the CA certificate and the service-account token file are written")
	f.StringVar(&o.VaultName, "vault-name", "osprey-local", "name of the emulated vault")
	f.StringVar(&o.Namespace, "namespace", "default", "Kubernetes namespace of the federated service account")
	f.StringVar(&o.ServiceAccount, "service-account", "osprey", "name of the federated service account")
	f.DurationVar(&o.TokenLifetime, "token-lifetime", time.Hour, "lifetime of the service-account token (rotated at 80%)")
	f.IntVar(&o.Port, "port", 0, "port of Entra ID and the issuer (0: a free one)")
	f.IntVar(&o.VaultPort, "vault-port", 0, "port of the vault (0: a free one)")
	f.IntVar(&o.StoragePort, "storage-port", 0, "port of the storage account's Blob endpoint (0: a free one)")
	f.BoolVar(&readOnly, "read-only", false, "grant Key Vault Secrets User instead of Secrets Officer")
	dev.AddCommand(az)
	return []*cobra.Command{dev}
}
