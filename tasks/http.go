package tasks

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
	"github.com/ospreyhq/osprey/worker"
)

// runEnv is the part of worker.RunContext the I/O tasks use. Declaring it
// here lets the tests drive the tasks with the real expression engine and
// a log recorder, without a worker and a store.
type runEnv interface {
	Render(ctx context.Context, tmpl string) (string, error)
	RenderValue(ctx context.Context, v any) (any, error)
	Log(level, msg string)
}

var _ runEnv = (*worker.RunContext)(nil)

// Kestra's defaults for the HTTP client (HttpConfiguration).
const (
	defaultReadTimeout     = 10 * time.Second
	defaultReadIdleTimeout = 5 * time.Minute
	defaultMaxContentLen   = 10 << 20
)

// HTTPRequest is io.kestra.plugin.core.http.Request: one HTTP exchange
// whose status, headers and body become the task's outputs.
type HTTPRequest struct {
	URI         string         `json:"uri"`
	Method      string         `json:"method"`
	Headers     map[string]any `json:"headers"`
	Body        any            `json:"body"`
	ContentType string         `json:"contentType"`
	FormData    map[string]any `json:"formData"`
	// AllowFailed keeps the task successful on a 4xx/5xx response (the
	// pre-0.22 place; options.allowFailed is the newer one).
	AllowFailed *bool        `json:"allowFailed"`
	Options     *httpOptions `json:"options"`
	SSLOptions  *struct {
		InsecureTrustAllCertificates *bool `json:"insecureTrustAllCertificates"`
	} `json:"sslOptions"`
}

// httpOptions is Kestra's HttpConfiguration, the part that means something
// for Go's client.
type httpOptions struct {
	ConnectTimeout            string `json:"connectTimeout"`
	ReadTimeout               string `json:"readTimeout"`
	ReadIdleTimeout           string `json:"readIdleTimeout"`
	ConnectionPoolIdleTimeout string `json:"connectionPoolIdleTimeout"`
	MaxContentLength          *int64 `json:"maxContentLength"`
	FollowRedirects           *bool  `json:"followRedirects"`
	AllowFailed               *bool  `json:"allowFailed"`
	AllowedResponseCodes      []int  `json:"allowedResponseCodes"`
	DefaultCharset            string `json:"defaultCharset"`
	BasicAuthUser             string `json:"basicAuthUser"`
	BasicAuthPassword         string `json:"basicAuthPassword"`
	Auth                      *struct {
		Type     string `json:"type"`
		Username string `json:"username"`
		Password string `json:"password"`
		Token    string `json:"token"`
	} `json:"auth"`
}

var httpProps = []string{"uri", "method", "headers", "body", "contentType", "formData", "allowFailed", "options", "sslOptions"}

func checkHTTPRequest(t *flow.Task, x *HTTPRequest) []*flow.Error {
	errs := required(t, "uri", x.URI != "")
	if x.Body != nil && x.FormData != nil {
		errs = append(errs, taskErr(t, "body", "body and formData cannot both be set"))
	}
	if a := x.opts().Auth; a != nil {
		switch strings.ToUpper(a.Type) {
		case "BASIC", "BEARER":
		default:
			errs = append(errs, taskErr(t, "options", fmt.Sprintf("options.auth.type %q is not supported (BASIC or BEARER)", a.Type)))
		}
	}
	for _, d := range []struct{ name, v string }{
		{"connectTimeout", x.opts().ConnectTimeout}, {"readTimeout", x.opts().ReadTimeout},
		{"readIdleTimeout", x.opts().ReadIdleTimeout}, {"connectionPoolIdleTimeout", x.opts().ConnectionPoolIdleTimeout},
	} {
		if d.v == "" || strings.Contains(d.v, "{{") {
			continue
		}
		if _, err := flow.ParseDuration(d.v); err != nil {
			errs = append(errs, taskErr(t, "options", fmt.Sprintf("options.%s: %v", d.name, err)))
		}
	}
	return errs
}

func (h *HTTPRequest) opts() *httpOptions {
	if h.Options == nil {
		return &httpOptions{}
	}
	return h.Options
}

// Run implements worker.Runnable.
func (h *HTTPRequest) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	return h.run(ctx, rc)
}

func (h *HTTPRequest) run(ctx context.Context, env runEnv) (map[string]any, error) {
	x, err := h.send(ctx, env)
	if err != nil {
		return nil, err
	}
	defer x.close()
	return h.readBody(ctx, env, x)
}

// exchange is a response being read: the request's context can be
// cancelled with a cause when the body stalls (readIdleTimeout).
type exchange struct {
	resp   *http.Response
	u      *url.URL
	method string
	idle   time.Duration
	rctx   context.Context
	cancel context.CancelCauseFunc
	tr     *http.Transport
}

func (x *exchange) close() {
	_ = x.resp.Body.Close()
	x.cancel(nil)
	x.tr.CloseIdleConnections()
}

// readErr turns a failed body read into its cause.
func (x *exchange) readErr(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	if cause := context.Cause(x.rctx); cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	return fmt.Errorf("read response of %s %s: %w", x.method, x.u.Redacted(), err)
}

// send renders the request and sends it; the caller reads and closes the
// exchange.
func (h *HTTPRequest) send(ctx context.Context, env runEnv) (*exchange, error) {
	o := h.opts()
	render := func(s string) (string, error) { return env.Render(ctx, s) }
	uri, err := render(h.URI)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("uri %q is not an http(s) URL", uri)
	}
	method := "GET"
	if h.Method != "" {
		if method, err = render(h.Method); err != nil {
			return nil, err
		}
		method = strings.ToUpper(method)
	}
	contentType := "application/json"
	if h.ContentType != "" {
		if contentType, err = render(h.ContentType); err != nil {
			return nil, err
		}
	}

	body, ctype, err := h.requestBody(ctx, env, contentType)
	if err != nil {
		return nil, err
	}
	durations, err := renderDurations(render, map[string]string{
		"connectTimeout": o.ConnectTimeout, "readTimeout": o.ReadTimeout,
		"readIdleTimeout": o.ReadIdleTimeout, "connectionPoolIdleTimeout": o.ConnectionPoolIdleTimeout,
	})
	if err != nil {
		return nil, err
	}
	readTimeout := durationOr(durations["readTimeout"], defaultReadTimeout)
	idleTimeout := durationOr(durations["readIdleTimeout"], defaultReadIdleTimeout)

	// The exchange runs under its own context so a body that stalls longer
	// than readIdleTimeout can be cut without touching the task's context.
	rctx, cancel := context.WithCancelCause(ctx)
	req, err := http.NewRequestWithContext(rctx, method, u.String(), body)
	if err != nil {
		cancel(nil)
		return nil, fmt.Errorf("build request: %w", err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	hdrs, err := env.RenderValue(ctx, map[string]any(h.Headers))
	if err != nil {
		cancel(nil)
		return nil, err
	}
	if m, ok := hdrs.(map[string]any); ok {
		for _, k := range sortedKeys(m) {
			switch v := m[k].(type) {
			case []any:
				for _, item := range v {
					req.Header.Add(k, str(item))
				}
			default:
				req.Header.Set(k, str(v))
			}
		}
	}
	if err := h.setAuth(req, render); err != nil {
		cancel(nil)
		return nil, err
	}

	dialer := &net.Dialer{Timeout: durations["connectTimeout"]}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ResponseHeaderTimeout: readTimeout,
		IdleConnTimeout:       durations["connectionPoolIdleTimeout"],
		ForceAttemptHTTP2:     true,
	}
	if h.SSLOptions != nil && h.SSLOptions.InsecureTrustAllCertificates != nil && *h.SSLOptions.InsecureTrustAllCertificates {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the flow asked for it
	}
	client := &http.Client{Transport: tr}
	if o.FollowRedirects != nil && !*o.FollowRedirects {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}

	resp, err := client.Do(req) //nolint:bodyclose // the exchange owns the body: exchange.close closes it
	if err != nil {
		cancel(nil)
		tr.CloseIdleConnections()
		if cause := context.Cause(ctx); cause != nil {
			return nil, cause
		}
		return nil, fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	return &exchange{resp: resp, u: u, method: method, idle: idleTimeout, rctx: rctx, cancel: cancel, tr: tr}, nil
}

// readBody reads the response into the outputs, as Request does.
func (h *HTTPRequest) readBody(ctx context.Context, env runEnv, x *exchange) (map[string]any, error) {
	o := h.opts()
	resp, u, method := x.resp, x.u, x.method

	limit := int64(defaultMaxContentLen)
	if o.MaxContentLength != nil && *o.MaxContentLength > 0 {
		limit = *o.MaxContentLength
	}
	raw, err := readIdle(resp.Body, limit, x.idle, x.cancel)
	if err != nil {
		return nil, x.readErr(ctx, err)
	}
	env.Log("DEBUG", fmt.Sprintf("Request '%s %s' with response code '%d'", method, u.Redacted(), resp.StatusCode))

	out := map[string]any{
		"uri":     u.String(),
		"code":    resp.StatusCode,
		"headers": headerMap(resp.Header),
		"body":    string(raw),
		"length":  len(raw),
	}
	if !h.accepted(resp.StatusCode) {
		return nil, fmt.Errorf("failed http request with response code '%d'", resp.StatusCode)
	}
	return out, nil
}

// headerMap is the headers output: every name with its list of values.
func headerMap(h http.Header) map[string]any {
	headers := make(map[string]any, len(h))
	for k, vs := range h {
		list := make([]any, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		headers[k] = list
	}
	return headers
}

// accepted applies Kestra's rule: a listed allowedResponseCodes wins, else
// allowFailed keeps anything, else 4xx and 5xx fail.
func (h *HTTPRequest) accepted(code int) bool {
	o := h.opts()
	if len(o.AllowedResponseCodes) > 0 {
		return slices.Contains(o.AllowedResponseCodes, code)
	}
	if (h.AllowFailed != nil && *h.AllowFailed) || (o.AllowFailed != nil && *o.AllowFailed) {
		return true
	}
	return code < 400
}

// requestBody builds the body: formData as a multipart or URL-encoded form
// (by contentType), else the rendered body; it returns the content type to
// send.
func (h *HTTPRequest) requestBody(ctx context.Context, env runEnv, contentType string) (io.Reader, string, error) {
	if h.FormData != nil {
		v, err := env.RenderValue(ctx, map[string]any(h.FormData))
		if err != nil {
			return nil, "", err
		}
		form, _ := v.(map[string]any)
		if strings.HasPrefix(strings.ToLower(contentType), "multipart/form-data") {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for _, k := range sortedKeys(form) {
				if err := writePart(mw, k, form[k]); err != nil {
					return nil, "", fmt.Errorf("form field %q: %w", k, err)
				}
			}
			if err := mw.Close(); err != nil {
				return nil, "", fmt.Errorf("close multipart body: %w", err)
			}
			return &buf, mw.FormDataContentType(), nil
		}
		vals := url.Values{}
		for _, k := range sortedKeys(form) {
			vals.Set(k, str(form[k]))
		}
		return strings.NewReader(vals.Encode()), "application/x-www-form-urlencoded", nil
	}
	if h.Body == nil {
		return nil, "", nil
	}
	var body string
	if s, ok := h.Body.(string); ok {
		r, err := env.Render(ctx, s)
		if err != nil {
			return nil, "", err
		}
		body = r
	} else {
		// a YAML map or list as the body: render its strings, send JSON
		v, err := env.RenderValue(ctx, h.Body)
		if err != nil {
			return nil, "", err
		}
		body = str(v)
	}
	return strings.NewReader(body), contentType, nil
}

// writePart writes a form field; a map with name and content is a file
// part, as Kestra's formData accepts.
func writePart(mw *multipart.Writer, key string, v any) error {
	if m, ok := ordered.AsMap(v); ok {
		if name, ok := m["name"].(string); ok {
			w, err := mw.CreateFormFile(key, name)
			if err != nil {
				return err
			}
			_, err = io.WriteString(w, str(m["content"]))
			return err
		}
	}
	if s, ok := v.(string); ok && strings.HasPrefix(s, "kestra://") {
		return fmt.Errorf("%s is a file in internal storage, which Osprey does not have yet: send its content as {name, content}", s)
	}
	return mw.WriteField(key, str(v))
}

func (h *HTTPRequest) setAuth(req *http.Request, render func(string) (string, error)) error {
	o := h.opts()
	user, pass := o.BasicAuthUser, o.BasicAuthPassword
	if a := o.Auth; a != nil {
		switch strings.ToUpper(a.Type) {
		case "BASIC":
			user, pass = a.Username, a.Password
		case "BEARER":
			tok, err := render(a.Token)
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			return nil
		}
	}
	if user == "" && pass == "" {
		return nil
	}
	u, err := render(user)
	if err != nil {
		return err
	}
	p, err := render(pass)
	if err != nil {
		return err
	}
	req.SetBasicAuth(u, p)
	return nil
}

func renderDurations(render func(string) (string, error), in map[string]string) (map[string]time.Duration, error) {
	out := make(map[string]time.Duration, len(in))
	for _, k := range sortedKeys(in) {
		if in[k] == "" {
			continue
		}
		s, err := render(in[k])
		if err != nil {
			return nil, err
		}
		d, err := flow.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("options.%s: %w", k, err)
		}
		out[k] = d
	}
	return out, nil
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// errTooLarge is returned when a response passes options.maxContentLength.
var errTooLarge = errors.New("response body larger than options.maxContentLength")

// readIdle reads r up to limit bytes, cancelling the exchange when no byte
// arrives for idle (Kestra's readIdleTimeout).
func readIdle(r io.Reader, limit int64, idle time.Duration, cancel context.CancelCauseFunc) ([]byte, error) {
	timer := time.AfterFunc(idle, func() { cancel(fmt.Errorf("no data received for %s (options.readIdleTimeout)", idle)) })
	defer timer.Stop()
	var buf bytes.Buffer
	chunk := make([]byte, 32<<10)
	for {
		n, err := r.Read(chunk)
		if n > 0 {
			timer.Reset(idle)
			if int64(buf.Len()+n) > limit {
				return nil, errTooLarge
			}
			buf.Write(chunk[:n])
		}
		if errors.Is(err, io.EOF) {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

var _ worker.Runnable = (*HTTPRequest)(nil)
