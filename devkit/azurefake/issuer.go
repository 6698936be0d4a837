package azurefake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// ServiceAccountAudience is the audience AKS puts in projected tokens meant
// for Entra's token exchange.
const ServiceAccountAudience = "api://AzureADTokenExchange"

// Subject returns the subject Kubernetes gives a service account's tokens.
func Subject(namespace, serviceAccount string) string {
	return "system:serviceaccount:" + namespace + ":" + serviceAccount
}

// Issuer is the cluster's service-account token issuer (the OIDC issuer of an
// AKS cluster). It publishes its discovery document and keys at its URL and
// mints RS256 tokens for service accounts, as the API server does for the
// kubelet's projected volumes.
type Issuer struct {
	url    string
	signer *signer
	clock  *Clock

	mu      sync.Mutex
	files   []*TokenFile
	running sync.WaitGroup // rotation goroutines
}

// URL returns the issuer URL, with the trailing slash AKS uses; a federated
// credential must name it exactly.
func (i *Issuer) URL() string { return i.url }

// MintOptions describes one service-account token.
type MintOptions struct {
	Namespace      string
	ServiceAccount string
	// Lifetime defaults to one hour; any positive duration is accepted.
	Lifetime time.Duration
	// Audiences defaults to [ServiceAccountAudience].
	Audiences []string
}

// Minted is a signed service-account token and its identity.
type Minted struct {
	Token     string
	ID        string // jti
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Mint signs a token for system:serviceaccount:NS:NAME as of the emulator's
// clock.
func (i *Issuer) Mint(o MintOptions) (Minted, error) {
	if o.Lifetime <= 0 {
		o.Lifetime = time.Hour
	}
	if len(o.Audiences) == 0 {
		o.Audiences = []string{ServiceAccountAudience}
	}
	now := i.clock.Now().Truncate(time.Second)
	exp := now.Add(o.Lifetime)
	jti := uuid.NewString()
	tok, err := i.signer.sign(jwt.MapClaims{
		"iss": i.url,
		"sub": Subject(o.Namespace, o.ServiceAccount),
		"aud": o.Audiences,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": exp.Unix(),
		"jti": jti,
		"kubernetes.io": map[string]any{
			"namespace": o.Namespace,
			"serviceaccount": map[string]any{
				"name": o.ServiceAccount,
				"uid":  uuid.NewSHA1(uuid.NameSpaceURL, []byte(i.url+o.Namespace+"/"+o.ServiceAccount)).String(),
			},
		},
	})
	if err != nil {
		return Minted{}, fmt.Errorf("mint service account token: %w", err)
	}
	return Minted{Token: tok, ID: jti, IssuedAt: now, ExpiresAt: exp}, nil
}

// TokenFileOptions describes a projected token file kept fresh like the
// kubelet does.
type TokenFileOptions struct {
	MintOptions
	// Path of the file to write; its directory must exist.
	Path string
	// NoAutoRotate disables rotation at 80% of the lifetime; Rotate still works.
	NoAutoRotate bool
}

// TokenFile is a service-account token written to disk and rotated at 80%
// of its lifetime on the emulator's clock, as the kubelet does.
type TokenFile struct {
	issuer *Issuer
	opts   TokenFileOptions
	mu     sync.Mutex
	cur    Minted
	rotate time.Time
	stop   func()
	done   chan struct{}
	once   sync.Once
}

// WriteTokenFile mints a token, writes it to o.Path and, unless disabled,
// keeps rotating it until the file's or the emulator's Close.
func (i *Issuer) WriteTokenFile(o TokenFileOptions) (*TokenFile, error) {
	if o.Path == "" {
		return nil, fmt.Errorf("write token file: empty path")
	}
	f := &TokenFile{issuer: i, opts: o, done: make(chan struct{})}
	if err := f.Rotate(); err != nil {
		return nil, err
	}
	i.mu.Lock()
	i.files = append(i.files, f)
	i.mu.Unlock()
	if o.NoAutoRotate {
		close(f.done)
		f.stop = func() {}
		return f, nil
	}
	unhook := i.clock.onAdvance(func(now time.Time) { f.rotateIfDue(now) })
	ticker := time.NewTicker(time.Second)
	i.running.Add(1)
	go func() {
		defer i.running.Done()
		for {
			select {
			case <-ticker.C:
				f.rotateIfDue(i.clock.Now())
			case <-f.done:
				return
			}
		}
	}()
	f.stop = func() { unhook(); ticker.Stop(); close(f.done) }
	return f, nil
}

// Path returns the token file's path (AZURE_FEDERATED_TOKEN_FILE).
func (f *TokenFile) Path() string { return f.opts.Path }

// Current returns the token now in the file.
func (f *TokenFile) Current() Minted {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur
}

// Rotate mints a new token and atomically replaces the file's content.
func (f *TokenFile) Rotate() error {
	m, err := f.issuer.Mint(f.opts.MintOptions)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	tmp := filepath.Join(filepath.Dir(f.opts.Path), "."+filepath.Base(f.opts.Path)+".tmp")
	if err := os.WriteFile(tmp, []byte(m.Token), 0o600); err != nil {
		return fmt.Errorf("write token file: %w", err)
	}
	if err := os.Rename(tmp, f.opts.Path); err != nil {
		return fmt.Errorf("replace token file: %w", err)
	}
	f.cur = m
	f.rotate = m.IssuedAt.Add(m.ExpiresAt.Sub(m.IssuedAt) * 8 / 10)
	return nil
}

func (f *TokenFile) rotateIfDue(now time.Time) {
	f.mu.Lock()
	due := !now.Before(f.rotate)
	f.mu.Unlock()
	if due {
		_ = f.Rotate() // a failed write is retried on the next tick
	}
}

// Close stops automatic rotation. The file stays.
func (f *TokenFile) Close() {
	f.once.Do(func() { f.stop() })
}

// close stops the rotation of every token file and waits for it.
func (i *Issuer) close() {
	i.mu.Lock()
	files := i.files
	i.mu.Unlock()
	for _, f := range files {
		f.Close()
	}
	i.running.Wait()
}

func (i *Issuer) routes(mux *http.ServeMux, prefix string) {
	mux.HandleFunc("GET "+prefix+".well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                                i.url,
			"jwks_uri":                              i.url + "openid/v1/jwks",
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET "+prefix+"openid/v1/jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"keys": []jwk{i.signer.jwk()}})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
