package nsfile_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/internal/nsfile"
)

func TestClean(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"scripts/etl.py":   "/scripts/etl.py",
		"/a//b/./c.txt":    "/a/b/c.txt",
		"/dir/":            "/dir",
		"/with space/é.sh": "/with space/é.sh",
	} {
		got, err := nsfile.Clean(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "../etc/passwd", "/a/../../b", "a\\b", "a\x00b"} {
		_, err := nsfile.Clean(bad)
		require.Error(t, err, bad)
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		path             string
		include, exclude []string
		want             bool
	}{
		{"/etl.py", nil, nil, true},
		{"/scripts/etl.py", []string{"**/*.py"}, nil, true},
		{"/etl.py", []string{"**/*.py"}, nil, true},
		{"/scripts/etl.py", []string{"*.py"}, nil, false},
		{"/scripts/etl.py", []string{"scripts/**"}, nil, true},
		{"/scripts/etl.py", nil, []string{"scripts/**"}, false},
		{"/scripts/etl.py", []string{"**"}, []string{"**/*.sql"}, true},
		{"/q/report.sql", []string{"**"}, []string{"**/*.sql"}, false},
		{"/a/b/c/d.txt", []string{"a/**/d.txt"}, nil, true},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, nsfile.Match(tc.path, tc.include, tc.exclude), "%s include=%v exclude=%v", tc.path, tc.include, tc.exclude)
	}
}
