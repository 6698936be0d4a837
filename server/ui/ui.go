// Package ui holds the web UI's built assets, embedded in the binary, and
// the handler that serves them under /ui/.
//
// The sources live in the repository's ui/ folder (Preact and CodeMirror,
// built with Vite); `npm ci && npm run build` there writes dist/ here, and
// the built files are committed so that `go build` needs no Node. A test
// rebuilds them under CI and fails when they differ from the sources.
package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed dist
var dist embed.FS

// Assets are the built files, rooted at dist/.
func Assets() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("ui: dist missing from the embedded files: " + err.Error())
	}
	return sub
}

// Handler serves the UI mounted at prefix ("/ui/"). A path naming a built
// file serves that file; any other path serves index.html, so deep links
// (/ui/main/executions/ns/flow/id/logs) load the page and the client
// routes them. Hashed assets are cached for a year; index.html never is,
// so a new binary's UI is picked up at the next load.
func Handler(prefix string) http.Handler {
	assets := Assets()
	files := http.FileServerFS(assets)
	index, err := fs.ReadFile(assets, "index.html")
	if err != nil {
		panic("ui: index.html missing from the embedded files: " + err.Error())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(strings.TrimPrefix(r.URL.Path, prefix)), "/")
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if name != "" && name != "." && name != "index.html" {
			if st, err := fs.Stat(assets, name); err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") {
					h.Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				r2 := r.Clone(r.Context())
				r2.URL.Path = "/" + name
				files.ServeHTTP(w, r2)
				return
			}
			if strings.HasPrefix(name, "assets/") {
				http.NotFound(w, r)
				return
			}
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
		_, _ = w.Write(index)
	})
}
