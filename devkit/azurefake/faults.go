package azurefake

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Faults injects failures into one endpoint (the token endpoint or a vault).
// Each method arms a fault for the following requests; faults are consumed in
// the order: down, resets, server errors, throttling bursts; latency applies
// to every request. It is safe for concurrent use.
type Faults struct {
	mu           sync.Mutex
	latency      time.Duration
	serverErrors int
	serverStatus int
	throttles    int
	retryAfter   time.Duration
	resets       int
	down         bool
}

// SetLatency delays every following response by d (real time: latency is
// what a client's deadline sees).
func (f *Faults) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// FailNext answers the next n requests with status (a 5xx).
func (f *Faults) FailNext(n, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.serverErrors, f.serverStatus = n, status
}

// ThrottleNext answers the next n requests with 429 and Retry-After.
func (f *Faults) ThrottleNext(n int, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttles, f.retryAfter = n, retryAfter
}

// ResetNext resets the connection of the next n requests without answering.
func (f *Faults) ResetNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resets = n
}

// SetDown makes the endpoint unreachable (every connection is reset) until
// called again with false.
func (f *Faults) SetDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// faultKind is what apply decided for one request.
type faultKind int

const (
	faultNone faultKind = iota
	faultReset
	faultServerError
	faultThrottle
)

// take consumes the next armed fault.
func (f *Faults) take() (kind faultKind, status int, retryAfter time.Duration, latency time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	latency = f.latency
	switch {
	case f.down:
		return faultReset, 0, 0, latency
	case f.resets > 0:
		f.resets--
		return faultReset, 0, 0, latency
	case f.serverErrors > 0:
		f.serverErrors--
		return faultServerError, f.serverStatus, 0, latency
	case f.throttles > 0:
		f.throttles--
		return faultThrottle, 0, f.retryAfter, latency
	}
	return faultNone, 0, 0, latency
}

// inject applies latency and any armed fault. It reports whether the request
// was handled; for "ConnectionReset" the caller must still call
// resetConnection, after logging. errorBody writes the service's own
// error shape for the given status and code.
func (f *Faults) inject(w http.ResponseWriter, r *http.Request, errorBody func(w http.ResponseWriter, status int, code, msg string)) (handled bool, code string) {
	kind, status, retryAfter, latency := f.take()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true, "ClientGone"
		}
	}
	switch kind {
	case faultReset:
		// The caller logs the request, then resets: a client that sees the
		// reset finds it in the log.
		return true, "ConnectionReset"
	case faultServerError:
		errorBody(w, status, "InternalServerError", "An unexpected error occurred (injected fault).")
		return true, "InternalServerError"
	case faultThrottle:
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(retryAfter)))
		errorBody(w, http.StatusTooManyRequests, "Throttled", "Request was not processed because too many requests were received (injected fault).")
		return true, "Throttled"
	}
	return false, ""
}

// resetConnection closes the client's connection with a TCP RST.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := netConn(conn).(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// netConn unwraps a TLS connection to its TCP connection.
func netConn(c net.Conn) net.Conn {
	type netConner interface{ NetConn() net.Conn }
	if nc, ok := c.(netConner); ok {
		return nc.NetConn()
	}
	return c
}

func retrySeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}
