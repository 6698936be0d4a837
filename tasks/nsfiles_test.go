package tasks

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPathPatterns: patterns read as Kestra's PathMatcherPredicate reads
// them (DownloadFilesTest's "**test1.txt", DeleteFilesTest's "**test1*",
// UploadFilesTest's "glob:**application**"): a bare pattern starting with
// a word character matches at any depth, or from the root of a working
// directory; "glob:" and "regex:" are taken as written.
func TestPathPatterns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern string
		rooted  bool
		path    string
		want    bool
	}{
		{"**test1.txt", false, "/a/b/test1.txt", true},
		{"**test1.txt", false, "/a/b/test2.txt", false},
		{"**test1*", false, "/a/b/test1.txt", true},
		{"test1.txt", false, "/a/b/test1.txt", true},
		{"b/test1.txt", false, "/a/b/test1.txt", true},
		{"/a/*.txt", false, "/a/b/test1.txt", false},
		{"/a/**.txt", false, "/a/b/test1.txt", true},
		{"/a/b/test?.txt", false, "/a/b/test1.txt", true},
		{"/a/b/*.{txt,csv}", false, "/a/b/x.csv", true},
		{"/a/b/[!t]*", false, "/a/b/test1.txt", false},
		{"**", false, "/anything/at/all", true},
		{"glob:**application**", true, "/application-test.yml", true},
		{"glob:**/dbt/**", true, "/project/dbt/models/a.sql", true},
		{"dir/x.txt", true, "/dir/x.txt", true},
		{"x.txt", true, "/dir/x.txt", false},
		{"regex:.*\\.sql", false, "/q/a.sql", true},
		{"regex:a\\.sql", false, "/q/a.sql", false},
		{"*.txt", false, "/a.txt", false}, // as Kestra: a path starts with /, and * stops at it
	} {
		m, err := compilePatterns([]string{tc.pattern}, tc.rooted)
		require.NoError(t, err, tc.pattern)
		require.Equal(t, tc.want, m.match(tc.path), "%s (rooted %v) on %s", tc.pattern, tc.rooted, tc.path)
	}
	_, err := compilePatterns([]string{"regex:("}, false)
	require.ErrorContains(t, err, `pattern "regex:("`)
}

func TestNamespaceFileTaskChecks(t *testing.T) {
	t.Parallel()
	const p = "type: io.kestra.plugin.core.namespace."
	for _, tc := range []struct{ name, yaml, want string }{
		{"upload needs files or filesMap", p + "UploadFiles\nnamespace: a", "files or filesMap is required"},
		{"upload conflict is an enum", p + "UploadFiles\nfiles: ['**']\nconflict: REPLACE", `conflict "REPLACE" is not one of OVERWRITE, ERROR, SKIP`},
		{"download needs files", p + "DownloadFiles\nnamespace: a", `property "files" is required`},
		{"delete needs files", p + "DeleteFiles\nnamespace: a", `property "files" is required`},
		{"unknown property", p + "DeleteFiles\nfiles: x\nrecursive: true", `unknown property "recursive"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, parseErr(t, tc.yaml), tc.want)
		})
	}
}
