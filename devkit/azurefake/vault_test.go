package azurefake_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/azurefake"
)

func set(value string) azsecrets.SetSecretParameters {
	return azsecrets.SetSecretParameters{Value: to.Ptr(value)}
}

func TestRBACByBuiltInRole(t *testing.T) {
	t.Parallel()
	type allowed struct{ get, list, set, del, purge bool }
	tests := []struct {
		role azurefake.Role
		want allowed
	}{
		{role: "", want: allowed{}},
		{role: azurefake.RoleSecretsUser, want: allowed{get: true, list: true}},
		{role: azurefake.RoleReader, want: allowed{list: true}},
		{role: azurefake.RoleSecretsOfficer, want: allowed{get: true, list: true, set: true, del: true, purge: true}},
		{role: azurefake.RoleAdministrator, want: allowed{get: true, list: true, set: true, del: true, purge: true}},
	}
	for _, tt := range tests {
		t.Run(string(tt.role)+"/", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			admin, _ := f.secretClientAs(t, azurefake.RoleAdministrator)
			ctx := t.Context()
			_, err := admin.SetSecret(ctx, "existing", set("v1"), nil)
			require.NoError(t, err)
			_, err = admin.SetSecret(ctx, "gone", set("v1"), nil)
			require.NoError(t, err)
			_, err = admin.DeleteSecret(ctx, "gone", nil)
			require.NoError(t, err)

			c, id := f.secretClientAs(t, tt.role)
			check := func(ok bool, err error, action string) {
				t.Helper()
				if ok {
					require.NoError(t, err, action)
					return
				}
				re := requireKVError(t, err, http.StatusForbidden, "Forbidden", "ForbiddenByRbac")
				require.Contains(t, re.Error(), "Caller is not authorized to perform action on resource.")
				require.Contains(t, re.Error(), "Action: '"+action+"'")
				require.Contains(t, re.Error(), "oid="+id.ObjectID)
			}
			_, err = c.GetSecret(ctx, "existing", "", nil)
			check(tt.want.get, err, "Microsoft.KeyVault/vaults/secrets/getSecret/action")
			_, err = c.NewListSecretPropertiesPager(nil).NextPage(ctx)
			check(tt.want.list, err, "Microsoft.KeyVault/vaults/secrets/readMetadata/action")
			_, err = c.SetSecret(ctx, "new", set("v"), nil)
			check(tt.want.set, err, "Microsoft.KeyVault/vaults/secrets/setSecret/action")
			_, err = c.DeleteSecret(ctx, "existing", nil)
			check(tt.want.del, err, "Microsoft.KeyVault/vaults/secrets/delete")
			_, err = c.PurgeDeletedSecret(ctx, "gone", nil)
			check(tt.want.purge, err, "Microsoft.KeyVault/vaults/secrets/purge/action")
		})
	}
}

func TestRoleAssignmentOnOneSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	admin, _ := f.secretClientAs(t, azurefake.RoleAdministrator)
	ctx := t.Context()
	for _, n := range []string{"mine", "theirs"} {
		_, err := admin.SetSecret(ctx, n, set("v"), nil)
		require.NoError(t, err)
	}
	f.vault.AssignOnSecret(azurefake.RoleSecretsUser, f.id.ObjectID, "mine")
	c := f.client(t, f.workloadCred(t))
	_, err := c.GetSecret(ctx, "MINE", "", nil)
	require.NoError(t, err)
	_, err = c.GetSecret(ctx, "theirs", "", nil)
	requireKVError(t, err, http.StatusForbidden, "Forbidden", "ForbiddenByRbac")

	f.vault.Unassign(azurefake.RoleSecretsUser, f.id.ObjectID)
	_, err = c.GetSecret(ctx, "mine", "", nil)
	requireKVError(t, err, http.StatusForbidden, "Forbidden", "ForbiddenByRbac")
}

func TestSecretLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c, _ := f.secretClientAs(t, azurefake.RoleSecretsOfficer)
	ctx := t.Context()

	v1, err := c.SetSecret(ctx, "Api-Key", azsecrets.SetSecretParameters{
		Value: to.Ptr("one"), ContentType: to.Ptr("text/plain"), Tags: map[string]*string{"team": to.Ptr("data")},
	}, nil)
	require.NoError(t, err)
	v2, err := c.SetSecret(ctx, "API-KEY", set("two"), nil)
	require.NoError(t, err)
	require.NotEqual(t, v1.ID.Version(), v2.ID.Version())
	require.Equal(t, "Api-Key", v2.ID.Name(), "the name keeps the case it was created with")

	latest, err := c.GetSecret(ctx, "api-key", "", nil)
	require.NoError(t, err)
	require.Equal(t, "two", *latest.Value)
	old, err := c.GetSecret(ctx, "api-key", v1.ID.Version(), nil)
	require.NoError(t, err)
	require.Equal(t, "one", *old.Value)
	require.Equal(t, "text/plain", *old.ContentType)
	require.Equal(t, "data", *old.Tags["team"])
	_, err = c.GetSecret(ctx, "api-key", strings.Repeat("0", 32), nil)
	requireKVError(t, err, http.StatusNotFound, "SecretNotFound", "")

	var versions int
	for pager := c.NewListSecretPropertiesVersionsPager("api-key", nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		require.NoError(t, err)
		versions += len(page.Value)
	}
	require.Equal(t, 2, versions)

	upd, err := c.UpdateSecretProperties(ctx, "api-key", v1.ID.Version(), azsecrets.UpdateSecretPropertiesParameters{
		ContentType: to.Ptr("application/json"), Tags: map[string]*string{"team": to.Ptr("platform")},
	}, nil)
	require.NoError(t, err)
	require.Nil(t, upd.Value, "update does not return the value")
	old, err = c.GetSecret(ctx, "api-key", v1.ID.Version(), nil)
	require.NoError(t, err)
	require.Equal(t, "application/json", *old.ContentType)
	require.Equal(t, "platform", *old.Tags["team"])
	require.Equal(t, "one", *old.Value)

	_, err = c.UpdateSecretProperties(ctx, "api-key", "", azsecrets.UpdateSecretPropertiesParameters{
		SecretAttributes: &azsecrets.SecretAttributes{Enabled: to.Ptr(false)},
	}, nil)
	require.NoError(t, err)
	_, err = c.GetSecret(ctx, "api-key", "", nil)
	requireKVError(t, err, http.StatusForbidden, "Forbidden", "SecretDisabled")
	_, err = c.GetSecret(ctx, "api-key", v1.ID.Version(), nil)
	require.NoError(t, err, "only the latest version was disabled")
}

func TestSecretActivationWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c, _ := f.secretClientAs(t, azurefake.RoleSecretsOfficer)
	ctx := t.Context()
	now := f.emu.Clock().Now()
	_, err := c.SetSecret(ctx, "later", azsecrets.SetSecretParameters{Value: to.Ptr("v"),
		SecretAttributes: &azsecrets.SecretAttributes{NotBefore: to.Ptr(now.Add(time.Hour))}}, nil)
	require.NoError(t, err)
	_, err = c.SetSecret(ctx, "soon-expired", azsecrets.SetSecretParameters{Value: to.Ptr("v"),
		SecretAttributes: &azsecrets.SecretAttributes{Expires: to.Ptr(now.Add(30 * time.Minute))}}, nil)
	require.NoError(t, err)

	_, err = c.GetSecret(ctx, "later", "", nil)
	requireKVError(t, err, http.StatusForbidden, "Forbidden", "SecretDisabled")
	_, err = c.GetSecret(ctx, "soon-expired", "", nil)
	require.NoError(t, err)

	f.emu.Clock().Advance(61 * time.Minute) // access tokens last 60 minutes: the SDK's cached one now fails
	c, _ = f.secretClientAs(t, azurefake.RoleSecretsOfficer)
	_, err = c.GetSecret(ctx, "later", "", nil)
	require.NoError(t, err)
	_, err = c.GetSecret(ctx, "soon-expired", "", nil)
	requireKVError(t, err, http.StatusForbidden, "Forbidden", "SecretDisabled")
}

func TestSecretValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c, _ := f.secretClientAs(t, azurefake.RoleSecretsOfficer)
	ctx := t.Context()
	tags := func(n, keyLen int) map[string]*string {
		m := map[string]*string{}
		for i := range n {
			m[fmt.Sprintf("%0*d", keyLen, i)] = to.Ptr("v")
		}
		return m
	}
	tests := []struct {
		name   string
		secret string
		params azsecrets.SetSecretParameters
		ok     bool
	}{
		{name: "largest value", secret: "big", params: set(strings.Repeat("x", 25*1024)), ok: true},
		{name: "value over 25 KB", secret: "big", params: set(strings.Repeat("x", 25*1024+1))},
		{name: "15 tags of 512", secret: "tagged", params: azsecrets.SetSecretParameters{Value: to.Ptr("v"), Tags: tags(15, 512)}, ok: true},
		{name: "16 tags", secret: "tagged", params: azsecrets.SetSecretParameters{Value: to.Ptr("v"), Tags: tags(16, 3)}},
		{name: "tag name over 512", secret: "tagged", params: azsecrets.SetSecretParameters{Value: to.Ptr("v"), Tags: tags(1, 513)}},
		{name: "tag value over 512", secret: "tagged", params: azsecrets.SetSecretParameters{Value: to.Ptr("v"), Tags: map[string]*string{"k": to.Ptr(strings.Repeat("v", 513))}}},
		{name: "content type of 255", secret: "typed", params: azsecrets.SetSecretParameters{Value: to.Ptr("v"), ContentType: to.Ptr(strings.Repeat("c", 255))}, ok: true},
		{name: "content type over 255", secret: "typed", params: azsecrets.SetSecretParameters{Value: to.Ptr("v"), ContentType: to.Ptr(strings.Repeat("c", 256))}},
		{name: "underscore in name", secret: "bad_name", params: set("v")},
		{name: "name of 127", secret: strings.Repeat("n", 127), params: set("v"), ok: true},
		{name: "name of 128", secret: strings.Repeat("n", 128), params: set("v")},
		{name: "no value", secret: "empty", params: azsecrets.SetSecretParameters{}},
	}
	for _, tt := range tests {
		_, err := c.SetSecret(ctx, tt.secret, tt.params, nil)
		if tt.ok {
			require.NoError(t, err, tt.name)
			continue
		}
		requireKVError(t, err, http.StatusBadRequest, "BadParameter", "")
	}
	_, err := c.GetSecret(ctx, "bad.name", "", nil)
	re := requireKVError(t, err, http.StatusBadRequest, "BadParameter", "")
	require.Contains(t, re.Error(), "The request URI contains an invalid name: bad.name")
}

func TestListPagination(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c, _ := f.secretClientAs(t, azurefake.RoleSecretsOfficer)
	ctx := t.Context()
	for i := range 30 {
		_, err := c.SetSecret(ctx, fmt.Sprintf("s-%02d", i), set("v"), nil)
		require.NoError(t, err)
	}
	_, err := c.DeleteSecret(ctx, "s-00", nil)
	require.NoError(t, err)
	var pages, items int
	for pager := c.NewListSecretPropertiesPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		require.NoError(t, err)
		pages++
		items += len(page.Value)
		for _, it := range page.Value {
			require.Empty(t, it.ID.Version(), "list ids carry no version")
		}
	}
	require.Equal(t, 2, pages, "25 per page, the next through nextLink")
	require.Equal(t, 29, items, "deleted secrets are not listed")

	var deleted []string
	for pager := c.NewListDeletedSecretPropertiesPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		require.NoError(t, err)
		for _, it := range page.Value {
			deleted = append(deleted, it.ID.Name())
		}
	}
	require.Equal(t, []string{"s-00"}, deleted)
}

func TestSoftDelete(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c, _ := f.secretClientAs(t, azurefake.RoleSecretsOfficer)
	ctx := t.Context()
	_, err := c.SetSecret(ctx, "db", set("v1"), nil)
	require.NoError(t, err)

	del, err := c.DeleteSecret(ctx, "db", nil)
	require.NoError(t, err)
	require.Equal(t, f.vault.URL()+"deletedsecrets/db", *del.RecoveryID)
	require.Equal(t, del.DeletedDate.Add(90*24*time.Hour), *del.ScheduledPurgeDate)
	require.Equal(t, "Recoverable+Purgeable", string(*del.Attributes.RecoveryLevel))

	_, err = c.GetSecret(ctx, "db", "", nil)
	requireKVError(t, err, http.StatusNotFound, "SecretNotFound", "")
	_, err = c.SetSecret(ctx, "DB", set("v2"), nil)
	re := requireKVError(t, err, http.StatusConflict, "Conflict", "ObjectIsDeletedButRecoverable")
	require.Contains(t, re.Error(), "deleted but recoverable state")

	_, err = c.GetDeletedSecret(ctx, "db", nil)
	require.NoError(t, err)
	_, err = c.RecoverDeletedSecret(ctx, "db", nil)
	require.NoError(t, err)
	got, err := c.GetSecret(ctx, "db", "", nil)
	require.NoError(t, err)
	require.Equal(t, "v1", *got.Value)
	_, err = c.GetDeletedSecret(ctx, "db", nil)
	requireKVError(t, err, http.StatusNotFound, "SecretNotFound", "")

	_, err = c.DeleteSecret(ctx, "db", nil)
	require.NoError(t, err)
	_, err = c.PurgeDeletedSecret(ctx, "db", nil)
	require.NoError(t, err)
	_, err = c.GetDeletedSecret(ctx, "db", nil)
	requireKVError(t, err, http.StatusNotFound, "SecretNotFound", "")
	again, err := c.SetSecret(ctx, "db", set("fresh"), nil)
	require.NoError(t, err)
	var versions int
	for pager := c.NewListSecretPropertiesVersionsPager("db", nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		require.NoError(t, err)
		versions += len(page.Value)
	}
	require.Equal(t, 1, versions, "a purged name starts over")
	require.Equal(t, "fresh", *again.Value)
}

func TestPurgeProtectionAndRetention(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v, err := f.emu.AddVault(azurefake.VaultOptions{Name: "protected-kv", PurgeProtection: true, RetentionDays: 7})
	require.NoError(t, err)
	v.Assign(azurefake.RoleAdministrator, f.id.ObjectID)
	c, err := azsecrets.NewClient(v.URL(), f.workloadCred(t), v.ClientOptions())
	require.NoError(t, err)
	ctx := t.Context()
	_, err = c.SetSecret(ctx, "keep", set("v"), nil)
	require.NoError(t, err)
	del, err := c.DeleteSecret(ctx, "keep", nil)
	require.NoError(t, err)
	require.Equal(t, "CustomizedRecoverable", string(*del.Attributes.RecoveryLevel))
	require.Equal(t, int32(7), *del.Attributes.RecoverableDays)
	_, err = c.PurgeDeletedSecret(ctx, "keep", nil)
	re := requireKVError(t, err, http.StatusForbidden, "Forbidden", "")
	require.Contains(t, re.Error(), "purge protection is enabled")

	f.emu.Clock().Advance(7*24*time.Hour + time.Second)
	c, err = azsecrets.NewClient(v.URL(), f.workloadCred(t), v.ClientOptions()) // the old access token expired
	require.NoError(t, err)
	f.file.Rotate() //nolint:errcheck // the old service-account token expired too
	_, err = c.GetDeletedSecret(ctx, "keep", nil)
	requireKVError(t, err, http.StatusNotFound, "SecretNotFound", "")
	_, err = c.SetSecret(ctx, "keep", set("v2"), nil)
	require.NoError(t, err, "purged automatically after the retention period")
}

func TestDelayedDeleteRecoverPurge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v, err := f.emu.AddVault(azurefake.VaultOptions{Name: "slow-kv", DeleteDelay: 20 * time.Second, RecoverDelay: 20 * time.Second, PurgeDelay: 20 * time.Second})
	require.NoError(t, err)
	v.Assign(azurefake.RoleSecretsOfficer, f.id.ObjectID)
	c, err := azsecrets.NewClient(v.URL(), f.workloadCred(t), v.ClientOptions())
	require.NoError(t, err)
	ctx := t.Context()
	clock := f.emu.Clock()
	_, err = c.SetSecret(ctx, "s", set("v"), nil)
	require.NoError(t, err)

	_, err = c.DeleteSecret(ctx, "s", nil)
	require.NoError(t, err)
	_, err = c.GetSecret(ctx, "s", "", nil)
	requireKVError(t, err, http.StatusNotFound, "SecretNotFound", "")
	_, err = c.GetDeletedSecret(ctx, "s", nil)
	requireKVError(t, err, http.StatusNotFound, "SecretNotFound", "")
	_, err = c.RecoverDeletedSecret(ctx, "s", nil)
	requireKVError(t, err, http.StatusConflict, "Conflict", "ObjectIsBeingDeleted")
	clock.Advance(21 * time.Second)
	_, err = c.GetDeletedSecret(ctx, "s", nil)
	require.NoError(t, err)

	_, err = c.RecoverDeletedSecret(ctx, "s", nil)
	require.NoError(t, err)
	_, err = c.GetSecret(ctx, "s", "", nil)
	requireKVError(t, err, http.StatusNotFound, "SecretNotFound", "")
	clock.Advance(21 * time.Second)
	_, err = c.GetSecret(ctx, "s", "", nil)
	require.NoError(t, err)

	_, err = c.DeleteSecret(ctx, "s", nil)
	require.NoError(t, err)
	clock.Advance(21 * time.Second)
	_, err = c.PurgeDeletedSecret(ctx, "s", nil)
	require.NoError(t, err)
	_, err = c.SetSecret(ctx, "s", set("v"), nil)
	requireKVError(t, err, http.StatusConflict, "Conflict", "ObjectIsBeingDeleted")
	clock.Advance(21 * time.Second)
	_, err = c.SetSecret(ctx, "s", set("v"), nil)
	require.NoError(t, err)
}

func TestThrottling(t *testing.T) {
	t.Parallel()
	f := newFixture(t, manualClock())
	v, err := f.emu.AddVault(azurefake.VaultOptions{Name: "busy-kv", Limits: azurefake.ThrottleLimits{Window: 10 * time.Second, Operations: 5, Creates: 2}})
	require.NoError(t, err)
	v.Assign(azurefake.RoleSecretsOfficer, f.id.ObjectID)
	opts := v.ClientOptions()
	opts.ClientOptions = noRetry(opts.ClientOptions)
	c, err := azsecrets.NewClient(v.URL(), f.workloadCred(t), opts)
	require.NoError(t, err)
	ctx := t.Context()

	for _, n := range []string{"a", "b"} {
		_, err = c.SetSecret(ctx, n, set("v"), nil)
		require.NoError(t, err)
	}
	_, err = c.SetSecret(ctx, "c", set("v"), nil)
	re := requireKVError(t, err, http.StatusTooManyRequests, "Throttled", "")
	require.Equal(t, "10", re.RawResponse.Header.Get("Retry-After"))

	for range 3 { // operations 3, 4 and 5 of the window
		_, err = c.GetSecret(ctx, "a", "", nil)
		require.NoError(t, err)
	}
	_, err = c.GetSecret(ctx, "a", "", nil)
	requireKVError(t, err, http.StatusTooManyRequests, "Throttled", "")

	f.emu.Clock().Advance(10 * time.Second)
	_, err = c.SetSecret(ctx, "c", set("v"), nil)
	require.NoError(t, err, "the window moved on")

	other, err := f.emu.AddVault(azurefake.VaultOptions{Name: "quiet-kv"})
	require.NoError(t, err)
	other.Assign(azurefake.RoleSecretsOfficer, f.id.ObjectID)
	oc, err := azsecrets.NewClient(other.URL(), f.workloadCred(t), other.ClientOptions())
	require.NoError(t, err)
	_, err = oc.SetSecret(ctx, "a", set("v"), nil)
	require.NoError(t, err, "limits are per vault")
}

func TestDefaultCreateLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, manualClock())
	c, _ := f.secretClientAs(t, azurefake.RoleSecretsOfficer)
	ctx := t.Context()
	for i := range 300 {
		_, err := c.SetSecret(ctx, fmt.Sprintf("s%d", i), set("v"), nil)
		require.NoError(t, err)
	}
	_, err := c.SetSecret(ctx, "one-too-many", set("v"), nil)
	requireKVError(t, err, http.StatusTooManyRequests, "Throttled", "")
	_, err = c.GetSecret(ctx, "s0", "", nil)
	require.NoError(t, err, "reads stay under the 4,000 operations limit")
}

func TestAPIVersions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.vault.Assign(azurefake.RoleSecretsOfficer, f.id.ObjectID)
	cred := f.workloadCred(t)
	ctx := t.Context()
	for _, ver := range []string{"7.4", "7.5", "7.6", "2025-07-01", "2026-04-01", ""} {
		opts := f.vault.ClientOptions()
		opts.APIVersion = ver
		c, err := azsecrets.NewClient(f.vault.URL(), cred, opts)
		require.NoError(t, err)
		_, err = c.SetSecret(ctx, "v", set(ver), nil)
		require.NoError(t, err, ver)
		got, err := c.GetSecret(ctx, "v", "", nil)
		require.NoError(t, err, ver)
		require.Equal(t, ver, *got.Value)
	}
	opts := f.vault.ClientOptions()
	opts.APIVersion = "7.9"
	c, err := azsecrets.NewClient(f.vault.URL(), cred, opts)
	require.NoError(t, err)
	_, err = c.GetSecret(ctx, "v", "", nil)
	requireKVError(t, err, http.StatusBadRequest, "BadParameter", "")
}

func TestBackupRestore(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c, _ := f.secretClientAs(t, azurefake.RoleSecretsOfficer)
	ctx := t.Context()
	_, err := c.SetSecret(ctx, "b", set("v1"), nil)
	require.NoError(t, err)
	_, err = c.SetSecret(ctx, "b", set("sealed-plaintext-value"), nil)
	require.NoError(t, err)
	bk, err := c.BackupSecret(ctx, "b", nil)
	require.NoError(t, err)
	require.NotContains(t, string(bk.Value), "sealed-plaintext-value", "a backup blob is sealed")
	_, err = c.RestoreSecret(ctx, azsecrets.RestoreSecretParameters{SecretBackup: bk.Value}, nil)
	requireKVError(t, err, http.StatusConflict, "Conflict", "")
	_, err = c.DeleteSecret(ctx, "b", nil)
	require.NoError(t, err)
	_, err = c.PurgeDeletedSecret(ctx, "b", nil)
	require.NoError(t, err)
	_, err = c.RestoreSecret(ctx, azsecrets.RestoreSecretParameters{SecretBackup: bk.Value}, nil)
	require.NoError(t, err)
	got, err := c.GetSecret(ctx, "b", "", nil)
	require.NoError(t, err)
	require.Equal(t, "sealed-plaintext-value", *got.Value)
}

// TestAccessTokenChecks presents tokens Key Vault must refuse.
func TestAccessTokenChecks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.vault.Assign(azurefake.RoleSecretsOfficer, f.id.ObjectID)
	ctx := t.Context()

	t.Run("expired", func(t *testing.T) {
		c := f.client(t, f.workloadCred(t))
		_, err := c.SetSecret(ctx, "x", set("v"), nil)
		require.NoError(t, err)
		f.emu.Clock().Advance(61 * time.Minute)
		f.file.Rotate() //nolint:errcheck
		_, err = c.GetSecret(ctx, "x", "", nil)
		re := requireKVError(t, err, http.StatusUnauthorized, "Unauthorized", "")
		require.Contains(t, re.Error(), "AKV10021")
		require.Contains(t, re.RawResponse.Header.Get("WWW-Authenticate"), `resource="https://vault.azure.net"`)
	})
	t.Run("wrong audience", func(t *testing.T) {
		cred := f.workloadCred(t)
		tok, err := cred.GetToken(ctx, policyScopes("https://storage.azure.com/.default"))
		require.NoError(t, err)
		resp := rawGet(t, f, f.vault.URL()+"secrets/x?api-version=7.6", tok.Token)
		require.Equal(t, http.StatusUnauthorized, resp.status)
		require.Contains(t, resp.body, "AKV10022: Invalid audience")
	})
	t.Run("audience with a trailing slash", func(t *testing.T) {
		tok, err := f.workloadCred(t).GetToken(ctx, policyScopes("https://vault.azure.net//.default"))
		require.NoError(t, err)
		resp := rawGet(t, f, f.vault.URL()+"secrets/x?api-version=7.6", tok.Token)
		require.Equal(t, http.StatusUnauthorized, resp.status)
		require.Contains(t, resp.body, "found: https://vault.azure.net/.")
	})
	t.Run("other tenant", func(t *testing.T) {
		other := uuid.NewString()
		id := f.emu.AddIdentity(azurefake.Identity{TenantID: other})
		id.AddClientSecret("pw")
		cred, err := azidentity.NewClientSecretCredential(other, id.ClientID, "pw",
			&azidentity.ClientSecretCredentialOptions{ClientOptions: f.emu.ClientOptions(), DisableInstanceDiscovery: true})
		require.NoError(t, err)
		tok, err := cred.GetToken(ctx, vaultScope)
		require.NoError(t, err)
		resp := rawGet(t, f, f.vault.URL()+"secrets/x?api-version=7.6", tok.Token)
		require.Equal(t, http.StatusUnauthorized, resp.status)
		require.Contains(t, resp.body, "AKV10032: Invalid issuer")
	})
	t.Run("not signed by Entra", func(t *testing.T) {
		tok, err := f.emu.Issuer().Mint(azurefake.MintOptions{Namespace: "a", ServiceAccount: "b", Audiences: []string{"https://vault.azure.net"}})
		require.NoError(t, err)
		resp := rawGet(t, f, f.vault.URL()+"secrets/x?api-version=7.6", tok.Token)
		require.Equal(t, http.StatusUnauthorized, resp.status)
	})
}

// TestChallengeTenantIsFollowed: the vault lives in another tenant than the
// credential's; the SDK must take the tenant from the 401 challenge.
func TestChallengeTenantIsFollowed(t *testing.T) {
	t.Parallel()
	emu := azurefake.Start(t)
	vaultTenant := uuid.NewString()
	v, err := emu.AddVault(azurefake.VaultOptions{Name: "foreign-kv", TenantID: vaultTenant})
	require.NoError(t, err)
	app := emu.AddIdentity(azurefake.Identity{TenantID: vaultTenant})
	app.AddClientSecret("pw")
	v.Assign(azurefake.RoleSecretsOfficer, app.ObjectID)
	cred, err := azidentity.NewClientSecretCredential(emu.TenantID(), app.ClientID, "pw", &azidentity.ClientSecretCredentialOptions{
		ClientOptions: emu.ClientOptions(), DisableInstanceDiscovery: true, AdditionallyAllowedTenants: []string{"*"},
	})
	require.NoError(t, err)
	c, err := azsecrets.NewClient(v.URL(), cred, v.ClientOptions())
	require.NoError(t, err)
	_, err = c.SetSecret(t.Context(), "x", set("v"), nil)
	require.NoError(t, err)
	reqs := emu.TokenRequests()
	require.Len(t, reqs, 1)
	require.Equal(t, "/"+vaultTenant+"/oauth2/v2.0/token", reqs[0].Path)
	require.Equal(t, 1, v.CountBy("SetSecret", ""), "one unauthenticated request drew the challenge")
	require.Equal(t, 1, v.CountBy("SetSecret", app.ObjectID))
}

func TestDefaultOperationLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, manualClock())
	f.vault.Assign(azurefake.RoleSecretsUser, f.id.ObjectID)
	tok, err := f.workloadCred(t).GetToken(t.Context(), vaultScope)
	require.NoError(t, err)
	url := f.vault.URL() + "secrets/missing?api-version=7.6"
	const workers = 4
	errs := make(chan error, workers)
	client := f.emu.HTTPClient()
	for w := range workers {
		go func() {
			for i := w; i < 4000; i += workers {
				req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
				if err != nil {
					errs <- err
					return
				}
				req.Header.Set("Authorization", "Bearer "+tok.Token)
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					errs <- fmt.Errorf("operation %d: status %d", i, resp.StatusCode)
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		require.NoError(t, <-errs)
	}
	r := rawGet(t, f, url, tok.Token)
	require.Equal(t, http.StatusTooManyRequests, r.status, "operation 4,001 within 10 seconds")
	require.Contains(t, r.body, `"Throttled"`)
	f.emu.Clock().Advance(10 * time.Second)
	require.Equal(t, http.StatusNotFound, rawGet(t, f, url, tok.Token).status)
}
