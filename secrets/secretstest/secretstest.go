// Package secretstest is the conformance suite every secrets.Backend
// passes: exact-namespace reads, not-found translation, listings without
// values, and for writers the put/patch/delete cycle. A new backend (or a
// change to the contract) is tested here once for all.
package secretstest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/secrets"
)

// Open returns a backend already holding seed. Read-only backends are built
// from the seed (an environment, a vault filled out of band).
type Open func(t *testing.T, seed []secrets.PutParams) secrets.Backend

// Options describe what a backend supports.
type Options struct {
	// GlobalOnly backends keep every secret in the global namespace "".
	GlobalOnly bool
}

// Values used by the suite: awkward on purpose (JSON, line breaks,
// non-ASCII, characters that need escaping in URLs and JSON).
var values = []string{
	"s3cr3t-Pa55!",
	`{"user":"app","password":"p@ss/word+1"}`,
	"line one\nline two\t\"quoted\" ünïcödé",
}

// Exercise runs the suite against backends made by open.
func Exercise(t *testing.T, open Open, o Options) {
	t.Helper()
	ns := func(n string) string {
		if o.GlobalOnly {
			return ""
		}
		return n
	}
	seed := []secrets.PutParams{
		{Namespace: ns("acme"), Key: "DB_PASSWORD", Value: values[0]},
		{Namespace: ns("acme.team"), Key: "API_JSON", Value: values[1]},
		{Namespace: ns("acme.team"), Key: "MULTILINE", Value: values[2]},
	}

	t.Run("get returns the exact value", func(t *testing.T) {
		t.Parallel()
		b := open(t, seed)
		for _, s := range seed {
			got, err := b.Get(t.Context(), s.Namespace, s.Key)
			require.NoError(t, err, s.Key)
			require.Equal(t, s.Value, got, s.Key)
		}
	})

	t.Run("missing key is ErrNotFound without values", func(t *testing.T) {
		t.Parallel()
		b := open(t, seed)
		_, err := b.Get(t.Context(), ns("acme"), "NOPE")
		require.ErrorIs(t, err, secrets.ErrNotFound)
		requireNoValue(t, err.Error())
	})

	if !o.GlobalOnly {
		t.Run("no inheritance inside a backend", func(t *testing.T) {
			t.Parallel()
			b := open(t, seed)
			_, err := b.Get(t.Context(), "acme.team", "DB_PASSWORD")
			require.ErrorIs(t, err, secrets.ErrNotFound)
			_, err = b.Get(t.Context(), "other", "DB_PASSWORD")
			require.ErrorIs(t, err, secrets.ErrNotFound)
		})
	}

	t.Run("list names every secret and no value", func(t *testing.T) {
		t.Parallel()
		b := open(t, seed)
		all, err := b.List(t.Context(), secrets.AllNamespaces)
		require.NoError(t, err)
		var got []string
		for _, m := range all {
			got = append(got, m.Namespace+"/"+m.Key)
			requireNoValue(t, fmt.Sprintf("%+v", m))
		}
		for _, s := range seed {
			require.Contains(t, got, s.Namespace+"/"+s.Key)
		}
		one, err := b.List(t.Context(), ns("acme"))
		require.NoError(t, err)
		for _, m := range one {
			require.Equal(t, ns("acme"), m.Namespace)
		}
	})

	t.Run("manager climbs to parents", func(t *testing.T) {
		t.Parallel()
		m := secrets.New(secrets.Options{Backend: open(t, seed), CacheSize: 10})
		got, err := m.Get(t.Context(), "acme.team.sub", "DB_PASSWORD")
		require.NoError(t, err)
		require.Equal(t, values[0], got)
		_, err = m.Get(t.Context(), "acme.team.sub", "MISSING_KEY")
		var nf *secrets.NotFoundError
		require.ErrorAs(t, err, &nf)
		require.Contains(t, err.Error(), "MISSING_KEY")
		if !o.GlobalOnly {
			require.Contains(t, err.Error(), "acme.team.sub")
			require.Contains(t, err.Error(), "acme.team")
		}
	})

	b := open(t, seed)
	if _, ok := b.(secrets.Writer); !ok {
		return
	}
	t.Run("writer cycle", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		w := open(t, nil).(secrets.Writer)
		r := w.(secrets.Backend)
		p := secrets.PutParams{Namespace: ns("w.x"), Key: "TOKEN", Value: values[0], Description: "first", Tags: map[string]string{"team": "a"}}
		require.NoError(t, w.Put(ctx, p))
		requireValue(ctx, t, r, p.Namespace, "TOKEN", values[0])
		p.Value = values[2]
		require.NoError(t, w.Put(ctx, p), "a second put writes a new version")
		requireValue(ctx, t, r, p.Namespace, "TOKEN", values[2])

		desc := "second"
		require.NoError(t, w.Patch(ctx, secrets.PatchParams{Namespace: p.Namespace, Key: "TOKEN", Description: &desc, Tags: map[string]string{"team": "b"}}))
		requireValue(ctx, t, r, p.Namespace, "TOKEN", values[2])
		list, err := r.List(ctx, p.Namespace)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, "second", list[0].Description)
		require.Equal(t, "b", list[0].Tags["team"])

		require.NoError(t, w.Delete(ctx, p.Namespace, "TOKEN"))
		_, err = r.Get(ctx, p.Namespace, "TOKEN")
		require.ErrorIs(t, err, secrets.ErrNotFound)
		require.ErrorIs(t, w.Delete(ctx, p.Namespace, "TOKEN"), secrets.ErrNotFound)
		require.ErrorIs(t, w.Patch(ctx, secrets.PatchParams{Namespace: p.Namespace, Key: "TOKEN", Description: &desc}), secrets.ErrNotFound)

		p.Value = values[1]
		require.NoError(t, w.Put(ctx, p), "a deleted key can be written again")
		requireValue(ctx, t, r, p.Namespace, "TOKEN", values[1])
	})
}

func requireValue(ctx context.Context, t *testing.T, b secrets.Backend, ns, key, want string) {
	t.Helper()
	got, err := b.Get(ctx, ns, key)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// requireNoValue fails when s holds any of the suite's values or their
// distinctive parts.
func requireNoValue(t *testing.T, s string) {
	t.Helper()
	for _, v := range []string{values[0], "p@ss/word+1", "line two"} {
		require.False(t, strings.Contains(s, v), "leaked a secret value in %q", s)
	}
}
