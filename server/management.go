package server

import (
	"context"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// health is Micronaut's health response, which Kestra's probes and
// dashboards read.
type health struct {
	Name    string         `json:"name"`
	Status  string         `json:"status"`
	Details map[string]any `json:"details,omitempty"`
}

// pingTimeout bounds a readiness check so a hung database fails it.
const pingTimeout = 2 * time.Second

func (s *Server) managementRoutes() {
	s.mgmt.HandleFunc("GET /health", s.healthAll)
	s.mgmt.HandleFunc("GET /health/readiness", s.healthAll)
	s.mgmt.HandleFunc("GET /health/liveness", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, health{Name: "osprey", Status: "UP"})
	})
	s.mgmt.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	if s.opts.Pprof {
		s.mgmt.HandleFunc("GET /debug/pprof/", pprof.Index)
		s.mgmt.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		s.mgmt.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		s.mgmt.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		s.mgmt.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
}

// healthAll reports DOWN, with 503, while the store does not answer.
func (s *Server) healthAll(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), pingTimeout)
	defer cancel()
	st := map[string]any{"name": "osprey", "status": "UP"}
	status, code := "UP", http.StatusOK
	if err := s.opts.Store.Ping(ctx); err != nil {
		s.log.WarnContext(r.Context(), "store ping failed", "err", err)
		st = map[string]any{"name": "osprey", "status": "DOWN", "details": map[string]any{"error": "the store does not answer"}}
		status, code = "DOWN", http.StatusServiceUnavailable
	}
	writeJSON(w, code, health{Name: "osprey", Status: status, Details: map[string]any{"store": st}})
}
