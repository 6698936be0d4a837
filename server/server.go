package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/store"
)

// Runner starts and kills executions; the engine implements it. The server
// only validates the request shape; the runner validates inputs against the
// flow and returns *InputError or flow.Errors for a bad input. It must be
// safe for concurrent use: every request may call it.
type Runner interface {
	// Start creates an execution of p.Flow and hands it to the executor.
	// The returned execution is already stored.
	Start(ctx context.Context, p StartParams) (*flow.Execution, error)
	// Kill asks the executor to kill a running execution.
	Kill(ctx context.Context, id string) error
}

// StartParams are the arguments of Runner.Start. Inputs hold strings from a
// multipart form or JSON values from a JSON body; the runner coerces them
// to the declared input types.
type StartParams struct {
	Flow   *flow.Flow
	Inputs map[string]any
	Labels []flow.Label
	// ScheduleDate, when set, starts the execution at that date (it stays
	// CREATED until then).
	ScheduleDate *time.Time
	// ExecutionID, when set, is the id the execution must get: FILE inputs
	// were uploaded under it before the execution existed, or ?wait=true
	// listens for its end already.
	ExecutionID string
}

// BasicAuth is the API's credential (kestra.server.basic-auth).
type BasicAuth struct {
	Username string
	Password string
}

// String keeps the password out of anything that prints a BasicAuth.
func (b BasicAuth) String() string { return b.Username + ":******" }

// LogValue keeps the password out of logs.
func (b BasicAuth) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", b.Username), slog.String("password", "******"))
}

// Flows loads parsed flow revisions; what it returns is shared and never
// changed.
type Flows interface {
	Get(ctx context.Context, namespace, id string, rev int) (*flow.Flow, error)
}

// Options configure a Server. Store, Parse and Runner are required.
type Options struct {
	Store  store.Store
	Parse  func(src []byte) (*flow.Flow, error)
	Runner Runner
	// Flows, when set, serves parsed flow revisions shared with the other
	// components (read-only): starting an execution then parses its flow
	// once per revision rather than at every request. Without it, each
	// start parses the flow with Parse.
	Flows  Flows
	Logger *slog.Logger
	// Triggers enables the webhook endpoint and the trigger API.
	Triggers *Triggers

	// Addr is the API's listen address ("127.0.0.1:8080"; port 0 picks one).
	// Use ListenAddr to derive it from the configured host and auth.
	Addr string
	// ManagementAddr is the management server's address (health, metrics);
	// empty disables it.
	ManagementAddr string

	// BasicAuth protects the API when set; management stays open.
	BasicAuth *BasicAuth
	// AllowUnauthenticated lets the API listen on a non-loopback address
	// without BasicAuth (kestra.server.basic-auth.enabled: false).
	AllowUnauthenticated bool

	// Registry receives the HTTP metrics and is served on /metrics; callers
	// register their own collectors on it. Nil creates one with the Go and
	// process collectors.
	Registry *prometheus.Registry

	// PollInterval is how often waits and follows re-read the store when
	// no wake-up arrives (default 5s). The store wakes them on every change
	// of their execution, so this only bounds the cost of a lost wake-up.
	PollInterval time.Duration
	// MaxWait bounds ?wait=true (default 10m).
	MaxWait time.Duration
	// KeepAlive is the interval of SSE keep-alive comments (default 15s).
	KeepAlive time.Duration
	// MaxBodyBytes bounds request bodies (default 8 MiB); file parts of an
	// execution's inputs are bounded by MaxFileBytes instead.
	MaxBodyBytes int64
	// Storage keeps FILE inputs and serves executions' files; nil refuses
	// file uploads.
	Storage storage.Storage
	// MaxFileBytes bounds the file parts of one execution request
	// (default 10 GiB, as Kestra's max-request-size).
	MaxFileBytes int64
	// WriteTimeout bounds writing an API response (default 1m); event
	// streams and ?wait=true lift it for their own request.
	WriteTimeout time.Duration
}

// Server serves the API and the management endpoints.
type Server struct {
	opts    Options
	log     *slog.Logger
	api     *http.ServeMux
	mgmt    *Management
	reg     *prometheus.Registry
	metrics *httpMetrics
	logins  *loginLimiter

	// served are the patterns mounted with Handle, relative to the API
	// prefixes; postActions are the verbs executionActions dispatches.
	// Together they say which routes the server answers (servedRoutes).
	served      []string
	postActions map[string]HandlerFunc

	// closing is closed when Stop begins, ending event streams and waits,
	// which would otherwise hold Shutdown until its deadline.
	closing chan struct{}

	mu       sync.Mutex
	started  bool
	servers  []*http.Server
	apiAddr  net.Addr
	mgmtAddr net.Addr
	stopped  bool
	stopErr  error
}

// New builds a Server and registers its routes. Mount more routes with
// Handle before Start.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Second
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 10 * time.Minute
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = 15 * time.Second
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = 10 << 30
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 8 << 20
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = time.Minute
	}
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s := &Server{
		opts:    o,
		log:     o.Logger.With(slog.String("component", "webserver")),
		api:     http.NewServeMux(),
		mgmt:    NewManagement(ManagementOptions{Store: o.Store, Registry: reg, Logger: o.Logger}),
		reg:     reg,
		metrics: newHTTPMetrics(reg),
		logins:  newLoginLimiter(),
		closing: make(chan struct{}),
	}
	s.routes()
	s.actionRoutes()
	s.bulkRoutes()
	s.overviewRoutes()
	s.uiRoutes()
	if o.Triggers != nil {
		s.triggerRoutes()
	}
	s.evalAndWebhookRoutes()
	return s
}

// apiPrefixes are where every API route is mounted: Kestra's tenant path
// for the only tenant, "main", and the un-tenanted alias older clients use.
var apiPrefixes = []string{"/api/v1/main", "/api/v1"}

// Handle mounts h at pattern, written as "METHOD /path" relative to the
// API prefix ("GET /namespaces/{namespace}/secrets"), under every API
// prefix, behind basic auth when configured. Call it before Start.
func (s *Server) Handle(pattern string, h HandlerFunc) { s.handle(pattern, h, true) }

// HandlePublic is Handle without basic auth, for endpoints that
// authenticate requests themselves (a webhook's key).
func (s *Server) HandlePublic(pattern string, h HandlerFunc) { s.handle(pattern, h, false) }

func (s *Server) handle(pattern string, h HandlerFunc, auth bool) {
	method, path, ok := cutPattern(pattern)
	if !ok {
		panic("server: pattern must be \"METHOD /path\": " + pattern)
	}
	if strings.Contains(path, "{namespace}") {
		h = checkNamespace(h)
	}
	var handler http.Handler = s.adapt(h)
	handler = s.limitBody(handler)
	if auth && s.opts.BasicAuth != nil {
		handler = basicAuth(*s.opts.BasicAuth, s.logins)(handler)
	}
	for _, p := range apiPrefixes {
		s.api.Handle(method+" "+p+path, handler)
	}
	s.served = append(s.served, pattern)
}

// servedRoutes lists the routes the API answers, as "METHOD /path"
// relative to the API prefixes, with executionActions' shared pattern
// spelled out as the routes it dispatches.
func (s *Server) servedRoutes() []string {
	var out []string
	for _, p := range s.served {
		if p == evalOrWebhookPattern {
			out = append(out, "POST /executions/{executionId}/actions/eval/{taskRunId}")
			if s.opts.Triggers != nil {
				out = append(out, "POST /executions/webhook/{namespace}/{id}/{key}")
			}
			continue
		}
		if p != executionActionsPattern {
			out = append(out, p)
			continue
		}
		out = append(out, "POST /executions/trigger/{namespace}/{id}")
		for verb := range s.postActions {
			out = append(out, "POST /executions/{executionId}/actions/"+verb)
		}
	}
	slices.Sort(out)
	return out
}

func cutPattern(p string) (method, path string, ok bool) {
	for i := 0; i < len(p); i++ {
		if p[i] == ' ' {
			method, path = p[:i], p[i+1:]
			return method, path, method != "" && len(path) > 0 && path[0] == '/'
		}
	}
	return "", "", false
}

// Handler is the API handler with its middleware, for tests and embedding.
func (s *Server) Handler() http.Handler {
	return recoverPanics(s.log, s.observe(noSniff(muxErrorsAsJSON(s.api))))
}

// ManagementHandler is the management handler (health and metrics).
func (s *Server) ManagementHandler() http.Handler { return s.mgmt.Handler() }

// Start listens on the configured addresses and serves in the background.
// It refuses to expose an unauthenticated API beyond loopback unless
// AllowUnauthenticated is set.
func (s *Server) Start(ctx context.Context) error {
	if err := checkExposure(s.opts.Addr, s.opts.BasicAuth, s.opts.AllowUnauthenticated); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
		return errors.New("server stopped: build a new one with New")
	case s.started:
		return errors.New("server already started")
	}
	var lc net.ListenConfig
	apiLn, err := lc.Listen(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen api on %s: %w", s.opts.Addr, err)
	}
	var mgmtLn net.Listener
	if s.opts.ManagementAddr != "" {
		mgmtLn, err = lc.Listen(ctx, "tcp", s.opts.ManagementAddr)
		if err != nil {
			_ = apiLn.Close()
			return fmt.Errorf("listen management on %s: %w", s.opts.ManagementAddr, err)
		}
	}
	s.started = true
	s.apiAddr = apiLn.Addr()
	s.serve(apiLn, s.Handler(), s.opts.WriteTimeout)
	s.log.InfoContext(ctx, "api listening", slog.String("addr", s.apiAddr.String()),
		slog.Bool("basic_auth", s.opts.BasicAuth != nil))
	if mgmtLn != nil {
		s.mgmtAddr = mgmtLn.Addr()
		s.serve(mgmtLn, s.ManagementHandler(), 30*time.Second)
		s.log.InfoContext(ctx, "management listening", slog.String("addr", s.mgmtAddr.String()))
	}
	return nil
}

// serve runs an http.Server on ln. Long requests (?wait=true, SSE) lift
// the write timeout themselves with http.ResponseController.
func (s *Server) serve(ln net.Listener, h http.Handler, writeTimeout time.Duration) {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.servers = append(s.servers, hs)
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", slog.Any("err", err))
		}
	}()
}

// Addr is the API's bound address once started (useful with port 0).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiAddr
}

// ManagementAddr is the management server's bound address once started.
func (s *Server) ManagementAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mgmtAddr
}

// Stop shuts the servers down gracefully, waiting for requests until ctx
// ends. It is idempotent.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return s.stopErr
	}
	s.stopped = true
	close(s.closing)
	var errs []error
	for _, hs := range s.servers {
		if err := hs.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down http server: %w", err))
		}
	}
	s.stopErr = errors.Join(errs...)
	return s.stopErr
}

// ListenAddr applies the binding rule: without basic auth the API listens
// on 127.0.0.1 only, unless allowUnauthenticated says otherwise. It returns
// the address to listen on and a notice to log (empty when none is due).
func ListenAddr(host string, port int, auth *BasicAuth, allowUnauthenticated bool) (addr, notice string) {
	p := strconv.Itoa(port)
	switch {
	case auth != nil:
		return net.JoinHostPort(host, p), ""
	case allowUnauthenticated:
		if isLoopback(host) {
			return net.JoinHostPort(host, p), ""
		}
		return net.JoinHostPort(host, p), "the API has no authentication and listens on " + hostLabel(host) +
			" (kestra.server.basic-auth.enabled is false): anyone who reaches this port can run flows"
	default:
		n := "basic auth is not configured: the API listens on 127.0.0.1 only; set kestra.server.basic-auth.username and password to listen on " +
			hostLabel(host) + ", or kestra.server.basic-auth.enabled: false to do so without authentication"
		return net.JoinHostPort("127.0.0.1", p), n
	}
}

func hostLabel(host string) string {
	if host == "" {
		return "every interface"
	}
	return host
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkExposure refuses an unauthenticated API on a non-loopback address,
// so the rule holds even when the caller skipped ListenAddr.
func checkExposure(addr string, auth *BasicAuth, allow bool) error {
	if auth != nil || allow {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("api address %q: %w", addr, err)
	}
	if !isLoopback(host) {
		return fmt.Errorf("api address %s is not loopback and basic auth is not configured: set kestra.server.basic-auth.username and password, or kestra.server.basic-auth.enabled: false", addr)
	}
	return nil
}
