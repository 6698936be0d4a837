package server

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Failed basic-auth attempts are slowed per client: each remote address
// has a token bucket of failedLoginBurst failures, refilled at one every
// failedLoginEvery. A client that has spent its bucket gets 429 with
// Retry-After for every further wrong attempt, so guessing a password
// costs minutes per ten tries; correct credentials are never slowed (the
// check comes first), so a user who mistyped still gets in at once. The
// address is the connection's: X-Forwarded-For is not trusted, since any
// client can set it; behind a proxy, the proxy's address shares one bucket
// (put the rate limit in the proxy there).
const (
	failedLoginBurst = 10
	failedLoginEvery = 6 * time.Second
	// maxTrackedClients bounds the buckets kept; past it, buckets that
	// have refilled are dropped (they hold no state worth keeping).
	maxTrackedClients = 10_000
)

// loginLimiter holds the buckets. It is safe for concurrent use.
type loginLimiter struct {
	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{clients: map[string]*rate.Limiter{}}
}

// fail records a failed attempt from r's client and reports how long it
// must wait when its bucket is spent (0: the failure is within budget).
func (l *loginLimiter) fail(r *http.Request) time.Duration {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.clients[host]
	if !ok {
		if len(l.clients) >= maxTrackedClients {
			l.prune()
		}
		lim = rate.NewLimiter(rate.Every(failedLoginEvery), failedLoginBurst)
		l.clients[host] = lim
	}
	now := time.Now()
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now) // a refused attempt does not push the wait further
		return d
	}
	return 0
}

// prune drops the buckets that are full again.
func (l *loginLimiter) prune() {
	for k, lim := range l.clients {
		if lim.Tokens() >= failedLoginBurst {
			delete(l.clients, k)
		}
	}
}

// refuse answers a client that has spent its bucket.
func refuseLogin(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)+1))
	writeJSON(w, http.StatusTooManyRequests, errorBody{Message: "too many failed logins from this address; retry later"})
}
