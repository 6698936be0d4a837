package archtest

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// treeHeading starts the section whose table says what each top-level
// folder holds.
const treeHeading = "## The tree"

// TestTreeNamesEveryTopLevelFolder keeps docs/ARCHITECTURE.md's tree table
// whole: every top-level folder of the repository (hidden ones, and those
// .gitignore keeps out such as the data/ of `server local`, aside) has
// a row saying what it holds, and every folder a row names exists, so a
// newcomer reading the table sees the whole repository and nothing that
// is gone.
func TestTreeNamesEveryTopLevelFolder(t *testing.T) {
	t.Parallel()
	named := treeFolders(t)
	entries, err := os.ReadDir(filepath.Join("..", ".."))
	require.NoError(t, err)
	ignored := ignoredFolders(t)
	var folders []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && !slices.Contains(ignored, e.Name()) {
			folders = append(folders, e.Name())
		}
	}
	for _, f := range folders {
		require.Contains(t, named, f, "%s's tree table (under %q) has no row for the folder %s/: add one saying what it holds", doc, treeHeading, f)
	}
	for _, f := range named {
		require.Contains(t, folders, f, "%s's tree table names %s/, which the repository does not have", doc, f)
	}
}

// treeFolders lists the top-level folders the tree table's first column
// names (`cmd/`, `expr/`, …).
func treeFolders(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", doc))
	require.NoError(t, err)
	defer f.Close()
	folder := regexp.MustCompile("`([a-z0-9_-]+)/`")
	var out []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == treeHeading
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		for _, m := range folder.FindAllStringSubmatch(cells[1], -1) {
			if !slices.Contains(out, m[1]) {
				out = append(out, m[1])
			}
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, out, "%s has no table under %q", doc, treeHeading)
	return out
}

// ignoredFolders lists the top-level folders .gitignore keeps out of the
// repository (lines such as /data/).
func ignoredFolders(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", ".gitignore"))
	require.NoError(t, err)
	var out []string
	for line := range strings.SplitSeq(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(line, "/"); ok && strings.HasSuffix(name, "/") && strings.Count(name, "/") == 1 {
			out = append(out, strings.TrimSuffix(name, "/"))
		}
	}
	return out
}
