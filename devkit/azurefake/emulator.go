package azurefake

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/uuid"
)

// Options configures an emulator. The zero value is usable.
type Options struct {
	// TenantID is the default tenant; a random GUID when empty.
	TenantID string
	// Dir receives the CA file; a temporary directory removed by Close when empty.
	Dir string
	// Clock drives every time check; NewClock() when nil.
	Clock *Clock
	// AccessTokenLifetime of tokens issued by Entra; one hour when zero.
	AccessTokenLifetime time.Duration
	// AssertionSkew is the tolerance applied to a client assertion's nbf and
	// exp; zero (strict) by default.
	AssertionSkew time.Duration
	// Logger receives one debug line per request; discarded when nil.
	Logger *slog.Logger
	// Port of Entra and the issuer on 127.0.0.1; any free port when zero.
	Port int
}

// Option adjusts Options for Start.
type Option func(*Options)

// WithOptions replaces the options wholesale.
func WithOptions(o Options) Option { return func(p *Options) { *p = o } }

// WithAccessTokenLifetime sets the lifetime of access tokens Entra issues.
func WithAccessTokenLifetime(d time.Duration) Option {
	return func(o *Options) { o.AccessTokenLifetime = d }
}

// WithClock sets the clock behind every time check.
func WithClock(c *Clock) Option { return func(o *Options) { o.Clock = c } }

// WithTenant sets the default tenant id.
func WithTenant(id string) Option { return func(o *Options) { o.TenantID = id } }

// Emulator is a running local Azure: Entra ID and the service-account issuer
// on one loopback HTTPS listener, and one more listener per Key Vault. It is
// safe for concurrent use.
type Emulator struct {
	opts    Options
	log     *slog.Logger
	clock   *Clock
	auth    *authority
	caFile  string
	tmpDir  string
	entra   *signer
	issuer  *Issuer
	ln      net.Listener
	srv     *http.Server
	base    string
	client  *http.Client
	journal *journal
	faults  *Faults

	mu         sync.Mutex
	tenants    map[string]bool
	identities map[string]*identityRecord // by client id
	vaults     map[string]*Vault          // by lower-case name
	accounts   map[string]*StorageAccount // by name
	backupKey  []byte
	closed     bool
}

// Start runs an emulator for the duration of a test and closes it in
// t.Cleanup.
func Start(t testing.TB, opts ...Option) *Emulator {
	t.Helper()
	var o Options
	for _, f := range opts {
		f(&o)
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	e, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("start azure emulator: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// New starts an emulator on loopback. Close releases it.
func New(ctx context.Context, o Options) (*Emulator, error) {
	if o.TenantID == "" {
		o.TenantID = uuid.NewString()
	}
	if o.Clock == nil {
		o.Clock = NewClock()
	}
	if o.AccessTokenLifetime <= 0 {
		o.AccessTokenLifetime = time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Emulator{
		opts:       o,
		log:        o.Logger.With("component", "azurefake"),
		clock:      o.Clock,
		journal:    newJournal(),
		faults:     &Faults{},
		tenants:    map[string]bool{strings.ToLower(o.TenantID): true},
		identities: map[string]*identityRecord{},
		vaults:     map[string]*Vault{},
		accounts:   map[string]*StorageAccount{},
	}
	var err error
	if e.auth, err = newAuthority(); err != nil {
		return nil, err
	}
	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "azurefake-"); err != nil {
			return nil, fmt.Errorf("create emulator dir: %w", err)
		}
		e.tmpDir = dir
	}
	if e.caFile, err = e.auth.writeCA(dir); err != nil {
		return nil, err
	}
	keys, err := processKeys()
	if err != nil {
		return nil, err
	}
	e.entra = keys[0]
	issuerKey := keys[1]
	if e.ln, err = listen(ctx, o.Port); err != nil {
		return nil, err
	}
	e.base = "https://" + e.ln.Addr().String()
	issuerPath := "/oidc/" + o.TenantID + "/" + uuid.NewString() + "/"
	e.issuer = &Issuer{url: e.base + issuerPath, signer: issuerKey, clock: e.clock}

	mux := http.NewServeMux()
	e.entraRoutes(mux)
	e.issuer.routes(mux, issuerPath)
	e.srv = newServer(mux, e.auth.serverConfig())
	go func() { _ = e.srv.ServeTLS(e.ln, "", "") }()

	e.client = &http.Client{Transport: e.transport(false)}
	return e, nil
}

// listen opens a loopback listener; the emulator never binds elsewhere.
func listen(ctx context.Context, port int) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	return ln, nil
}

func newServer(h http.Handler, cfg *tls.Config) *http.Server {
	return &http.Server{
		Handler:           h,
		TLSConfig:         cfg,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
	}
}

// Close stops every listener and token-file rotator. It is idempotent.
func (e *Emulator) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	vaults := make([]*Vault, 0, len(e.vaults))
	for _, v := range e.vaults {
		vaults = append(vaults, v)
	}
	accounts := make([]*StorageAccount, 0, len(e.accounts))
	for _, a := range e.accounts {
		accounts = append(accounts, a)
	}
	e.mu.Unlock()

	e.issuer.close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	errs := []error{shutdown(ctx, e.srv)}
	for _, v := range vaults {
		errs = append(errs, shutdown(ctx, v.srv))
	}
	for _, a := range accounts {
		errs = append(errs, shutdown(ctx, a.srv))
	}
	e.client.CloseIdleConnections()
	if e.tmpDir != "" {
		errs = append(errs, os.RemoveAll(e.tmpDir))
	}
	return errors.Join(errs...)
}

func shutdown(ctx context.Context, srv *http.Server) error {
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
	return nil
}

// Clock returns the clock behind every time check.
func (e *Emulator) Clock() *Clock { return e.clock }

// TenantID returns the default tenant.
func (e *Emulator) TenantID() string { return e.opts.TenantID }

// AddTenant makes another tenant known to Entra (others answer AADSTS90002).
func (e *Emulator) AddTenant(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tenants[strings.ToLower(id)] = true
}

// AuthorityHost returns the value for AZURE_AUTHORITY_HOST (and
// cloud.Configuration.ActiveDirectoryAuthorityHost), with a trailing slash.
func (e *Emulator) AuthorityHost() string { return e.base + "/" }

// Issuer returns the cluster's service-account token issuer.
func (e *Emulator) Issuer() *Issuer { return e.issuer }

// WriteTokenFile is a shorthand for Issuer().WriteTokenFile.
func (e *Emulator) WriteTokenFile(o TokenFileOptions) (*TokenFile, error) {
	return e.issuer.WriteTokenFile(o)
}

// CAFile returns the path of the PEM file holding the emulator's CA
// certificate (for SSL_CERT_FILE).
func (e *Emulator) CAFile() string { return e.caFile }

// TLSConfig returns a client TLS configuration trusting only the emulator's CA.
func (e *Emulator) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: e.auth.pool, MinVersion: tls.VersionTLS12}
}

// HTTPClient returns a shared client trusting the emulator's CA. It is an
// azcore policy.Transporter.
func (e *Emulator) HTTPClient() *http.Client { return e.client }

// Transport returns an azcore transport trusting the emulator's CA. With
// noKeepAlive each request uses a fresh connection, which tests running SDK
// clients inside a testing/synctest bubble need.
func (e *Emulator) Transport(noKeepAlive bool) policy.Transporter {
	if !noKeepAlive {
		return e.client
	}
	return &http.Client{Transport: e.transport(true)}
}

func (e *Emulator) transport(noKeepAlive bool) *http.Transport {
	return &http.Transport{
		Proxy:               nil, // loopback only, whatever the environment says
		TLSClientConfig:     e.TLSConfig(),
		DisableKeepAlives:   noKeepAlive,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
}

// ClientOptions returns azcore options pointing SDK clients at the emulator:
// its authority host and a transport trusting its CA.
func (e *Emulator) ClientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.AuthorityHost()},
		Transport: e.client,
	}
}

// TokenFaults returns the fault injector of Entra's token endpoint.
func (e *Emulator) TokenFaults() *Faults { return e.faults }

// Count returns how many Entra requests of an operation arrived ("token",
// "discovery", "openid-configuration", "keys"), from every caller.
func (e *Emulator) Count(op string) int { return e.journal.count(op) }

// CountBy returns how many requests of an operation came from one client id.
func (e *Emulator) CountBy(op, clientID string) int { return e.journal.countBy(op, clientID) }

// Requests returns a copy of Entra's request log, oldest first.
func (e *Emulator) Requests() []Request { return e.journal.requests() }

// TokenRequests returns the log entries of the token endpoint only.
func (e *Emulator) TokenRequests() []Request {
	var out []Request
	for _, r := range e.journal.requests() {
		if r.Operation == "token" {
			out = append(out, r)
		}
	}
	return out
}
