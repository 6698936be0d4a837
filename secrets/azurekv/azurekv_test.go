package azurekv_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/devkit/azurefake"
	"github.com/ospreyhq/osprey/secrets"
	"github.com/ospreyhq/osprey/secrets/azurekv"
	"github.com/ospreyhq/osprey/secrets/secretstest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	secretstest.Exercise(t, func(t *testing.T, seed []secrets.PutParams) secrets.Backend {
		f := newFixture(t, fixtureOptions{role: azurefake.RoleSecretsOfficer})
		b := f.backend(t, nil)
		for _, s := range seed {
			require.NoError(t, b.Put(t.Context(), s))
		}
		return b
	}, secretstest.Options{})
}

func TestName(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[0-9a-zA-Z-]{1,127}$`)
	require.Regexp(t, `^company-team--DB-PASSWORD--[0-9a-f]{12}$`, azurekv.Name("", "company.team", "DB_PASSWORD"))
	require.Regexp(t, `^osprey-global--TOKEN--[0-9a-f]{12}$`, azurekv.Name("osprey-", "", "TOKEN"))
	pairs := [][2]string{{"a.b", "K"}, {"a_b", "K"}, {"a-b", "K"}, {"a", "B_K"}, {"a.b", "k"}, {"", "K"}, {"global", "K"}}
	seen := map[string][2]string{}
	for _, p := range pairs {
		n := strings.ToLower(azurekv.Name("", p[0], p[1])) // the vault compares names case-insensitively
		require.Regexp(t, valid, n)
		prev, dup := seen[n]
		require.False(t, dup, "%v and %v share the name %s", prev, p, n)
		seen[n] = p
	}
	long := azurekv.Name("some-prefix-", strings.Repeat("very.deep.namespace.", 10), strings.Repeat("LONG_KEY_", 20))
	require.Regexp(t, valid, long)
	require.LessOrEqual(t, len(long), 127)
}

func TestTagsAndNeverTouchForeignSecrets(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{role: azurefake.RoleSecretsOfficer})
	b := f.backend(t, func(o *azurekv.Options) { o.Config.Tags = map[string]string{"env": "prod"} })
	ctx := t.Context()
	require.NoError(t, b.Put(ctx, secrets.PutParams{Namespace: "company.team", Key: "DB_PASSWORD", Value: "pw-1", Description: "the db", Tags: map[string]string{"owner": "data"}}))
	adm := f.admin(t)
	got, err := adm.GetSecret(ctx, azurekv.Name("", "company.team", "DB_PASSWORD"), "", nil)
	require.NoError(t, err)
	tags := map[string]string{}
	for k, v := range got.Tags {
		tags[k] = *v
	}
	require.Equal(t, map[string]string{
		"namespace": "company.team", "key": "DB_PASSWORD", "tenant": "main", "prefix": "",
		"managed-by": "osprey", "description": "the db", "env": "prod", "owner": "data",
	}, tags)

	foreign := azurekv.Name("", "company.team", "FOREIGN")
	_, err = adm.SetSecret(ctx, foreign, azsecrets.SetSecretParameters{Value: to.Ptr("theirs")}, nil)
	require.NoError(t, err)
	err = b.Put(ctx, secrets.PutParams{Namespace: "company.team", Key: "FOREIGN", Value: "ours"})
	require.ErrorIs(t, err, secrets.ErrConflict)
	require.ErrorIs(t, b.Delete(ctx, "company.team", "FOREIGN"), secrets.ErrConflict)
	still, err := adm.GetSecret(ctx, foreign, "", nil)
	require.NoError(t, err)
	require.Equal(t, "theirs", *still.Value)
	require.Error(t, b.Put(ctx, secrets.PutParams{Namespace: "x", Key: "K", Value: "v", Tags: map[string]string{"namespace": "y"}}), "reserved tags cannot be overridden")
}

func TestSecretsUserRole(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{role: azurefake.RoleSecretsUser})
	_, err := f.admin(t).SetSecret(t.Context(), azurekv.Name("", "acme", "DB"), azsecrets.SetSecretParameters{
		Value: to.Ptr("read-me"), Tags: map[string]*string{"managed-by": to.Ptr("osprey"), "tenant": to.Ptr("main"), "prefix": to.Ptr(""), "namespace": to.Ptr("acme"), "key": to.Ptr("DB")},
	}, nil)
	require.NoError(t, err)
	m := secrets.New(secrets.Options{Backend: f.backend(t, nil), CacheSize: 10})
	v, err := m.Get(t.Context(), "acme.team", "DB")
	require.NoError(t, err)
	require.Equal(t, "read-me", v)

	err = m.Put(t.Context(), secrets.PutParams{Namespace: "acme", Key: "NEW", Value: "nope"})
	require.ErrorIs(t, err, secrets.ErrForbidden)
	require.Contains(t, err.Error(), `assign the role "Key Vault Secrets Officer"`)
	require.Contains(t, err.Error(), "az role assignment create")
	require.Contains(t, err.Error(), f.id.ClientID)
	require.NotContains(t, err.Error(), "nope")
}

func TestFederatedCredentialMismatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		o    fixtureOptions
		want []string
	}{
		{name: "no federated credential", o: fixtureOptions{noFederated: true, role: azurefake.RoleSecretsUser},
			want: []string{"AADSTS70021", "system:serviceaccount:osprey:osprey", "az identity federated-credential create", "--subject system:serviceaccount:osprey:osprey"}},
		{name: "subject differs", o: fixtureOptions{subject: azurefake.Subject("osprey", "other"), role: azurefake.RoleSecretsUser},
			want: []string{"AADSTS700213", "matches its subject", "system:serviceaccount:osprey:osprey"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.o)
			err := f.backend(t, nil).Check(t.Context())
			require.ErrorIs(t, err, secrets.ErrUnavailable)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestStartupChecks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	cases := []struct {
		name  string
		unset string
		want  string
	}{
		{name: "no token file variable", unset: azurekv.EnvTokenFile, want: `AZURE_FEDERATED_TOKEN_FILE is not set: the pod needs the label azure.workload.identity/use: "true" and a service account annotated azure.workload.identity/client-id`},
		{name: "no tenant", unset: azurekv.EnvTenantID, want: "AZURE_TENANT_ID is not set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := azurekv.Environ{}
			for k, v := range f.env {
				if k != tc.unset {
					env[k] = v
				}
			}
			_, err := azurekv.New(azurekv.Options{Config: f.config(), Environ: env})
			require.ErrorContains(t, err, tc.want)
		})
	}
	env := azurekv.Environ{}
	for k, v := range f.env {
		env[k] = v
	}
	env[azurekv.EnvTokenFile] = "/nonexistent/token"
	_, err := azurekv.New(azurekv.Options{Config: f.config(), Environ: env})
	require.ErrorContains(t, err, "azure-identity-token")

	_, err = azurekv.New(azurekv.Options{Config: config.AzureKeyVault{VaultName: "v", ClientSecret: config.AzureClientSecret{ClientID: "x"}}})
	require.ErrorContains(t, err, "tenant-id, client-secret")
}

// Under short-lived tokens every request exchanges the projected token
// again, and the token the kubelet rotated into the file is the one used.
func TestTokenFileRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{role: azurefake.RoleSecretsOfficer, tokenLife: 10 * time.Minute,
		emu: []azurefake.Option{azurefake.WithAccessTokenLifetime(2 * time.Minute)}})
	b := f.backend(t, nil)
	ctx := t.Context()
	require.NoError(t, b.Put(ctx, secrets.PutParams{Namespace: "a", Key: "K", Value: "v"}))
	first := f.file.Current().ID
	f.emu.Clock().Advance(11 * time.Minute) // the first token has expired; the file was rotated at 8 minutes
	require.NotEqual(t, first, f.file.Current().ID)
	v, err := b.Get(ctx, "a", "K")
	require.NoError(t, err)
	require.Equal(t, "v", v)
	var ids []string
	for _, r := range f.emu.TokenRequests() {
		require.Equal(t, 200, r.Status, "every exchange succeeds: %+v", r)
		ids = append(ids, r.AssertionID)
	}
	require.Contains(t, ids, first)
	require.Equal(t, f.file.Current().ID, ids[len(ids)-1], "the latest exchange used the rotated token")
}

func TestSoftDeletedNameReuse(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{role: azurefake.RoleSecretsOfficer})
	b := f.backend(t, nil)
	ctx := t.Context()
	p := secrets.PutParams{Namespace: "a", Key: "K", Value: "v1"}
	require.NoError(t, b.Put(ctx, p))
	require.NoError(t, b.Delete(ctx, "a", "K"))
	_, err := b.Get(ctx, "a", "K")
	require.ErrorIs(t, err, secrets.ErrNotFound)
	p.Value = "v2"
	require.NoError(t, b.Put(ctx, p), "a soft-deleted Osprey secret is recovered, then written")
	v, err := b.Get(ctx, "a", "K")
	require.NoError(t, err)
	require.Equal(t, "v2", v)
	require.Equal(t, 1, f.vault.Count("RecoverDeletedSecret"))

	// A soft-deleted secret someone else created is left alone.
	adm := f.admin(t)
	name := azurekv.Name("", "a", "THEIRS")
	_, err = adm.SetSecret(ctx, name, azsecrets.SetSecretParameters{Value: to.Ptr("x")}, nil)
	require.NoError(t, err)
	_, err = adm.DeleteSecret(ctx, name, nil)
	require.NoError(t, err)
	err = b.Put(ctx, secrets.PutParams{Namespace: "a", Key: "THEIRS", Value: "y"})
	require.ErrorIs(t, err, secrets.ErrConflict)
	require.Contains(t, err.Error(), "az keyvault secret recover")
}

func TestThrottling(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{role: azurefake.RoleSecretsOfficer})
	b := f.backend(t, nil)
	ctx := t.Context()
	require.NoError(t, b.Put(ctx, secrets.PutParams{Namespace: "a", Key: "K", Value: "v"}))
	m := secrets.New(secrets.Options{Backend: b, CacheSize: 10})

	// A storm of 429s shorter than the retry budget is absorbed, and 200
	// concurrent resolutions wait on one request.
	f.vault.Faults().ThrottleNext(2, time.Second)
	before := f.vault.Count("GetSecret")
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 200 {
		wg.Go(func() {
			if _, err := m.Get(ctx, "a.b", "K"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, f.vault.Count("GetSecret")-before, "200 resolutions, one read")
	throttled := 0
	for _, r := range f.vault.Requests() {
		if r.Status == 429 {
			throttled++
		}
	}
	require.Equal(t, 2, throttled, "both 429s were answered by retrying after Retry-After")

	// A storm longer than the budget fails with what to do.
	tight := f.backend(t, func(o *azurekv.Options) { o.MaxRetries = 1 })
	f.vault.Faults().ThrottleNext(5, time.Second)
	_, err := tight.Get(ctx, "a", "K")
	require.ErrorIs(t, err, secrets.ErrUnavailable)
	require.Contains(t, err.Error(), "throttling (429)")
	require.Contains(t, err.Error(), "Retry-After")
	f.vault.Faults().ThrottleNext(0, 0)
}

func TestVaultDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{role: azurefake.RoleSecretsOfficer})
	b := f.backend(t, func(o *azurekv.Options) { o.MaxRetries = 1 })
	ctx := t.Context()
	require.NoError(t, b.Put(ctx, secrets.PutParams{Namespace: "a", Key: "K", Value: "v"}))
	f.vault.Faults().SetDown(true)
	_, err := b.Get(ctx, "a", "K")
	require.ErrorIs(t, err, secrets.ErrUnavailable)
	require.Contains(t, err.Error(), "cannot reach Key Vault")
	f.vault.Faults().SetDown(false)
	v, err := b.Get(ctx, "a", "K")
	require.NoError(t, err, "the backend recovers with the vault")
	require.Equal(t, "v", v)
}

func TestReadOnlyDiscovery(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{role: azurefake.RoleSecretsUser})
	adm := f.admin(t)
	ctx := t.Context()
	put := func(name, value string, tags map[string]string) {
		tp := map[string]*string{}
		for k, v := range tags {
			tp[k] = to.Ptr(v)
		}
		_, err := adm.SetSecret(ctx, name, azsecrets.SetSecretParameters{Value: to.Ptr(value), Tags: tp}, nil)
		require.NoError(t, err)
	}
	put("ext-DB-PASSWORD", "from-portal", nil)
	put("ext-HIDDEN", "hidden", map[string]string{"osprey-ignore": "1"})
	put("team-token", "tagged", map[string]string{"app": "osprey", "namespace": "acme", "key": "TEAM_TOKEN"})
	put("unrelated", "nope", nil)

	cases := []struct {
		name   string
		mutate func(*azurekv.Options)
		ns     string
		key    string
		want   string
	}{
		{name: "prefix", mutate: func(o *azurekv.Options) {
			o.ReadOnly = true
			o.Config.FilterOnPrefix = config.AzureFilterOnPrefix{Prefix: "ext-"}
		}, ns: "any.namespace", key: "DB_PASSWORD", want: "from-portal"},
		{name: "prefix kept", mutate: func(o *azurekv.Options) {
			o.ReadOnly = true
			o.Config.FilterOnPrefix = config.AzureFilterOnPrefix{Prefix: "ext-", KeepPrefix: true}
		}, ns: "x", key: "EXT_DB_PASSWORD", want: "from-portal"},
		{name: "tags", mutate: func(o *azurekv.Options) {
			o.ReadOnly = true
			o.Config.FilterOnTags.Tags = map[string]string{"app": "osprey"}
		}, ns: "acme.team", key: "TEAM_TOKEN", want: "tagged"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := f.backend(t, func(o *azurekv.Options) {
				o.Config.ExcludedTags = []string{"osprey-ignore"}
				tc.mutate(o)
			})
			m := secrets.New(secrets.Options{Backend: b, ReadOnly: true, CacheSize: 10})
			v, err := m.Get(ctx, tc.ns, tc.key)
			require.NoError(t, err)
			require.Equal(t, tc.want, v)
			_, err = m.Get(ctx, tc.ns, "HIDDEN")
			require.ErrorIs(t, err, secrets.ErrNotFound, "excluded tags hide a secret")
			_, err = m.Get(ctx, tc.ns, "UNRELATED")
			require.ErrorIs(t, err, secrets.ErrNotFound, "filters hide other secrets")
			require.ErrorIs(t, m.Put(ctx, secrets.PutParams{Namespace: "a", Key: "K", Value: "v"}), secrets.ErrReadOnly)
			list, err := m.List(ctx, secrets.AllNamespaces)
			require.NoError(t, err)
			require.Len(t, list, 1, fmt.Sprint(list))
		})
	}
}

func TestVaultInAnotherTenant(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{role: azurefake.RoleSecretsOfficer})
	other, err := f.emu.AddVault(azurefake.VaultOptions{Name: "other-tenant-kv", TenantID: "11111111-2222-3333-4444-555555555555"})
	require.NoError(t, err)
	b := f.backend(t, func(o *azurekv.Options) { o.Config.KeyVaultURI = other.URL() })
	err = b.Check(t.Context())
	require.ErrorIs(t, err, secrets.ErrUnavailable)
	require.Contains(t, err.Error(), "belongs to tenant 11111111-2222-3333-4444-555555555555")
	require.Contains(t, err.Error(), "additionally-allowed-tenants")
}

// TestPurgeOnDelete purges what Osprey deletes when configured, waiting
// out Key Vault's asynchronous delete, and keeps the delete when the
// vault's purge protection refuses the purge.
func TestPurgeOnDelete(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		purge      bool
		vault      azurefake.VaultOptions
		softLeft   bool   // the secret stays soft-deleted
		logMessage string // a line the process log must hold
	}{
		{name: "kept soft-deleted by default", softLeft: true},
		{name: "purged once the delete is done", purge: true, vault: azurefake.VaultOptions{DeleteDelay: 300 * time.Millisecond}},
		{name: "purge protection keeps it", purge: true, vault: azurefake.VaultOptions{PurgeProtection: true}, softLeft: true,
			logMessage: "the vault has purge protection"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, fixtureOptions{role: azurefake.RoleSecretsOfficer, vault: tc.vault})
			var logs bytes.Buffer
			b := f.backend(t, func(o *azurekv.Options) {
				o.Config.PurgeOnDelete = tc.purge
				o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			ctx := t.Context()
			require.NoError(t, b.Put(ctx, secrets.PutParams{Namespace: "a", Key: "K", Value: "v1"}))
			require.NoError(t, b.Delete(ctx, "a", "K"), "the delete succeeds")
			_, err := f.admin(t).GetDeletedSecret(ctx, azurekv.Name("", "a", "K"), nil)
			if tc.softLeft {
				require.NoError(t, err, "soft-deleted")
			} else {
				require.Error(t, err, "purged")
				require.GreaterOrEqual(t, f.vault.Count("PurgeDeletedSecret"), 1)
			}
			require.Contains(t, logs.String(), tc.logMessage)
		})
	}
}
