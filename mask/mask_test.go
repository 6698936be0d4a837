package mask

import (
	"encoding/base64"
	"testing"

	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/stretchr/testify/require"
)

func TestMaskForms(t *testing.T) {
	t.Parallel()
	var m Masker
	m.Add("s3cr3t value")
	m.Add(`{"password":"hunter22"}`)
	cases := map[string]string{
		"raw":      "x s3cr3t value y",
		"upper":    "S3CR3T VALUE",
		"base64":   base64.StdEncoding.EncodeToString([]byte("s3cr3t value")),
		"url":      "s3cr3t+value",
		"subfield": "pw=hunter22",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			out := m.Mask(in)
			require.Contains(t, out, Redacted)
			require.NotContains(t, out, "s3cr3t")
			require.NotContains(t, out, "hunter22")
		})
	}
	require.Equal(t, "nothing here", m.Mask("nothing here"))
}

func TestMaskValueDeep(t *testing.T) {
	t.Parallel()
	var m Masker
	m.Add("topsecret")
	out := m.Value(map[string]any{"a": []any{"x topsecret", 3}, "topsecret": "k"})
	require.Equal(t, map[string]any{"a": []any{"x ******", 3}, Redacted: "k"}, out)
}

// A user's map (flow YAML, JSON) is masked like a Go map and keeps its
// keys' order, so a masked output still prints as Kestra prints it.
func TestMaskValueOrderedMap(t *testing.T) {
	t.Parallel()
	var m Masker
	m.Add("topsecret")
	in := ordered.New(3)
	in.Set("z", "x topsecret")
	in.Set("topsecret", []any{"topsecret"})
	in.Set("a", 1)
	out, ok := m.Value(in).(*ordered.Map)
	require.True(t, ok)
	require.Equal(t, []string{"z", Redacted, "a"}, out.Keys())
	v, _ := out.Get("z")
	require.Equal(t, "x ******", v)
	v, _ = out.Get(Redacted)
	require.Equal(t, []any{Redacted}, v)
	orig, _ := in.Get("z")
	require.Equal(t, "x topsecret", orig, "the input was changed")
}

func TestShortValuesNotMasked(t *testing.T) {
	t.Parallel()
	var m Masker
	m.Add("ab")
	require.True(t, m.Empty())
	require.Equal(t, "abc", m.Mask("abc"))
}
