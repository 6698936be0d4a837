package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// client speaks Osprey's (Kestra's) HTTP API.
type client struct {
	base string
	http *http.Client
}

func newClient(base string) *client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 4096, 4096
	return &client{base: base, http: &http.Client{Transport: t}}
}

// execution is the part of an execution's JSON the harness reads.
type execution struct {
	ID    string `json:"id"`
	State struct {
		Current string `json:"current"`
	} `json:"state"`
	TaskRunList []struct {
		ID    string `json:"id"`
		Error string `json:"error"`
		State struct {
			Current string `json:"current"`
		} `json:"state"`
	} `json:"taskRunList"`
	Error string `json:"error"`
}

// succeeded counts the task runs that ended in SUCCESS.
func (e execution) succeeded() int {
	n := 0
	for _, tr := range e.TaskRunList {
		if tr.State.Current == "SUCCESS" {
			n++
		}
	}
	return n
}

// reason is the first error the execution or its task runs report.
func (e execution) reason() string {
	if e.Error != "" {
		return e.Error
	}
	for _, tr := range e.TaskRunList {
		if tr.Error != "" {
			return tr.Error
		}
	}
	return ""
}

func (c *client) do(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// createFlow stores a flow in a fresh server.
func (c *client) createFlow(ctx context.Context, src string) error {
	return c.do(ctx, http.MethodPost, "/flows", "application/x-yaml", []byte(src), nil)
}

// putSecret stores a secret through Osprey's secrets API (into the vault
// the server is configured with).
func (c *client) putSecret(ctx context.Context, key, value string) error {
	body, _ := json.Marshal(map[string]string{"key": key, "value": value})
	return c.do(ctx, http.MethodPut, "/namespaces/"+namespace+"/secrets", "application/json", body, nil)
}

// run starts an execution of flowID; with wait it answers once it ended.
func (c *client) run(ctx context.Context, flowID string, wait bool) (execution, error) {
	var e execution
	path := "/executions/" + namespace + "/" + flowID
	if wait {
		path += "?wait=true"
	}
	err := c.do(ctx, http.MethodPost, path, "", nil, &e)
	return e, err
}

// latest returns the newest execution of flowID.
func (c *client) latest(ctx context.Context, flowID string) (execution, error) {
	var page struct {
		Results []execution `json:"results"`
	}
	if err := c.do(ctx, http.MethodGet, "/executions/search?namespace="+namespace+"&flowId="+flowID+"&size=1", "", nil, &page); err != nil {
		return execution{}, err
	}
	if len(page.Results) == 0 {
		return execution{}, fmt.Errorf("no execution of %s found", flowID)
	}
	return page.Results[0], nil
}

func (c *client) kill(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/executions/"+id+"/kill", "", nil, nil)
}

// follow opens the log follow (SSE) of execution id and sends, for each
// log line, how long after the line's timestamp it arrived.
func (c *client) followLogs(ctx context.Context, id string, lags chan<- time.Duration) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/logs/"+id+"/follow", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("follow logs of %s: %w", id, err)
	}
	defer resp.Body.Close()
	return readSSE(resp.Body, func(event, data string) bool {
		if event != "progress" {
			return event != "end"
		}
		var le struct {
			Timestamp time.Time `json:"timestamp"`
		}
		if json.Unmarshal([]byte(data), &le) == nil && !le.Timestamp.IsZero() {
			lags <- time.Since(le.Timestamp)
		}
		return true
	})
}

// readSSE calls fn with each event's id and data until fn returns false or
// the stream ends.
func readSSE(r io.Reader, fn func(event, data string) bool) error {
	buf := make([]byte, 0, 64<<10)
	var id, data string
	tmp := make([]byte, 32<<10)
	for {
		n, err := r.Read(tmp)
		buf = append(buf, tmp[:n]...)
		for {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				break
			}
			line := string(buf[:i])
			buf = buf[i+1:]
			switch {
			case strings.HasPrefix(line, "id: "):
				id = line[4:]
			case strings.HasPrefix(line, "data: "):
				data = line[6:]
			case line == "" && id != "":
				if !fn(id, data) {
					return nil
				}
				id, data = "", ""
			}
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}
