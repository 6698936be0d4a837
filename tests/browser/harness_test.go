package browser

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/cli"
	"github.com/ospreyhq/osprey/devkit/testkit"
)

// chromium finds the browser, or skips (fails under CI=true).
func chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed: .ci/run installs it with apt-get install -y chromium")
	}
	t.Skip("chromium is not installed (apt-get install chromium): skipping the browser tests")
	return ""
}

// osprey is `osprey server local` running in-process on a free port.
type osprey struct {
	base string
	mgmt string // the management port's base URL (health, /metrics)
	logs *testkit.SyncBuffer
	user string
	pass string
}

// startOsprey runs `osprey -c config server local` (or the role given)
// with environ until the test ends, and waits until the API answers.
func startOsprey(t testing.TB, config string, environ []string, role ...string) *osprey {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "application.yml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(config), 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	o := &osprey{logs: &testkit.SyncBuffer{}}
	done, exited := make(chan int, 1), make(chan struct{})
	args := []string{"-c", cfgPath, "server", "local", "--data-dir", filepath.Join(dir, "data")}
	if len(role) > 0 {
		args = []string{"-c", cfgPath, "server", role[0]}
	}
	// The server picks its ports and logs them: one picked here could be
	// taken first by another package's server, which would answer instead.
	args = append(args, "--port", "0", "--management-port", "0")
	go func() {
		done <- cli.Main(ctx, args, strings.NewReader(""), io.Discard, o.logs, environ)
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("osprey did not stop; logs:\n%s", o.logs.String())
		}
	})
	addr, err := testkit.APIAddr(o.logs, exited, 30*time.Second)
	if err != nil {
		t.Fatalf("osprey: %v; logs:\n%s", err, o.logs.String())
	}
	o.base = "http://" + addr
	mgmt, err := testkit.ManagementAddr(o.logs, exited, 30*time.Second)
	if err != nil {
		t.Fatalf("osprey: %v; logs:\n%s", err, o.logs.String())
	}
	o.mgmt = "http://" + mgmt
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(o.base + "/ui/")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return o
			}
		}
		select {
		case code := <-done:
			t.Fatalf("osprey exited with %d; logs:\n%s", code, o.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("osprey did not come up; logs:\n%s", o.logs.String())
	return nil
}

// call sends one API request with the server's credentials.
func (o *osprey) call(t testing.TB, method, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, o.base+"/api/v1/main"+path, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if o.user != "" {
		req.SetBasicAuth(o.user, o.pass)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

func (o *osprey) createFlow(t testing.TB, src string) {
	t.Helper()
	code, body := o.call(t, http.MethodPost, "/flows", "application/x-yaml", src)
	require.Equal(t, http.StatusOK, code, body)
}

// browser is one headless Chromium tab that records every response body.
type browser struct {
	t     testing.TB
	ctx   context.Context
	shots string

	mu        sync.Mutex
	responses map[network.RequestID]*recorded
}

type recorded struct {
	url     string
	headers string
	body    bytes.Buffer
	stream  bool
}

// newBrowser starts Chromium at 1280×800.
func newBrowser(t testing.TB, width, height int64) *browser {
	t.Helper()
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(int(width), int(height)), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	// This chromedp predates some DOM events of Debian's Chromium and logs
	// each as an error; they are harmless, anything else is still logged.
	logErr := func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "unhandled node event") {
			log.Print(msg)
		}
	}
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithErrorf(logErr))
	t.Cleanup(func() { cancelC(); cancelA() })
	b := &browser{t: t, ctx: ctx, responses: map[network.RequestID]*recorded{}}
	b.shots = os.Getenv("OSPREY_UI_SCREENSHOTS")
	if b.shots == "" {
		b.shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(b.shots, 0o755))
	chromedp.ListenTarget(ctx, b.onEvent)
	require.NoError(t, chromedp.Run(ctx, network.Enable(), chromedp.EmulateViewport(width, height)))
	return b
}

// onEvent records responses: a finished one's body is read at once; an
// event stream's data is streamed as it arrives, so a stream the page
// leaves before it ends is scanned too.
func (b *browser) onEvent(ev any) {
	switch e := ev.(type) {
	case *network.EventResponseReceived:
		r := &recorded{url: e.Response.URL, stream: strings.HasPrefix(e.Response.MimeType, "text/event-stream")}
		for k, v := range e.Response.Headers {
			r.headers += fmt.Sprintf("%s: %v\n", k, v)
		}
		b.mu.Lock()
		b.responses[e.RequestID] = r
		b.mu.Unlock()
		if r.stream {
			id := e.RequestID
			go func() {
				c := chromedp.FromContext(b.ctx)
				ctx := cdp.WithExecutor(b.ctx, c.Target)
				data, err := network.StreamResourceContent(id).Do(ctx)
				if err == nil {
					b.mu.Lock()
					r.body.Write(data)
					b.mu.Unlock()
				}
			}()
		}
	case *network.EventDataReceived:
		if e.Data == "" {
			return
		}
		raw, err := base64.StdEncoding.DecodeString(e.Data)
		if err != nil {
			return
		}
		b.mu.Lock()
		if r := b.responses[e.RequestID]; r != nil {
			r.body.Write(raw)
		}
		b.mu.Unlock()
	case *network.EventLoadingFinished:
		id := e.RequestID
		b.mu.Lock()
		r := b.responses[id]
		b.mu.Unlock()
		if r == nil {
			return
		}
		if r.stream {
			// A stream that ended before streaming was switched on still
			// has its whole body; read it (a duplicate is harmless here).
			b.mu.Lock()
			empty := r.body.Len() == 0
			b.mu.Unlock()
			if !empty {
				return
			}
		}
		go func() {
			c := chromedp.FromContext(b.ctx)
			ctx := cdp.WithExecutor(b.ctx, c.Target)
			body, err := network.GetResponseBody(id).Do(ctx)
			if err == nil {
				b.mu.Lock()
				r.body.Write(body)
				b.mu.Unlock()
			}
		}()
	}
}

// received reports whether some recorded response holds s.
func (b *browser) received(s string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.responses {
		if strings.Contains(r.body.String(), s) {
			return true
		}
	}
	return false
}

// scan fails the test if any recorded response holds one of values, and
// reports how many responses it read.
func (b *browser) scan(values ...string) int {
	b.t.Helper()
	time.Sleep(200 * time.Millisecond) // let body reads in flight land
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, r := range b.responses {
		n++
		text := r.headers + r.body.String()
		for _, v := range values {
			require.NotContains(b.t, text, v, "the response of %s holds a secret value", r.url)
		}
	}
	return n
}

func (b *browser) run(actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.fail(err)
	}
}

// fail ends the test with err, keeping what the page showed, to see why.
func (b *browser) fail(err error) {
	b.t.Helper()
	var png []byte
	var html string
	_ = chromedp.Run(b.ctx, chromedp.CaptureScreenshot(&png), chromedp.OuterHTML("body", &html))
	_ = os.WriteFile(filepath.Join(b.shots, "failed.png"), png, 0o644)
	b.t.Fatalf("%v\npage: %.3000s\nscreenshot: %s", err, html, filepath.Join(b.shots, "failed.png"))
}

// shot saves the viewport as name.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	// Every control on the page has a name a screen reader can say.
	var controls struct {
		Seen    int      `json:"seen"`
		Unnamed []string `json:"unnamed"`
	}
	b.run(chromedp.Evaluate(`(() => {
		const seen = [...document.querySelectorAll('button, a[href], input, select, textarea, [contenteditable=true]')]
			.filter(el => el.offsetParent !== null || el.closest('dialog[open]'));
		const unnamed = seen.filter(el => !((el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.title || (el.tagName !== 'INPUT' && el.textContent.trim())))
			.map(el => el.outerHTML.slice(0, 120));
		return { seen: seen.length, unnamed };
	})()`, &controls))
	require.Positive(b.t, controls.Seen, "the page %s shows controls", name)
	require.Empty(b.t, controls.Unnamed, "controls without an accessible name on %s", name)
	var png []byte
	b.run(chromedp.Sleep(150*time.Millisecond), chromedp.CaptureScreenshot(&png))
	require.NoError(b.t, os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644))
}

// text waits for sel and returns its text.
func (b *browser) text(sel string) string {
	b.t.Helper()
	var s string
	b.run(chromedp.WaitVisible(sel), chromedp.Text(sel, &s))
	return s
}

// waitJS polls a JavaScript condition until it is true. A poll started
// just after a navigation can be handed the old page's execution context
// (chromedp learns of the new one from an event that may not have been
// read yet on a loaded machine): Chrome then answers "Cannot find context
// with specified id", and the poll is started again in the new page.
func (b *browser) waitJS(cond string) {
	b.t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for {
		ctx, cancel := context.WithDeadline(b.ctx, deadline.Add(5*time.Second))
		err := chromedp.Run(ctx, chromedp.Poll(cond, nil, chromedp.WithPollingTimeout(time.Until(deadline))))
		cancel()
		if err == nil {
			return
		}
		if !staleContext(err) || time.Now().After(deadline) {
			b.fail(fmt.Errorf("waiting for %s: %w", cond, err))
		}
		// An evaluation makes chromedp take up the page's current context.
		_ = chromedp.Run(b.ctx, chromedp.Evaluate(`true`, nil))
		time.Sleep(50 * time.Millisecond)
	}
}

// staleContext reports whether err is Chrome refusing an evaluation in an
// execution context a navigation replaced.
func staleContext(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Cannot find context with specified id") || strings.Contains(msg, "Execution context was destroyed")
}

// setEditor replaces the editor's text as a paste would, then puts the
// cursor at its end and focuses it.
func (b *browser) setEditor(src string) {
	b.t.Helper()
	b.waitJS(`!!(document.querySelector('[data-testid=editor]') || {}).editorView`)
	js := fmt.Sprintf(`(() => { const v = document.querySelector('[data-testid=editor]').editorView; v.dispatch({changes: {from: 0, to: v.state.doc.length, insert: %q}, selection: {anchor: %d}}); v.focus(); return true; })()`, src, len(src))
	var ok bool
	b.run(chromedp.Evaluate(js, &ok))
}

func (b *browser) location() string {
	var u string
	b.run(chromedp.Location(&u))
	return u
}
