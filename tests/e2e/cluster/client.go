package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/flow"
)

// Client speaks to a webserver's Kestra API: what a user's client would
// do, so the checks read what a user would read.
type Client struct {
	Base string
	HTTP *http.Client
}

// NewClient returns a client of the API at base (http://host:port).
func NewClient(base string) *Client {
	return &Client{Base: base, HTTP: &http.Client{Timeout: 15 * time.Second}}
}

// StatusError is an answer other than the one expected.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Code, e.Body) }

func (c *Client) do(ctx context.Context, method, path, contentType string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+"/api/v1/main"+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %w", method, path, &StatusError{Code: res.StatusCode, Body: string(raw)})
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// WaitReady polls the API until it answers or ctx ends.
func (c *Client) WaitReady(ctx context.Context) error {
	for {
		err := c.do(ctx, http.MethodGet, "/flows/search?size=1", "", nil, http.StatusOK, nil)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("API at %s not ready: %w", c.Base, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PutFlow creates or updates a flow from its YAML.
func (c *Client) PutFlow(ctx context.Context, namespace, id, src string) error {
	err := c.do(ctx, http.MethodPut, "/flows/"+namespace+"/"+id, "application/x-yaml", []byte(src), http.StatusOK, nil)
	var se *StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		return c.do(ctx, http.MethodPost, "/flows", "application/x-yaml", []byte(src), http.StatusOK, nil)
	}
	return err
}

// Submit starts an execution of a flow (no inputs) with labels
// ("key:value") and returns its id.
func (c *Client) Submit(ctx context.Context, namespace, id string, labels ...string) (string, error) {
	q := url.Values{}
	for _, l := range labels {
		q.Add("labels", l)
	}
	path := "/executions/" + namespace + "/" + id
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var ex flow.Execution
	if err := c.do(ctx, http.MethodPost, path, "application/json", []byte("{}"), http.StatusOK, &ex); err != nil {
		return "", err
	}
	return ex.ID, nil
}

// Execution reads one execution.
func (c *Client) Execution(ctx context.Context, id string) (*flow.Execution, error) {
	var ex flow.Execution
	if err := c.do(ctx, http.MethodGet, "/executions/"+id, "", nil, http.StatusOK, &ex); err != nil {
		return nil, err
	}
	return &ex, nil
}

// Executions reads every execution of a namespace (and flow, when flowID
// is not empty), page by page.
func (c *Client) Executions(ctx context.Context, namespace, flowID string) ([]*flow.Execution, error) {
	var all []*flow.Execution
	for page := 1; ; page++ {
		q := url.Values{"namespace": {namespace}, "page": {strconv.Itoa(page)}, "size": {"500"}}
		if flowID != "" {
			q.Set("flowId", flowID)
		}
		var res struct {
			Results []*flow.Execution `json:"results"`
			Total   int               `json:"total"`
		}
		if err := c.do(ctx, http.MethodGet, "/executions/search?"+q.Encode(), "", nil, http.StatusOK, &res); err != nil {
			return nil, err
		}
		all = append(all, res.Results...)
		if len(res.Results) == 0 || len(all) >= res.Total {
			break
		}
	}
	// A page boundary can move while executions are created: keep one of
	// each.
	seen := map[string]bool{}
	out := all[:0]
	for _, e := range all {
		if !seen[e.ID] {
			seen[e.ID] = true
			out = append(out, e)
		}
	}
	return out, nil
}

// Terminal reports whether an execution has ended.
func Terminal(ex *flow.Execution) bool { return ex.State.Current.IsTerminal() }

// Label returns the value of an execution's label key.
func Label(ex *flow.Execution, key string) string {
	for _, l := range ex.Labels {
		if l.Key == key {
			return l.Value
		}
	}
	return ""
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
