package input_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/input"
	"github.com/ospreyhq/osprey/mask"
)

func TestSealSecrets(t *testing.T) {
	t.Parallel()
	var m mask.Masker
	m.Add("hunter22")
	wrap := func(s string) map[string]any { return map[string]any{"sealed": len(s)} }
	cases := []struct {
		name   string
		inputs map[string]any
		wrap   func(string) map[string]any
		want   map[string]any
		err    string
	}{
		{"text is sealed whole", map[string]any{"pw": "pw=hunter22", "n": int64(1)}, wrap,
			map[string]any{"pw": map[string]any{"sealed": 11}, "n": int64(1)}, ""},
		{"an encoding counts", map[string]any{"pw": "HUNTER22"}, wrap, map[string]any{"pw": map[string]any{"sealed": 8}}, ""},
		{"no secret, nothing changes", map[string]any{"a": "b"}, nil, map[string]any{"a": "b"}, ""},
		{"inside a list", map[string]any{"l": []any{"hunter22"}}, wrap, nil, "only text inputs can carry a secret"},
		{"without a key", map[string]any{"pw": "hunter22"}, nil, nil, "kestra.encryption.secret-key"},
	}
	for _, tc := range cases {
		err := input.SealSecrets(&m, tc.inputs, tc.wrap)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.name)
			require.NotContains(t, err.Error(), "hunter22")
			continue
		}
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, tc.inputs, tc.name)
	}
	require.NoError(t, input.SealSecrets(nil, map[string]any{"pw": "hunter22"}, nil), "nothing learnt, nothing to seal")
}
