package azurefake_test

import (
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/azurefake"
)

// The SDK's own caches (the credential re-reads the token file every 10
// minutes, MSAL keeps access tokens until 5 minutes before expiry) run on
// the machine's clock. These tests run the SDK inside a testing/synctest
// bubble, whose fake clock they move in step with the emulator's, so the
// SDK and the emulator agree on "now" as a pod and Azure do.

// sdkInBubble builds a workload-identity secrets client inside the bubble;
// keep-alives are off so no connection outlives a call.
func sdkInBubble(t *testing.T, f *fixture, tokenFile string) *azsecrets.Client {
	t.Helper()
	opts := noRetry(f.emu.ClientOptions())
	opts.Transport = f.emu.Transport(true)
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: opts, ClientID: f.id.ClientID, TenantID: f.id.TenantID,
		TokenFilePath: tokenFile, DisableInstanceDiscovery: true,
	})
	require.NoError(t, err)
	c, err := azsecrets.NewClient(f.vault.URL(), cred, &azsecrets.ClientOptions{ClientOptions: opts, DisableChallengeResourceVerification: true})
	require.NoError(t, err)
	return c
}

func TestTokenFileRotationReachesTheSDK(t *testing.T) {
	f := newFixture(t, azurefake.WithClock(azurefake.NewManualClock(time.Now()))) // token file: one hour, rotated at 48 minutes
	f.vault.Assign(azurefake.RoleSecretsUser, f.id.ObjectID)
	admin, _ := f.secretClientAs(t, azurefake.RoleAdministrator)
	_, err := admin.SetSecret(t.Context(), "db", set("pw"), nil)
	require.NoError(t, err)
	first := f.file.Current()

	synctest.Test(t, func(t *testing.T) {
		step := func(d time.Duration) { time.Sleep(d); f.emu.Clock().Advance(d) }
		c := sdkInBubble(t, f, f.file.Path())
		get := func() error {
			_, err := c.GetSecret(t.Context(), "db", "", nil)
			return err
		}
		require.NoError(t, get())
		tokens := assertions(f)
		require.Len(t, tokens, 1)
		require.Equal(t, first.ID, tokens[0].AssertionID)

		step(50 * time.Minute)
		rotated := f.file.Current()
		require.NotEqual(t, first.ID, rotated.ID, "rotated at 80% of its hour")
		require.NoError(t, get())
		require.Len(t, assertions(f), 1, "the access token is still cached")

		step(11 * time.Minute) // the access token and the first assertion both expired at 60 minutes
		require.NoError(t, get())
		tokens = assertions(f)
		require.Len(t, tokens, 2)
		require.Equal(t, rotated.ID, tokens[1].AssertionID, "the next token request presents the rotated assertion")
		require.Equal(t, http.StatusOK, tokens[1].Status)
	})
}

func TestStaleAssertionPastItsLifeIsRefused(t *testing.T) {
	// Service-account tokens of five minutes are shorter than the SDK's
	// ten-minute re-read interval: the credential keeps presenting a token
	// the kubelet has already replaced.
	f := newFixture(t, azurefake.WithAccessTokenLifetime(6*time.Minute), azurefake.WithClock(azurefake.NewManualClock(time.Now())))
	f.vault.Assign(azurefake.RoleSecretsUser, f.id.ObjectID)
	admin, _ := f.secretClientAs(t, azurefake.RoleAdministrator)
	_, err := admin.SetSecret(t.Context(), "db", set("pw"), nil)
	require.NoError(t, err)
	short, err := f.emu.WriteTokenFile(azurefake.TokenFileOptions{
		MintOptions: azurefake.MintOptions{Namespace: testNamespace, ServiceAccount: testSA, Lifetime: 5 * time.Minute},
		Path:        filepath.Join(t.TempDir(), "token"),
	})
	require.NoError(t, err)
	first := short.Current()

	synctest.Test(t, func(t *testing.T) {
		step := func(d time.Duration) { time.Sleep(d); f.emu.Clock().Advance(d) }
		c := sdkInBubble(t, f, short.Path())
		_, err := c.GetSecret(t.Context(), "db", "", nil)
		require.NoError(t, err)

		step(6 * time.Minute)
		require.NotEqual(t, first.ID, short.Current().ID, "the file was rotated at 4 minutes")
		_, err = c.GetSecret(t.Context(), "db", "", nil)
		requireAADSTS(t, err, "AADSTS700024", http.StatusUnauthorized)
		var afe *azidentity.AuthenticationFailedError
		require.True(t, errors.As(err, &afe))
		last := assertions(f)
		require.Equal(t, first.ID, last[len(last)-1].AssertionID, "the old assertion was presented")

		step(5 * time.Minute) // the credential re-reads the file
		_, err = c.GetSecret(t.Context(), "db", "", nil)
		require.NoError(t, err)
		var re *azcore.ResponseError
		require.False(t, errors.As(err, &re))
	})
}

// assertions returns the token requests of the fixture's workload identity.
func assertions(f *fixture) []azurefake.Request {
	var out []azurefake.Request
	for _, r := range f.emu.TokenRequests() {
		if r.Caller == f.id.ClientID {
			out = append(out, r)
		}
	}
	return out
}
