package tasks

import (
	"bufio"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"1024": 1024, "10KB": 10 << 10, "1.5MB": 3 << 19, "2GB": 2 << 30, " 7 b ": 7} {
		got, err := parseSize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "MB", "-1KB", "ten"} {
		_, err := parseSize(in)
		require.ErrorContains(t, err, "is not a size", in)
	}
}

func TestSplitOn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, sep string
		want    []string
	}{
		{"a\nb\nc", "\n", []string{"a", "b", "c"}},
		{"a\nb\n", "\n", []string{"a", "b"}},
		{"a;;b;;", ";;", []string{"a", "b"}},
		{"", "\n", nil},
	} {
		sc := bufio.NewScanner(strings.NewReader(tc.in))
		sc.Split(splitOn(tc.sep))
		var got []string
		for sc.Scan() {
			got = append(got, sc.Text())
		}
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestStorageTaskChecks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, yaml, want string }{
		{"split needs one limit", "type: io.kestra.plugin.core.storage.Split\nfrom: kestra:///x", "set exactly one of bytes, partitions and rows"},
		{"split takes one limit", "type: io.kestra.plugin.core.storage.Split\nfrom: kestra:///x\nrows: 2\nbytes: 1KB", "set exactly one of bytes, partitions and rows"},
		{"write needs content", "type: io.kestra.plugin.core.storage.Write", `property "content" is required`},
		{"download needs a uri", "type: io.kestra.plugin.core.http.Download", `property "uri" is required`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, parseErr(t, tc.yaml), tc.want)
		})
	}
}
