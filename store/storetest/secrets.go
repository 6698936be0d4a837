package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/store"
)

var secretTests = []test{
	{"PutGetListDelete", testSecrets},
}

func testSecrets(t *testing.T, s store.Store) {
	ctx, ss, clock := t.Context(), s.Secrets(), Clock(t)
	_, err := ss.Get(ctx, "acme", "DB_PASSWORD")
	require.ErrorIs(t, err, store.ErrNotFound)

	sealed := []byte{0x00, 0xff, 0x10, 'x', 0x00} // opaque bytes, zeros included
	require.NoError(t, ss.Put(ctx, store.SecretRecord{Namespace: "acme", Key: "DB_PASSWORD", Ciphertext: sealed,
		Description: "main db", Tags: map[string]string{"owner": "data"}}))
	got, err := ss.Get(ctx, "acme", "DB_PASSWORD")
	require.NoError(t, err)
	require.Equal(t, sealed, got.Ciphertext, "ciphertext is stored as given")
	require.Equal(t, "main db", got.Description)
	require.Equal(t, map[string]string{"owner": "data"}, got.Tags)
	require.WithinDuration(t, clock.Now(), got.Updated, time.Millisecond)

	clock.Advance(time.Minute)
	require.NoError(t, ss.Put(ctx, store.SecretRecord{Namespace: "acme", Key: "DB_PASSWORD", Ciphertext: []byte("v2")}))
	got, err = ss.Get(ctx, "acme", "DB_PASSWORD")
	require.NoError(t, err)
	require.Equal(t, []byte("v2"), got.Ciphertext, "put replaces")
	require.WithinDuration(t, clock.Now(), got.Updated, time.Millisecond)

	require.NoError(t, ss.Put(ctx, store.SecretRecord{Namespace: "acme", Key: "API_KEY", Ciphertext: []byte("k")}))
	require.NoError(t, ss.Put(ctx, store.SecretRecord{Namespace: "acme.team", Key: "TOKEN", Ciphertext: []byte("t")}))
	keys := func(rs []store.SecretRecord) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.Namespace + "/" + r.Key
		}
		return out
	}
	list, err := ss.List(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, []string{"acme/API_KEY", "acme/DB_PASSWORD"}, keys(list), "a namespace only, by key")
	list, err = ss.List(ctx, "")
	require.NoError(t, err)
	require.Equal(t, []string{"acme/API_KEY", "acme/DB_PASSWORD", "acme.team/TOKEN"}, keys(list))

	require.NoError(t, ss.Delete(ctx, "acme", "API_KEY"))
	_, err = ss.Get(ctx, "acme", "API_KEY")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, ss.Delete(ctx, "acme", "API_KEY"), store.ErrNotFound)
}
