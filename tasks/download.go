package tasks

import (
	"context"
	"fmt"
	"io"
	"mime"
	"path"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/worker"
)

// HTTPDownload is io.kestra.plugin.core.http.Download: the response body
// streams into the execution's internal storage (never whole in memory);
// outputs.uri names the file.
type HTTPDownload struct {
	HTTPRequest
	FailOnEmptyResponse *bool `json:"failOnEmptyResponse"`
}

var downloadProps = append([]string{"failOnEmptyResponse"}, httpProps...)

func checkHTTPDownload(t *flow.Task, x *HTTPDownload) []*flow.Error {
	return checkHTTPRequest(t, &x.HTTPRequest)
}

// Run implements worker.Runnable.
func (d *HTTPDownload) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	f, err := filesOf(rc)
	if err != nil {
		return nil, err
	}
	x, err := d.send(ctx, rc)
	if err != nil {
		return nil, err
	}
	defer x.close()
	resp := x.resp
	if !d.accepted(resp.StatusCode) {
		return nil, fmt.Errorf("failed http request with response code '%d'", resp.StatusCode)
	}
	name := downloadName(resp.Header.Get("Content-Disposition"), x.u.Path)
	body := &idleReader{r: resp.Body, idle: x.idle, cancel: x.cancel}
	defer body.stop()
	uri, n, err := f.put(ctx, name, body)
	if err != nil {
		return nil, x.readErr(ctx, err)
	}
	rc.Log("DEBUG", fmt.Sprintf("Downloaded '%s %s' (%d bytes) to %s", x.method, x.u.Redacted(), n, uri))
	if n == 0 && (d.FailOnEmptyResponse == nil || *d.FailOnEmptyResponse) {
		return nil, fmt.Errorf("no response body from %s (set failOnEmptyResponse: false to accept an empty file)", x.u.Redacted())
	}
	return map[string]any{"uri": uri, "code": resp.StatusCode, "length": n, "headers": headerMap(resp.Header)}, nil
}

// downloadName is the file's name: the server's Content-Disposition
// filename, else the URL path's last segment, else a fresh name.
func downloadName(disposition, urlPath string) string {
	if _, params, err := mime.ParseMediaType(disposition); err == nil && params["filename"] != "" {
		return storage.SafeName(params["filename"])
	}
	if b := path.Base(urlPath); b != "" && b != "/" && b != "." {
		return storage.SafeName(b)
	}
	return fileName("")
}

// idleReader cancels the exchange when no byte arrives for idle
// (readIdleTimeout), while the body streams.
type idleReader struct {
	r      io.Reader
	idle   time.Duration
	cancel context.CancelCauseFunc
	timer  *time.Timer
}

func (r *idleReader) Read(p []byte) (int, error) {
	if r.timer == nil {
		idle := r.idle
		r.timer = time.AfterFunc(idle, func() { r.cancel(fmt.Errorf("no data received for %s (options.readIdleTimeout)", idle)) })
	}
	n, err := r.r.Read(p)
	if n > 0 {
		r.timer.Reset(r.idle)
	}
	return n, err
}

func (r *idleReader) stop() {
	if r.timer != nil {
		r.timer.Stop()
	}
}
