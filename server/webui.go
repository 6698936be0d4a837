package server

import (
	"net/http"

	"github.com/ospreyhq/osprey/server/ui"
)

// uiRoutes serves the web UI at /ui/ and sends / there. The UI's files are
// public, as Kestra's are: the page asks for credentials and sends them
// with every API call, which basic auth still guards.
func (s *Server) uiRoutes() {
	s.api.Handle("GET /ui/", ui.Handler("/ui/"))
	s.api.HandleFunc("GET /ui", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/", http.StatusFound)
	})
	s.api.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/", http.StatusFound)
	})
}
