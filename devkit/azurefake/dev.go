package azurefake

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/google/uuid"
)

// DevOptions configures RunDev. The zero value is usable apart from Dir.
type DevOptions struct {
	// Dir receives ca.pem and the service-account token file. Required.
	Dir string
	// VaultName defaults to "osprey-local".
	VaultName string
	// Namespace and ServiceAccount name the Kubernetes service account the
	// identity is federated with; "default" and "osprey" by default.
	Namespace      string
	ServiceAccount string
	// TokenLifetime of the service-account token, rotated at 80%; one hour
	// by default.
	TokenLifetime time.Duration
	// Role granted to the identity on the vault; Key Vault Secrets Officer
	// by default, so the API and UI can create secrets.
	Role Role
	// Port, VaultPort and StoragePort pin the listeners so exports survive
	// a restart; zero picks free ports.
	Port, VaultPort, StoragePort int
	// Secrets are stored in the vault at start.
	Secrets map[string]string
	Logger  *slog.Logger
}

// devContainer is the container `osprey dev azure` makes for internal
// storage.
const devContainer = "osprey"

// Development ids are fixed so that exported variables stay valid across
// restarts (with fixed ports).
var (
	devTenant = uuid.NewSHA1(uuid.NameSpaceURL, []byte("osprey-dev/tenant")).String()
	devClient = uuid.NewSHA1(uuid.NameSpaceURL, []byte("osprey-dev/client")).String()
	devObject = uuid.NewSHA1(uuid.NameSpaceURL, []byte("osprey-dev/object")).String()
)

// Dev is a running development emulator (StartDev): one vault, one
// workload identity federated with a service account, its token file kept
// fresh.
type Dev struct {
	Emulator *Emulator
	Vault    *Vault
	// Storage is the storage account for internal storage, its container
	// made and the identity a Storage Blob Data Contributor on it.
	Storage   *StorageAccount
	Identity  *Identity
	TokenFile string
	opts      DevOptions
}

// StartDev starts the emulator RunDev runs and returns it; Close stops it.
// Programs that drive Osprey against the local Azure (the benchmark) use
// it to read the vault's counters.
func StartDev(ctx context.Context, opts DevOptions) (*Dev, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("run azure emulator: no directory given")
	}
	if opts.VaultName == "" {
		opts.VaultName = "osprey-local"
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.ServiceAccount == "" {
		opts.ServiceAccount = "osprey"
	}
	if opts.Role == "" {
		opts.Role = RoleSecretsOfficer
	}
	e, err := New(ctx, Options{TenantID: devTenant, Dir: opts.Dir, Logger: opts.Logger, Port: opts.Port})
	if err != nil {
		return nil, fmt.Errorf("run azure emulator: %w", err)
	}
	fail := func(err error) (*Dev, error) {
		e.Close()
		return nil, fmt.Errorf("run azure emulator: %w", err)
	}
	vault, err := e.AddVault(VaultOptions{Name: opts.VaultName, Port: opts.VaultPort})
	if err != nil {
		return fail(err)
	}
	id := e.AddIdentity(Identity{Name: "osprey", ClientID: devClient, ObjectID: devObject})
	id.AddFederatedCredential(FederatedCredential{
		Name:    "osprey-dev",
		Issuer:  e.Issuer().URL(),
		Subject: Subject(opts.Namespace, opts.ServiceAccount),
	})
	vault.Assign(opts.Role, id.ObjectID)
	if err := vault.seed(opts.Secrets, e.clock.Now()); err != nil {
		return fail(err)
	}
	acct, err := e.AddStorageAccount(StorageAccountOptions{Name: "ospreylocal", Port: opts.StoragePort})
	if err != nil {
		return fail(err)
	}
	acct.Assign(RoleBlobDataContributor, id.ObjectID)
	acct.createContainerNow(devContainer)
	file, err := e.WriteTokenFile(TokenFileOptions{
		MintOptions: MintOptions{Namespace: opts.Namespace, ServiceAccount: opts.ServiceAccount, Lifetime: opts.TokenLifetime},
		Path:        filepath.Join(opts.Dir, "azure-identity-token"),
	})
	if err != nil {
		return fail(err)
	}
	return &Dev{Emulator: e, Vault: vault, Storage: acct, Identity: id, TokenFile: file.Path(), opts: opts}, nil
}

// Environ is the environment a workload-identity pod would get, as
// KEY=value pairs.
func (d *Dev) Environ() []string {
	return []string{
		"AZURE_CLIENT_ID=" + d.Identity.ClientID,
		"AZURE_TENANT_ID=" + d.Identity.TenantID,
		"AZURE_FEDERATED_TOKEN_FILE=" + d.TokenFile,
		"AZURE_AUTHORITY_HOST=" + d.Emulator.AuthorityHost(),
		"SSL_CERT_FILE=" + d.Emulator.CAFile(),
	}
}

// Close stops the emulator.
func (d *Dev) Close() error { return d.Emulator.Close() }

// RunDev runs the emulator for local development (osprey dev azure): one
// vault, one workload identity federated with a service account, its token
// file kept fresh under opts.Dir. It prints the environment to export and a
// kestra.secret snippet to out, then serves until ctx ends.
func RunDev(ctx context.Context, opts DevOptions, out io.Writer) error {
	d, err := StartDev(ctx, opts)
	if err != nil {
		return err
	}
	defer d.Close()
	opts = d.opts
	e, vault, acct, id := d.Emulator, d.Vault, d.Storage, d.Identity
	_, err = fmt.Fprintf(out, `# Osprey's local Azure is running; it stops with this command (Ctrl-C).
# Paste into the shell that runs Osprey:
export AZURE_CLIENT_ID=%s
export AZURE_TENANT_ID=%s
export AZURE_FEDERATED_TOKEN_FILE=%s
export AZURE_AUTHORITY_HOST=%s
export SSL_CERT_FILE=%s

# Vault %s: %s
# Storage account %s: %s (container %s)
# Identity %s (object id %s) holds %q on the vault and %q on the
# account, federated with system:serviceaccount:%s:%s from issuer %s
# Osprey configuration:
kestra:
  storage:
    type: azure
    azure:
      endpoint: %s
      container: %s
  secret:
    type: azure-key-vault
    azure-key-vault:
      key-vault-uri: %s
      workload-identity-client-id: %s
`, id.ClientID, id.TenantID, d.TokenFile, e.AuthorityHost(), e.CAFile(),
		vault.Name(), vault.URL(), acct.Name(), acct.URL(), devContainer, id.ClientID, id.ObjectID, string(opts.Role), string(RoleBlobDataContributor),
		opts.Namespace, opts.ServiceAccount, e.Issuer().URL(),
		acct.URL(), devContainer, vault.URL(), id.ClientID)
	if err != nil {
		return fmt.Errorf("print azure environment: %w", err)
	}
	<-ctx.Done()
	return nil
}

// seed stores secrets directly, as if set before the emulator started.
func (v *Vault) seed(secrets map[string]string, now time.Time) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	for name, value := range secrets {
		if !secretNameRE.MatchString(name) {
			return fmt.Errorf("seed secret %q: invalid name", name)
		}
		v.secrets[lower(name)] = &secretEntry{name: name, versions: []*secretVersion{{
			version: newVersionID(), value: value, enabled: true, created: now.Unix(), updated: now.Unix(),
		}}}
	}
	return nil
}
