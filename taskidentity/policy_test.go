package taskidentity_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/taskidentity"
)

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		raw  map[string]any
		want taskidentity.Policy
		err  string
	}{
		{name: "nothing", raw: nil, want: taskidentity.Policy{}},
		{name: "list", raw: map[string]any{"company.team": []any{"https://storage.azure.com/", " https://VAULT.azure.net "}},
			want: taskidentity.Policy{"company.team": {"https://storage.azure.com", "https://vault.azure.net"}}},
		{name: "text", raw: map[string]any{"company": "https://storage.azure.com, https://vault.azure.net"},
			want: taskidentity.Policy{"company": {"https://storage.azure.com", "https://vault.azure.net"}}},
		{name: "app id uri", raw: map[string]any{"company": []any{"api://my-app"}}, want: taskidentity.Policy{"company": {"api://my-app"}}},
		{name: "not a list", raw: map[string]any{"company": map[string]any{"x": 1}},
			err: "osprey.task-identity.audiences.company: must be a list of audiences such as [https://storage.azure.com]"},
		{name: "not an audience", raw: map[string]any{"company": []any{"storage"}},
			err: `osprey.task-identity.audiences.company: "storage" is not an audience; write the resource URI, e.g. https://storage.azure.com or https://vault.azure.net`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := taskidentity.ParsePolicy(tc.raw)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestPolicyInheritance(t *testing.T) {
	t.Parallel()
	p := taskidentity.Policy{"company": {"https://storage.azure.com"}, "company.team": {"https://vault.azure.net"}}
	for _, tc := range []struct {
		ns, audience, by string
		ok               bool
	}{
		{ns: "company.team.etl", audience: "https://storage.azure.com", by: "company", ok: true},
		{ns: "company.team", audience: "https://vault.azure.net/", by: "company.team", ok: true},
		{ns: "company", audience: "https://vault.azure.net", ok: false},
		{ns: "companyx", audience: "https://storage.azure.com", ok: false},
		{ns: "other", audience: "https://storage.azure.com", ok: false},
	} {
		by, ok := p.Allows(tc.ns, tc.audience)
		require.Equal(t, tc.ok, ok, "%s %s", tc.ns, tc.audience)
		require.Equal(t, tc.by, by)
	}
	require.Equal(t, []string{"https://storage.azure.com", "https://vault.azure.net"}, p.Allowed("company.team.etl"))
	require.True(t, taskidentity.Policy{"a": nil}.Empty())
	require.False(t, p.Empty())
}
