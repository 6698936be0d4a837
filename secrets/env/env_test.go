package env_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/secrets"
	"github.com/ospreyhq/osprey/secrets/env"
	"github.com/ospreyhq/osprey/secrets/secretstest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, raw := range []bool{false, true} {
		t.Run(map[bool]string{false: "base64", true: "raw"}[raw], func(t *testing.T) {
			t.Parallel()
			secretstest.Exercise(t, func(t *testing.T, seed []secrets.PutParams) secrets.Backend {
				var environ []string
				for _, s := range seed {
					v := s.Value
					if !raw {
						v = base64.StdEncoding.EncodeToString([]byte(v))
					}
					environ = append(environ, "SECRET_"+s.Key+"="+v)
				}
				return env.New(env.Options{Environ: environ, Raw: raw})
			}, secretstest.Options{GlobalOnly: true})
		})
	}
}

func TestDecoding(t *testing.T) {
	t.Parallel()
	b64 := base64.StdEncoding.EncodeToString([]byte("p4ss word"))
	cases := []struct {
		name    string
		environ []string
		raw     bool
		key     string
		want    string
		missing bool
	}{
		{name: "base64 as Kestra", environ: []string{"SECRET_DB=" + b64}, key: "DB", want: "p4ss word"},
		{name: "key is case-insensitive", environ: []string{"SECRET_DB=" + b64}, key: "db", want: "p4ss word"},
		{name: "line breaks ignored", environ: []string{"SECRET_DB=" + b64[:4] + "\n" + b64[4:]}, key: "DB", want: "p4ss word"},
		{name: "missing padding", environ: []string{"SECRET_DB=" + strings.TrimRight(b64, "=")}, key: "DB", want: "p4ss word"},
		{name: "raw keeps the value", environ: []string{"SECRET_DB=not base64!"}, raw: true, key: "DB", want: "not base64!"},
		{name: "invalid base64 is skipped", environ: []string{"SECRET_DB=not base64!"}, key: "DB", missing: true},
		{name: "other variables ignored", environ: []string{"DB=" + b64}, key: "DB", missing: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := secrets.New(secrets.Options{Backend: env.New(env.Options{Environ: tc.environ, Raw: tc.raw}), CacheSize: 10})
			got, err := m.Get(t.Context(), "any.namespace", tc.key)
			if tc.missing {
				require.ErrorIs(t, err, secrets.ErrNotFound)
				require.NotContains(t, err.Error(), "not base64!")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	m := secrets.New(secrets.Options{Backend: env.New(env.Options{})})
	require.True(t, m.ReadOnly())
	require.ErrorIs(t, m.Put(t.Context(), secrets.PutParams{Key: "X", Value: "y"}), secrets.ErrReadOnly)
}
