package azurefake_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/azurefake"
)

// readyClient returns a client that already holds an access token, so a
// fault armed afterwards hits the operation, not the sign-in.
func readyClient(t *testing.T, f *fixture) *azsecrets.Client {
	t.Helper()
	f.vault.Assign(azurefake.RoleSecretsOfficer, f.id.ObjectID)
	c := f.client(t, f.workloadCred(t))
	_, err := c.SetSecret(t.Context(), "s", set("v"), nil)
	require.NoError(t, err)
	return c
}

func statuses(reqs []azurefake.Request, op string, status int) int {
	n := 0
	for _, r := range reqs {
		if r.Operation == op && r.Status == status {
			n++
		}
	}
	return n
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := readyClient(t, f)
	f.vault.Faults().SetLatency(10 * time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := c.GetSecret(ctx, "s", "", nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	f.vault.Faults().SetLatency(0)
	_, err = c.GetSecret(t.Context(), "s", "", nil)
	require.NoError(t, err)
}

func TestFaultServerErrorsAreRetriedBySDK(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := readyClient(t, f)
	f.vault.Faults().FailNext(2, http.StatusServiceUnavailable)
	_, err := c.GetSecret(t.Context(), "s", "", nil)
	requireKVError(t, err, http.StatusServiceUnavailable, "InternalServerError", "")

	f.vault.Faults().FailNext(2, http.StatusInternalServerError)
	opts := f.vault.ClientOptions()
	opts.Retry = policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond}
	retrying, err := azsecrets.NewClient(f.vault.URL(), f.workloadCred(t), opts)
	require.NoError(t, err)
	got, err := retrying.GetSecret(t.Context(), "s", "", nil)
	require.NoError(t, err)
	require.Equal(t, "v", *got.Value)
	require.Equal(t, 2, statuses(f.vault.Requests(), "GetSecret", http.StatusInternalServerError))
}

func TestFaultThrottleBurst(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := readyClient(t, f)
	f.vault.Faults().ThrottleNext(2, 3*time.Second)
	for range 2 {
		_, err := c.GetSecret(t.Context(), "s", "", nil)
		re := requireKVError(t, err, http.StatusTooManyRequests, "Throttled", "")
		require.Equal(t, "3", re.RawResponse.Header.Get("Retry-After"))
	}
	_, err := c.GetSecret(t.Context(), "s", "", nil)
	require.NoError(t, err)
}

func TestFaultConnectionReset(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := readyClient(t, f)
	// net/http transparently resends a GET once when a reused connection
	// dies before answering, so it takes two resets to reach the caller.
	f.vault.Faults().ResetNext(2)
	_, err := c.GetSecret(t.Context(), "s", "", nil)
	require.Error(t, err)
	var resets int
	for _, r := range f.vault.Requests() {
		if r.ErrorCode == "ConnectionReset" {
			resets++
		}
	}
	require.Equal(t, 2, resets)
	var re *azcore.ResponseError
	require.False(t, errors.As(err, &re), "no HTTP answer at all: %v", err)
	_, err = c.GetSecret(t.Context(), "s", "", nil)
	require.NoError(t, err)
}

func TestFaultTokenEndpointDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.vault.Assign(azurefake.RoleSecretsOfficer, f.id.ObjectID)
	f.emu.TokenFaults().SetDown(true)
	c := f.client(t, f.workloadCred(t))
	_, err := c.SetSecret(t.Context(), "s", set("v"), nil)
	require.Error(t, err)
	require.Equal(t, 0, f.vault.CountBy("SetSecret", f.id.ObjectID), "no token, no authenticated call")

	f.emu.TokenFaults().SetDown(false)
	f.emu.TokenFaults().FailNext(1, http.StatusInternalServerError)
	_, err = c.SetSecret(t.Context(), "s", set("v"), nil)
	require.ErrorContains(t, err, "500")
	_, err = c.SetSecret(t.Context(), "s", set("v"), nil)
	require.NoError(t, err)
}
