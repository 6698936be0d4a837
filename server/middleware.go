package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ospreyhq/osprey/flow"
)

// basicAuth rejects requests without the configured credentials. Both
// sides are hashed first so the comparison takes the same time whatever
// the lengths. Failed attempts are slowed per client (lim).
func basicAuth(want BasicAuth, lim *loginLimiter) func(http.Handler) http.Handler {
	wantUser := sha256.Sum256([]byte(want.Username))
	wantPass := sha256.Sum256([]byte(want.Password))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, pass, ok := r.BasicAuth()
			u := sha256.Sum256([]byte(user))
			p := sha256.Sum256([]byte(pass))
			match := subtle.ConstantTimeCompare(u[:], wantUser[:]) & subtle.ConstantTimeCompare(p[:], wantPass[:])
			if !ok || match != 1 {
				if ok { // a request without credentials is not a guess
					if wait := lim.fail(r); wait > 0 {
						refuseLogin(w, wait)
						return
					}
				}
				// The web UI asks for credentials in its own form; a
				// challenge would make the browser open its dialog too.
				if r.Header.Get("X-Requested-With") != "XMLHttpRequest" {
					w.Header().Set("WWW-Authenticate", `Basic realm="osprey", charset="UTF-8"`)
				}
				writeJSON(w, http.StatusUnauthorized, errorBody{Message: "authentication required"})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// limitBody bounds every request body; reading past the limit fails with
// *http.MaxBytesError, which the error adapter turns into 413.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			limit := s.opts.MaxBodyBytes
			if s.uploadsFiles(r) {
				// readMultipartInputs keeps the form fields within
				// MaxBodyBytes; the files may be larger.
				limit = s.opts.MaxFileBytes + s.opts.MaxBodyBytes
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a handler panic into a logged 500 instead of a
// dropped connection; the stack goes to the log, never to the client.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "handler panicked", slog.Any("panic", v),
					slog.String("route", r.Pattern), slog.String("stack", string(debug.Stack())))
				writeJSON(w, http.StatusInternalServerError, errorBody{Message: "internal server error"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// httpMetrics counts requests and times them by route pattern, method and
// status; the pattern (not the path) keeps label cardinality bounded.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "osprey_http_requests_total",
			Help: "HTTP requests served by the API, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "osprey_http_request_duration_seconds",
			Help:    "Time to serve API requests, by route pattern, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "code"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe wraps the mux directly: ServeMux records the matched pattern on
// the request it was given, so it is readable once ServeHTTP returns. It
// counts and times the request and logs it at debug level by pattern, never
// by path or query, which may carry a webhook key.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		code := strconv.Itoa(sw.status)
		s.metrics.requests.WithLabelValues(route, r.Method, code).Inc()
		s.metrics.duration.WithLabelValues(route, r.Method, code).Observe(elapsed.Seconds())
		s.log.DebugContext(r.Context(), "request", slog.String("route", route),
			slog.Int("status", sw.status), slog.Duration("elapsed", elapsed))
	})
}

// statusWriter remembers the status code. Unwrap lets
// http.ResponseController reach Flush and SetWriteDeadline underneath.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		w.wroteHeader = true
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// muxErrorsAsJSON gives the mux's own 404 and 405 answers (no route, wrong
// method) the API's JSON error shape instead of plain text. It only acts
// on requests no route matched, so handlers' responses pass untouched.
func muxErrorsAsJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&muxErrorWriter{ResponseWriter: w, r: r}, r)
	})
}

type muxErrorWriter struct {
	http.ResponseWriter
	r       *http.Request
	swallow bool
}

func (w *muxErrorWriter) WriteHeader(code int) {
	if w.r.Pattern == "" && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		msg := "no such endpoint: " + w.r.URL.Path
		if code == http.StatusMethodNotAllowed {
			msg = "method " + w.r.Method + " is not allowed on " + w.r.URL.Path
		}
		writeJSON(w.ResponseWriter, code, errorBody{Message: msg})
		w.swallow = true
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *muxErrorWriter) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *muxErrorWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *muxErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// checkNamespace refuses a {namespace} path value that flow.CheckNamespace
// refuses, before any route reads or writes under it: every route taking a
// namespace (flows, executions, KV, files, secrets, triggers) follows the
// one rule.
func checkNamespace(next HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := flow.CheckNamespace(r.PathValue("namespace")); err != nil {
			return Errorf(http.StatusBadRequest, err.Error())
		}
		return next(w, r)
	}
}

// noSniff tells browsers to trust the Content-Type of every API response,
// so that a namespace file or a log line is never run as HTML or script.
func noSniff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}
