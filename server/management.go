package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ospreyhq/osprey/store"
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

// DefaultLivenessWindow is how old a loop's last pass may be before
// liveness reports it wedged. Every loop turns at least every few seconds
// while healthy (the scheduler's pass is bounded to 30 seconds), so a
// minute leaves room for a slow store without hiding a stuck one for long.
const DefaultLivenessWindow = time.Minute

// Pinger is the store as readiness sees it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Loop is a component's background loop as liveness sees it: LastPass is
// when it last turned. The executor, worker and scheduler provide it.
type Loop struct {
	Name     string
	LastPass func() time.Time
}

// ManagementOptions configure a Management server. Store is required.
type ManagementOptions struct {
	// Addr is the listen address ("127.0.0.1:8081"); empty serves nothing
	// (Handler still works).
	Addr  string
	Store Pinger
	// Loops are the process's loops; liveness fails when one of them has
	// not turned within Window.
	Loops  []Loop
	Window time.Duration
	// Registry is served on /metrics; nil creates one with the Go and
	// process collectors.
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// Now is the clock liveness compares pass times with (time.Now).
	Now func() time.Time
	// Queue, when set, adds the queue's depth and age to /metrics, read
	// at every scrape (processes that run an executor or a worker set it).
	Queue store.QueueInspector
	// Pprof serves Go's profiler under /debug/pprof/ (osprey.pprof), for
	// profiling a running process; `osprey bench --profile-dir` uses it.
	Pprof bool
}

// Management serves the management port of any role: /health,
// /health/liveness, /health/readiness (Micronaut's paths, which Kestra's
// chart probes) and /metrics.
//
//   - liveness is DOWN when a loop of the process is wedged: its last pass is
//     older than the window. A store outage does not fail liveness:
//     restarting the pod would not bring the database back. Once draining,
//     loops stop on purpose and liveness stays UP until the process exits.
//   - readiness is DOWN while the store does not answer, and for good once
//     Drain was called (SIGTERM: the process stops taking work).
//   - /health is DOWN when either is.
type Management struct {
	o        ManagementOptions
	log      *slog.Logger
	mux      *http.ServeMux
	draining atomic.Bool

	mu      sync.Mutex
	srv     *http.Server
	addr    net.Addr
	stopped bool
}

// NewManagement builds a management server; Start listens.
func NewManagement(o ManagementOptions) *Management {
	if o.Window <= 0 {
		o.Window = DefaultLivenessWindow
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
		o.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Management{o: o, log: o.Logger.With(slog.String("component", "management")), mux: http.NewServeMux()}
	if o.Queue != nil {
		o.Registry.MustRegister(queueCollector{q: o.Queue, now: o.Now, log: m.log})
	}
	m.mux.HandleFunc("GET /health", m.serveHealth(true, true))
	m.mux.HandleFunc("GET /health/liveness", m.serveHealth(true, false))
	m.mux.HandleFunc("GET /health/readiness", m.serveHealth(false, true))
	m.mux.Handle("GET /metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{
		Registry: o.Registry,
		// A metric that cannot be read (the store is down) is left out;
		// the others are still served.
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	}))
	if o.Pprof {
		m.mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		m.mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		m.mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		m.mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		m.mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return m
}

// Handler serves the management endpoints.
func (m *Management) Handler() http.Handler { return recoverPanics(m.log, m.mux) }

// Drain makes readiness fail from now on, so that Kubernetes takes the pod
// out of its Service while the process finishes its work.
func (m *Management) Drain() { m.draining.Store(true) }

// serveHealth answers a health path with the checks it covers.
func (m *Management) serveHealth(live, ready bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		details := map[string]any{}
		up := true
		check := func(name string, err error) {
			st := map[string]any{"name": name, "status": "UP"}
			if err != nil {
				up = false
				st["status"] = "DOWN"
				st["details"] = map[string]any{"error": err.Error()}
			}
			details[name] = st
		}
		// A draining process stops its loops on purpose; they are not wedged.
		if live && !m.draining.Load() {
			now := m.o.Now()
			for _, l := range m.o.Loops {
				var err error
				if age := now.Sub(l.LastPass()); age > m.o.Window {
					err = fmt.Errorf("the %s loop has not turned for %s (window %s)", l.Name, age.Round(time.Second), m.o.Window)
				}
				check(l.Name, err)
			}
		}
		if ready {
			ctx, cancel := context.WithTimeout(r.Context(), pingTimeout)
			err := m.o.Store.Ping(ctx)
			cancel()
			if err != nil {
				m.log.WarnContext(r.Context(), "store ping failed", "err", err)
				// The driver's error stays in the log: it may name hosts.
				err = errors.New("the store does not answer")
			}
			check("store", err)
			if m.draining.Load() {
				check("shutdown", errors.New("draining: the process is stopping"))
			}
		}
		status, code := "UP", http.StatusOK
		if !up {
			status, code = "DOWN", http.StatusServiceUnavailable
		}
		writeJSON(w, code, health{Name: "osprey", Status: status, Details: details})
	}
}

// Start listens on Addr and serves in the background.
func (m *Management) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srv != nil || m.stopped {
		return errors.New("management server already started")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", m.o.Addr)
	if err != nil {
		return fmt.Errorf("listen management on %s: %w", m.o.Addr, err)
	}
	m.addr = ln.Addr()
	m.srv = &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	}
	go func(hs *http.Server) {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("management server stopped", slog.Any("err", err))
		}
	}(m.srv)
	m.log.InfoContext(ctx, "management listening", slog.String("addr", m.addr.String()))
	return nil
}

// Addr is the bound address once started.
func (m *Management) Addr() net.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addr
}

// Stop shuts the server down, waiting for requests until ctx ends. It is
// idempotent.
func (m *Management) Stop(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped || m.srv == nil {
		m.stopped = true
		return nil
	}
	m.stopped = true
	if err := m.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down management server: %w", err)
	}
	return nil
}

// ManagementAddr applies the management port's bind rule: loopback unless
// a host is configured (the chart configures every interface so that the
// kubelet's probes and Prometheus reach it).
func ManagementAddr(host string, port int) string {
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(port))
}

var (
	queueJobsDesc = prometheus.NewDesc("osprey_queue_jobs", "Jobs (task run attempts) in the queue, by state.",
		[]string{"state"}, nil)
	queueAgeDesc = prometheus.NewDesc("osprey_queue_oldest_job_age_seconds",
		"How long the oldest queued job has waited for a worker (0 when none waits).", nil, nil)
	queuePendingDesc = prometheus.NewDesc("osprey_queue_executions_pending",
		"Executions marked for an executor step.", nil, nil)
)

// queueCollector reads the queue's depth at scrape time, so that every
// scrape sees the store's truth rather than this process's view.
type queueCollector struct {
	q   store.QueueInspector
	now func() time.Time
	log *slog.Logger
}

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueJobsDesc
	ch <- queueAgeDesc
	ch <- queuePendingDesc
}

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	st, err := c.q.Stats(ctx)
	if err != nil {
		c.log.Warn("read queue depth", "err", err)
		ch <- prometheus.NewInvalidMetric(queueJobsDesc, errors.New("the store does not answer"))
		return
	}
	ch <- prometheus.MustNewConstMetric(queueJobsDesc, prometheus.GaugeValue, float64(st.JobsQueued), "queued")
	ch <- prometheus.MustNewConstMetric(queueJobsDesc, prometheus.GaugeValue, float64(st.JobsRunning), "running")
	age := 0.0
	if !st.OldestQueued.IsZero() {
		age = max(c.now().Sub(st.OldestQueued).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(queueAgeDesc, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(queuePendingDesc, prometheus.GaugeValue, float64(st.ExecutionsPending))
}
