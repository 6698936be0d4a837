package tasks

import (
	"errors"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/storage/azureblob"
)

// A SAS credential rides in the blob URL's query: neither a Blob task's
// output uri nor a transport error may carry it.
func TestBlobURLsLoseTheirSignature(t *testing.T) {
	t.Parallel()
	const sig = "sv=2024-08-04&ss=b&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"
	for _, tc := range []struct{ in, want string }{
		{"https://acct.blob.core.windows.net/c/a/b.txt?" + sig, "https://acct.blob.core.windows.net/c/a/b.txt"},
		{"https://acct.blob.core.windows.net/c/b.txt", "https://acct.blob.core.windows.net/c/b.txt"},
		{"https://acct.blob.core.windows.net/c/b.txt?", "https://acct.blob.core.windows.net/c/b.txt"},
	} {
		require.Equal(t, tc.want, withoutQuery(tc.in))
	}
	err := azureErr(&azureblob.Client{}, "upload b.txt", "c", &url.Error{Op: "Put", URL: "https://acct.blob.core.windows.net/c/b.txt?" + sig, Err: errors.New("connection refused")})
	require.NotContains(t, err.Error(), "sig=")
	require.Contains(t, err.Error(), "https://acct.blob.core.windows.net/c/b.txt")
	require.Contains(t, err.Error(), "connection refused")
}
