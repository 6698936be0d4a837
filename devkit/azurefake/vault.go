package azurefake

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// ThrottleLimits is a vault's service limit: at most Operations requests and
// Creates secret creations (SetSecret) per Window. Key Vault's documented
// defaults are 4,000 operations and 300 creates per 10 seconds.
type ThrottleLimits struct {
	Window     time.Duration
	Operations int
	Creates    int
}

// defaultThrottleLimits are Key Vault's limits for secrets.
var defaultThrottleLimits = ThrottleLimits{Window: 10 * time.Second, Operations: 4000, Creates: 300}

// VaultOptions configures one vault.
type VaultOptions struct {
	// Name is the vault name (3–24 characters: letters, digits, dashes).
	Name string
	// TenantID the vault trusts tokens from; the emulator's default when empty.
	TenantID string
	// RetentionDays of soft-deleted secrets (7–90); 90 when zero.
	RetentionDays int
	// PurgeProtection forbids purging deleted secrets before retention ends.
	PurgeProtection bool
	// DeleteDelay, RecoverDelay and PurgeDelay make those operations complete
	// only after the delay on the emulator's clock, as Key Vault's do.
	DeleteDelay, RecoverDelay, PurgeDelay time.Duration
	// Limits is the throttling limit; Key Vault's (4,000 operations and 300
	// creates per 10 seconds) when entirely zero. A zero Operations or Creates in a non-zero value means no limit.
	Limits ThrottleLimits
	// Port of the vault's listener on 127.0.0.1; any free port when zero.
	Port int
}

var vaultNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$`)

// Vault is one Key Vault, served on its own loopback listener.
type Vault struct {
	e       *Emulator
	opts    VaultOptions
	url     string
	srv     *http.Server
	journal *journal
	faults  *Faults

	mu          sync.Mutex
	secrets     map[string]*secretEntry // by lower-case name
	assignments []assignment
	ops         []time.Time
	creates     []time.Time
}

// AddVault creates a vault and starts serving it.
func (e *Emulator) AddVault(o VaultOptions) (*Vault, error) {
	if !vaultNameRE.MatchString(o.Name) || strings.Contains(o.Name, "--") {
		return nil, fmt.Errorf("add vault %q: invalid vault name", o.Name)
	}
	if o.TenantID == "" {
		o.TenantID = e.opts.TenantID
	}
	if o.RetentionDays == 0 {
		o.RetentionDays = 90
	}
	if o.RetentionDays < 7 || o.RetentionDays > 90 {
		return nil, fmt.Errorf("add vault %q: retention must be 7 to 90 days", o.Name)
	}
	if o.Limits == (ThrottleLimits{}) {
		o.Limits = defaultThrottleLimits
	}
	if o.Limits.Window <= 0 {
		o.Limits.Window = defaultThrottleLimits.Window
	}
	e.mu.Lock()
	if _, dup := e.vaults[strings.ToLower(o.Name)]; dup || e.closed {
		e.mu.Unlock()
		return nil, fmt.Errorf("add vault %q: already exists or emulator closed", o.Name)
	}
	e.mu.Unlock()
	ln, err := listen(context.Background(), o.Port)
	if err != nil {
		return nil, err
	}
	v := &Vault{
		e:       e,
		opts:    o,
		url:     "https://" + ln.Addr().String() + "/",
		journal: newJournal(),
		faults:  &Faults{},
		secrets: map[string]*secretEntry{},
	}
	v.srv = newServer(v.handler(), e.auth.serverConfig())
	e.mu.Lock()
	e.vaults[strings.ToLower(o.Name)] = v
	e.tenants[strings.ToLower(o.TenantID)] = true
	e.mu.Unlock()
	go func(ln net.Listener) { _ = v.srv.ServeTLS(ln, "", "") }(ln)
	return v, nil
}

// Vault returns a vault by name, or nil.
func (e *Emulator) Vault(name string) *Vault {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.vaults[strings.ToLower(name)]
}

// Name returns the vault's name.
func (v *Vault) Name() string { return v.opts.Name }

// URL returns the vault URL to give azsecrets.NewClient, with a trailing
// slash like https://NAME.vault.azure.net/.
func (v *Vault) URL() string { return v.url }

// TenantID returns the tenant whose tokens the vault accepts.
func (v *Vault) TenantID() string { return v.opts.TenantID }

// ClientOptions returns azsecrets options for this vault: the emulator's
// transport and DisableChallengeResourceVerification, which a loopback vault
// URL needs because the SDK insists the vault host ends in the challenge's
// resource host (".vault.azure.net").
func (v *Vault) ClientOptions() *azsecrets.ClientOptions {
	return &azsecrets.ClientOptions{ClientOptions: v.e.ClientOptions(), DisableChallengeResourceVerification: true}
}

// Assign grants a role on the whole vault to a principal (an object id).
func (v *Vault) Assign(role Role, principalID string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.assignments = append(v.assignments, assignment{role: role, principal: strings.ToLower(principalID)})
}

// AssignOnSecret grants a role on a single secret, the narrowest scope Azure
// RBAC allows for Key Vault.
func (v *Vault) AssignOnSecret(role Role, principalID, secretName string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.assignments = append(v.assignments, assignment{role: role, principal: strings.ToLower(principalID), secret: strings.ToLower(secretName)})
}

// Unassign removes every assignment of role to the principal.
func (v *Vault) Unassign(role Role, principalID string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	kept := v.assignments[:0]
	for _, a := range v.assignments {
		if a.role != role || a.principal != strings.ToLower(principalID) {
			kept = append(kept, a)
		}
	}
	v.assignments = kept
}

// Faults returns the vault's fault injector.
func (v *Vault) Faults() *Faults { return v.faults }

// Count returns how many requests of an operation (Key Vault's operation ids:
// "GetSecret", "SetSecret", "GetSecrets" …) reached the vault, including the
// unauthenticated challenge round trip and refused ones.
func (v *Vault) Count(op string) int { return v.journal.count(op) }

// CountBy returns how many requests of an operation came from one principal
// object id ("" counts unauthenticated requests).
func (v *Vault) CountBy(op, objectID string) int { return v.journal.countBy(op, objectID) }

// Requests returns a copy of the vault's request log, oldest first.
func (v *Vault) Requests() []Request { return v.journal.requests() }

// allowed reports whether the principal holds a role granting action on the
// vault or on the named secret.
func (v *Vault) allowed(principal, action, secret string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, a := range v.assignments {
		if a.principal != strings.ToLower(principal) {
			continue
		}
		if a.secret != "" && a.secret != strings.ToLower(secret) {
			continue
		}
		if a.role.Allows(action) {
			return true
		}
	}
	return false
}

// throttle records an operation in the sliding window, or reports how long
// the caller must wait when a limit is reached.
func (v *Vault) throttle(now time.Time, create bool) (wait time.Duration, limit string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	win := v.opts.Limits.Window
	v.ops = pruneWindow(v.ops, now.Add(-win))
	v.creates = pruneWindow(v.creates, now.Add(-win))
	if n := v.opts.Limits.Operations; n > 0 && len(v.ops) >= n {
		return v.ops[0].Add(win).Sub(now), fmt.Sprintf("%d operations", n)
	}
	if n := v.opts.Limits.Creates; create && n > 0 && len(v.creates) >= n {
		return v.creates[0].Add(win).Sub(now), fmt.Sprintf("%d secret creations", n)
	}
	v.ops = append(v.ops, now)
	if create {
		v.creates = append(v.creates, now)
	}
	return 0, ""
}

func pruneWindow(ts []time.Time, after time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(after) {
		i++
	}
	return ts[i:]
}

func (v *Vault) recoveryLevel() string {
	level := "Recoverable"
	if v.opts.RetentionDays < 90 {
		level = "CustomizedRecoverable"
	}
	if !v.opts.PurgeProtection {
		level += "+Purgeable"
	}
	return level
}
