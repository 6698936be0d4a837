// Package browser drives the web UI in headless Chromium (Debian's
// chromium, through chromedp) against `osprey server local` run
// in-process: a person's path through the editor, the execute form, the
// execution page and the secrets page. Every response the browser receives
// is recorded and scanned for secret values, and every page is saved as a
// screenshot (into $OSPREY_UI_SCREENSHOTS when set, as docs/ui/ is made).
//
// Without Chromium the tests skip with a message; under CI=true they fail.
package browser
