package azurefake

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"
)

// Request is one entry of the request log: what was asked, by whom, and how
// it was answered. It never holds secret values, client secrets or tokens;
// a client assertion is identified only by its jti.
type Request struct {
	Time        time.Time // emulator clock when the request arrived
	Service     string    // "entra", "issuer" or "vault/NAME"
	Operation   string    // "token", "GetSecret", "SetSecret" …
	Caller      string    // client id for Entra, object id (oid) for a vault, "" when anonymous
	Method      string
	Path        string
	Status      int
	ErrorCode   string // AADSTS code or Key Vault error code, "" on success
	AssertionID string // jti of the client assertion presented to the token endpoint
}

// maxLogEntries bounds the request log; the oldest half is dropped when full.
// Counters are never dropped.
const maxLogEntries = 100_000

// journal counts operations per caller and keeps the request log.
type journal struct {
	mu     sync.Mutex
	counts map[string]map[string]int // operation → caller → count
	log    []Request
}

func newJournal() *journal {
	return &journal{counts: map[string]map[string]int{}}
}

func (j *journal) record(r Request) {
	j.mu.Lock()
	defer j.mu.Unlock()
	byCaller := j.counts[r.Operation]
	if byCaller == nil {
		byCaller = map[string]int{}
		j.counts[r.Operation] = byCaller
	}
	byCaller[r.Caller]++
	if len(j.log) >= maxLogEntries { // a long development session must not grow without bound
		j.log = append(j.log[:0], j.log[len(j.log)-maxLogEntries/2:]...)
	}
	j.log = append(j.log, r)
}

func (j *journal) count(op string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for _, c := range j.counts[op] {
		n += c
	}
	return n
}

func (j *journal) countBy(op, caller string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.counts[op][caller]
}

func (j *journal) requests() []Request {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Request(nil), j.log...)
}

// statusRecorder remembers the status a handler wrote and still lets fault
// injection hijack the connection.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(s.ResponseWriter).Hijack()
}
