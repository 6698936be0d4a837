package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/storage/local"
)

// TestUploadLimitOnlyWhereFilesGo checks which routes lift the body limit
// for file parts: the execution and resume routes, never a webhook.
func TestUploadLimitOnlyWhereFilesGo(t *testing.T) {
	t.Parallel()
	st, err := local.New(t.TempDir())
	require.NoError(t, err)
	s := &Server{opts: Options{Storage: st}}
	for pattern, want := range map[string]bool{
		"POST /api/v1/main/executions/{namespace}/{id}":               true,
		"POST /api/v1/executions/trigger/{namespace}/{id}":            true,
		"POST /api/v1/main/executions/{executionId}/resume":           true,
		"POST /api/v1/main/executions/webhook/{namespace}/{id}/{key}": false,
		"POST /api/v1/main/flows":                                     false,
	} {
		r, _ := http.NewRequest(http.MethodPost, "/x", nil)
		r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		r.Pattern = pattern
		require.Equal(t, want, s.uploadsFiles(r), pattern)
	}
	s.opts.Storage = nil
	r, _ := http.NewRequest(http.MethodPost, "/x", nil)
	r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	r.Pattern = "POST /api/v1/main/executions/{namespace}/{id}"
	require.False(t, s.uploadsFiles(r), "no storage, no files")
}

// TestUploaderBoundsFileParts refuses a request carrying more file parts
// than any flow has FILE inputs, and removes what it stored.
func TestUploaderBoundsFileParts(t *testing.T) {
	t.Parallel()
	st, err := local.New(t.TempDir())
	require.NoError(t, err)
	s := &Server{opts: Options{Storage: st, MaxBodyBytes: 1 << 20}}
	up := s.uploader(t.Context(), "acme", "f")
	for i := range maxFileParts {
		_, err := up.put("in", fmt.Sprintf("f%d.txt", i), strings.NewReader("x"))
		require.NoError(t, err)
	}
	_, err = up.put("in", "one-too-many.txt", strings.NewReader("x"))
	require.ErrorContains(t, err, "at most 100 files per request")
	up.discard()
	left, err := st.List(t.Context(), "/acme")
	require.NoError(t, err)
	require.Empty(t, left)
}
