package server

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNamespaceFilesAPI uploads, lists, reads, moves and deletes namespace
// files through Kestra's endpoints.
func TestNamespaceFilesAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const base = "/api/v1/main/namespaces/company.team/files"

	// The UI's way: a multipart form with a fileContent part.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, err := mw.CreateFormFile("fileContent", "etl.py")
	require.NoError(t, err)
	_, _ = fw.Write([]byte("print('etl')\n"))
	require.NoError(t, mw.Close())
	rec := e.do(t, req{method: "POST", path: base + "?path=/scripts/etl.py", body: form.String(), contentType: mw.FormDataContentType()})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	// A raw body works too.
	rec = e.do(t, req{method: "POST", path: base + "?path=queries/count.sql", body: "SELECT 1", contentType: "text/plain"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rec = e.do(t, req{method: "POST", path: base + "?path=/readme.md", body: "# hi"})
	require.Equal(t, http.StatusOK, rec.Code)

	rec = e.do(t, req{method: "GET", path: base + "?path=/scripts/etl.py"})
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "print('etl')\n", rec.Body.String())
	require.Contains(t, rec.Header().Get("Content-Disposition"), `filename=etl.py`)

	list := decode[[]fileAttributes](t, e.do(t, req{method: "GET", path: base + "/directory"}))
	var names []string
	for _, a := range list {
		names = append(names, a.Type+":"+a.FileName)
	}
	require.ElementsMatch(t, []string{"Directory:queries", "File:readme.md", "Directory:scripts"}, names)
	list = decode[[]fileAttributes](t, e.do(t, req{method: "GET", path: base + "/directory?path=/scripts"}))
	require.Len(t, list, 1)
	require.Equal(t, fileAttributes{FileName: "etl.py", Type: "File", Size: 13, CreationTime: list[0].CreationTime, LastModifiedTime: list[0].LastModifiedTime}, list[0])

	st := decode[fileAttributes](t, e.do(t, req{method: "GET", path: base + "/stats?path=/queries"}))
	require.Equal(t, "Directory", st.Type)
	st = decode[fileAttributes](t, e.do(t, req{method: "GET", path: base + "/stats?path=/queries/count.sql"}))
	require.Equal(t, int64(8), st.Size)

	rec = e.do(t, req{method: "PUT", path: base + "?from=/scripts&to=/jobs"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rec = e.do(t, req{method: "GET", path: base + "?path=/jobs/etl.py"})
	require.Equal(t, http.StatusOK, rec.Code, "moved with its directory")
	requireError(t, e.do(t, req{method: "GET", path: base + "?path=/scripts/etl.py"}), http.StatusNotFound, "/scripts/etl.py")

	rec = e.do(t, req{method: "DELETE", path: base + "?path=/jobs"})
	require.Equal(t, http.StatusNoContent, rec.Code)
	requireError(t, e.do(t, req{method: "DELETE", path: base + "?path=/jobs"}), http.StatusNotFound, "/jobs")
	requireError(t, e.do(t, req{method: "DELETE", path: base + "?path=/"}), http.StatusBadRequest, "whole namespace")
	requireError(t, e.do(t, req{method: "GET", path: base + "?path=../../etc/passwd"}), http.StatusBadRequest, "must not go up")
	requireError(t, e.do(t, req{method: "POST", path: base, body: "x"}), http.StatusBadRequest, "path is required")
}
