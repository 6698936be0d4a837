package taskidentity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/ospreyhq/osprey/flow"
)

// The App Service managed-identity protocol, as the Azure SDKs, MSAL and
// the Azure CLI speak it.
const (
	EnvEndpoint = "IDENTITY_ENDPOINT"
	EnvHeader   = "IDENTITY_HEADER"
	// HeaderName carries IDENTITY_HEADER on every request.
	HeaderName = "X-IDENTITY-HEADER"
	// APIVersion is the protocol version served.
	APIVersion = "2019-08-01"
	tokenPath  = "/msi/token"
)

// Credential gets the worker's own tokens (azcore.TokenCredential).
type Credential interface {
	GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error)
}

// Options configure a Server.
type Options struct {
	// Credential is the worker's Azure identity; it is built lazily by the
	// caller's function, on the first token a task asks for, so a worker
	// whose tasks never ask needs no working Azure set-up.
	Credential func() (Credential, error)
	Policy     Policy
	Logger     *slog.Logger
}

// Server is the worker's managed-identity endpoint for its task runs.
type Server struct {
	opts Options
	log  *slog.Logger

	credOnce sync.Once
	cred     Credential
	credErr  error

	mu   sync.Mutex
	runs map[[32]byte]*grant // by the SHA-256 of the task run's header
	srv  *http.Server
	ln   net.Listener
	url  string
	done chan struct{}
}

// grant is one task run's right to ask for tokens.
type grant struct {
	tr    *flow.TaskRun
	learn func(string)
	log   func(level, msg string)
}

// New returns a server; Start listens.
func New(o Options) *Server {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{opts: o, log: log.With("component", "task-identity"), runs: map[[32]byte]*grant{}}
}

// Start listens on an ephemeral loopback port and serves until Stop.
func (s *Server) Start(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the task identity endpoint: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(tokenPath, s.serveToken)
	s.ln = ln
	s.url = "http://" + ln.Addr().String() + tokenPath
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("task identity endpoint stopped", "err", err)
		}
	}()
	s.log.InfoContext(ctx, "task identity endpoint listening", "url", s.url, "namespaces", len(s.opts.Policy))
	return nil
}

// Stop closes the listener; it is idempotent.
func (s *Server) Stop(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}

// URL is IDENTITY_ENDPOINT (empty before Start).
func (s *Server) URL() string { return s.url }

// Grant gives task run tr the endpoint: it returns the variables its
// processes get and a release function, called when the task run ends,
// after which its header is refused. learn teaches the task run's masker
// a secret (the header, every token); log writes to the task run's log.
func (s *Server) Grant(_ context.Context, tr *flow.TaskRun, learn func(secret string), log func(level, msg string)) (env []string, release func()) {
	if s.url == "" {
		return nil, func() {}
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("taskidentity: no randomness: %v", err)) // crypto/rand never fails on Linux
	}
	header := base64.RawURLEncoding.EncodeToString(b[:])
	learn(header)
	key := sha256.Sum256([]byte(header))
	s.mu.Lock()
	s.runs[key] = &grant{tr: tr, learn: learn, log: log}
	s.mu.Unlock()
	return []string{EnvEndpoint + "=" + s.url, EnvHeader + "=" + header}, func() {
		s.mu.Lock()
		delete(s.runs, key)
		s.mu.Unlock()
	}
}

// tokenJSON is the App Service answer.
type tokenJSON struct {
	AccessToken string `json:"access_token"`
	ExpiresOn   string `json:"expires_on"`
	Resource    string `json:"resource"`
	TokenType   string `json:"token_type"`
}

// errorJSON is the answer to a refused request: MSAL and the SDKs put the
// body in the error they raise, so the message reaches the task's log.
type errorJSON struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
}

func refuse(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(errorJSON{StatusCode: code, Message: fmt.Sprintf(format, args...)})
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		refuse(w, http.StatusMethodNotAllowed, "the identity endpoint answers GET only")
		return
	}
	header := r.Header.Get(HeaderName)
	if header == "" {
		refuse(w, http.StatusUnauthorized, "missing the %s header: send the task's IDENTITY_HEADER variable in it", HeaderName)
		return
	}
	key := sha256.Sum256([]byte(header))
	s.mu.Lock()
	g := s.runs[key]
	s.mu.Unlock()
	if g == nil {
		refuse(w, http.StatusUnauthorized, "unknown %s: an identity header is valid only while its task run runs", HeaderName)
		return
	}
	q := r.URL.Query()
	if v := q.Get("api-version"); v != APIVersion {
		refuse(w, http.StatusBadRequest, "api-version %q is not served: use %s (App Service managed identity)", v, APIVersion)
		return
	}
	resource := q.Get("resource")
	if resource == "" {
		refuse(w, http.StatusBadRequest, "missing the resource parameter: name the audience, e.g. resource=https://storage.azure.com")
		return
	}
	audience := normalize(resource)
	tr := g.tr
	attrs := []any{"namespace", tr.Namespace, "flow", tr.FlowID, "execution", tr.ExecutionID, "task_run", tr.ID, "audience", audience}
	by, ok := s.opts.Policy.Allows(tr.Namespace, audience)
	if !ok {
		s.log.WarnContext(r.Context(), "task identity token refused", attrs...)
		msg := fmt.Sprintf("namespace %s may not get Azure tokens for audience %s: add it to %s.%s (or to a parent namespace's entry) in the worker's configuration",
			tr.Namespace, audience, ConfigKey, tr.Namespace)
		if allowed := s.opts.Policy.Allowed(tr.Namespace); len(allowed) > 0 {
			msg += fmt.Sprintf("; allowed now: %v", allowed)
		} else {
			msg += "; it is allowed none now"
		}
		g.log("WARN", "Azure token refused: "+msg)
		refuse(w, http.StatusForbidden, "%s", msg)
		return
	}
	cred, err := s.credential()
	if err != nil {
		s.log.ErrorContext(r.Context(), "task identity credential", append(attrs, "err", err)...)
		refuse(w, http.StatusInternalServerError, "the worker has no Azure credential for its tasks: %v", err)
		return
	}
	tok, err := cred.GetToken(r.Context(), policy.TokenRequestOptions{Scopes: []string{audience + "/.default"}})
	if err != nil {
		s.log.ErrorContext(r.Context(), "task identity token", append(attrs, "err", err)...)
		refuse(w, http.StatusBadGateway, "the worker could not get a token for %s through its own identity: %v", audience, err)
		return
	}
	// Masked before it leaves: whatever the task prints of it is hidden.
	g.learn(tok.Token)
	exp := tok.ExpiresOn.UTC()
	s.log.InfoContext(r.Context(), "task identity token issued", append(attrs, "allowed_by", by, "expires_on", exp)...)
	g.log("INFO", fmt.Sprintf("Azure token issued for audience %s (expires %s)", audience, exp.Format(time.RFC3339)))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(tokenJSON{AccessToken: tok.Token, ExpiresOn: strconv.FormatInt(exp.Unix(), 10), Resource: resource, TokenType: "Bearer"})
}

func (s *Server) credential() (Credential, error) {
	s.credOnce.Do(func() {
		if s.opts.Credential == nil {
			s.credErr = errors.New("none configured")
			return
		}
		s.cred, s.credErr = s.opts.Credential()
	})
	return s.cred, s.credErr
}
