package seal

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSealRoundTrip(t *testing.T) {
	t.Parallel()
	b, err := New(bytes.Repeat([]byte{7}, 32), "input")
	require.NoError(t, err)
	w := b.Wrap("s3cret value")
	require.Equal(t, Type, w["type"])
	require.NotContains(t, w["value"], "s3cret")
	plain, ok, err := b.Unwrap(w)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "s3cret value", plain)

	_, ok, err = b.Unwrap("plain string")
	require.NoError(t, err)
	require.False(t, ok)

	other, err := New(bytes.Repeat([]byte{8}, 32), "input")
	require.NoError(t, err)
	_, _, err = other.Unwrap(w)
	require.ErrorIs(t, err, ErrOpen)

	otherPurpose, err := New(bytes.Repeat([]byte{7}, 32), "something else")
	require.NoError(t, err)
	_, _, err = otherPurpose.Unwrap(w)
	require.ErrorIs(t, err, ErrOpen, "a ciphertext is bound to its purpose")

	_, err = New([]byte("short"), "x")
	require.Error(t, err)
}

// A sealed input read back from the store is a map with its order kept
// (anything with Get); it opens like the Go map Wrap made.
func TestUnwrapReadsAnOrderedMap(t *testing.T) {
	t.Parallel()
	b, err := New(bytes.Repeat([]byte{7}, 32), "input")
	require.NoError(t, err)
	w := b.Wrap("s3cret value")
	plain, ok, err := b.Unwrap(getter(w))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "s3cret value", plain)
}

type getter map[string]any

func (g getter) Get(k string) (any, bool) { v, ok := g[k]; return v, ok }

func TestDeriveKey(t *testing.T) {
	t.Parallel()
	raw := bytes.Repeat([]byte{1}, 32)
	for _, tc := range []struct {
		name, in string
		want     []byte
		wantErr  string
	}{
		{name: "too short", in: "short", wantErr: "at least 32"},
		{name: "base64 of 32 bytes is used as is", in: base64.StdEncoding.EncodeToString(raw), want: raw},
		// The derivation must never change: stored values depend on it.
		{name: "passphrase through HKDF", in: "a configured key of at least thirty-two characters",
			want: mustB64(t, "7u2jShiXaPV9670DH3iIAZ8gPZMDsGy1xiQHQdQXe68=")},
	} {
		got, err := DeriveKey(tc.in)
		if tc.wantErr != "" {
			require.ErrorContains(t, err, tc.wantErr, tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, got, tc.name)
	}
}

// TestSealBytesBindsAAD: a value sealed for one name does not open under
// another, and a tampered value does not open at all.
func TestSealBytesBindsAAD(t *testing.T) {
	t.Parallel()
	b, err := New(bytes.Repeat([]byte{7}, 32), "")
	require.NoError(t, err)
	ct := b.SealBytes([]byte("v"), []byte("ns\x00a"))
	require.NotEqual(t, ct, b.SealBytes([]byte("v"), []byte("ns\x00a")), "a fresh nonce every time")
	pt, err := b.OpenBytes(ct, []byte("ns\x00a"))
	require.NoError(t, err)
	require.Equal(t, "v", string(pt))
	_, err = b.OpenBytes(ct, []byte("ns\x00b"))
	require.ErrorIs(t, err, ErrOpen)
	ct[len(ct)-1] ^= 1
	_, err = b.OpenBytes(ct, []byte("ns\x00a"))
	require.ErrorIs(t, err, ErrOpen)
	_, err = b.OpenBytes([]byte("short"), nil)
	require.ErrorIs(t, err, ErrOpen)
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}
