package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/storage/local"
)

// TestExecutionFiles downloads, describes and previews a file an
// execution wrote, through Kestra's downloadFileFromExecution,
// getFileMetadatasFromExecution and previewFileFromExecution, and refuses
// a file of another execution.
func TestExecutionFiles(t *testing.T) {
	t.Parallel()
	files, err := local.New(t.TempDir())
	require.NoError(t, err)
	e := newEnv(t, func(o *Options) { o.Storage = files })
	e.runner.finish = false
	e.createFlow(t, helloFlow)
	rec := e.do(t, req{method: "POST", path: "/api/v1/main/executions/company.team/hello"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	ex := decode[struct{ ID string }](t, rec)

	p := storage.NewScope("company.team", "hello", ex.ID).Dir() + "/out/report.csv"
	_, err = files.Put(t.Context(), p, strings.NewReader("id,total\n1,10\n2,20\n"))
	require.NoError(t, err)
	q := "?path=" + url.QueryEscape(storage.URI(p))
	base := "/api/v1/main/executions/" + ex.ID

	rec = e.do(t, req{method: "GET", path: base + "/file" + q})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "id,total\n1,10\n2,20\n", rec.Body.String())
	require.Contains(t, rec.Header().Get("Content-Disposition"), "report.csv")

	rec = e.do(t, req{method: "GET", path: base + "/file/metas" + q})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.JSONEq(t, `{"size":19}`, rec.Body.String())

	rec = e.do(t, req{method: "GET", path: base + "/file/preview" + q + "&maxRows=2"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.JSONEq(t, `{"extension":"csv","type":"TEXT","content":"id,total\n1,10\n","truncated":true}`, rec.Body.String())

	other := "?path=" + url.QueryEscape("kestra:///company/team/hello/executions/other/out/report.csv")
	requireError(t, e.do(t, req{method: "GET", path: base + "/file" + other}), http.StatusUnprocessableEntity, "is not a file of execution")
	requireError(t, e.do(t, req{method: "GET", path: base + "/file/metas" + q + "x"}), http.StatusNotFound, "no file")
}
