package seal

import (
	"bytes"
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
