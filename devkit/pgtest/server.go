package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a PostgreSQL of its own, apart from the shared one, for a test
// that stops and starts it (a database outage in the middle of a run) and
// for programs outside `go test` (the soak benchmark) that need one.
type Server struct{ s *server }

// NewServer starts a PostgreSQL of its own, with fsync, synchronous commits
// and full-page writes off as for tests; Close stops it and removes its
// directory. It fails when PostgreSQL is not installed.
func NewServer() (*Server, error) { return newServer(false) }

// NewDurableServer is NewServer with fsync, synchronous commits and
// full-page writes on, as production runs (the benchmark harness).
func NewDurableServer() (*Server, error) { return newServer(true) }

func newServer(durable bool) (*Server, error) {
	s, err := startServer(durable)
	if err != nil {
		return nil, err
	}
	return &Server{s: s}, nil
}

// StartServer is NewServer for a test: it skips or fails as Start does
// when PostgreSQL is missing, and the server goes when the test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	return startServerFor(t, NewServer)
}

// StartDurableServer is StartServer with fsync, synchronous commits and
// full-page writes on: for a test that crashes the database and reads
// what survived.
func StartDurableServer(t testing.TB) *Server {
	t.Helper()
	return startServerFor(t, NewDurableServer)
}

func startServerFor(t testing.TB, start func() (*Server, error)) *Server {
	t.Helper()
	s, err := start()
	if err != nil {
		if errors.Is(err, errNoBinaries) && os.Getenv("CI") != "true" {
			t.Skipf("pgtest: %v; install PostgreSQL (e.g. apt-get install postgresql) to run this test", err)
		}
		t.Fatalf("pgtest: start PostgreSQL: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// CreateDatabase creates an empty database and returns its DSN.
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, s.s.dsn("postgres"))
	if err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return s.s.dsn(name), nil
}

// Stop shuts PostgreSQL down (a fast shutdown: open sessions are ended)
// and keeps its data for Start.
func (s *Server) Stop() { s.s.stopProcess() }

// Start starts PostgreSQL again on the same data directory and port and
// waits until it accepts connections.
func (s *Server) Start() error { return s.s.startProcess(30 * time.Second) }

// Crash kills the postmaster and every process it started at once
// (SIGKILL), as a crash of the database's host would stop them: what they
// held in shared memory, WAL not yet written out included, is lost; what
// they wrote to files stays. It returns once they are all gone; Start
// runs recovery on the same data directory.
func (s *Server) Crash() error {
	// A lock file naming a dead postmaster marks the directory as left by
	// a test binary that died: another one's sweep would remove it before
	// Start. It goes first; PostgreSQL needs it no more than after a clean
	// stop, and the postmaster only checks it every minute.
	if err := os.Remove(filepath.Join(s.s.dir, "data", "postmaster.pid")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the postmaster's lock file: %w", err)
	}
	pid := s.s.cmd.Process.Pid
	procs := append(children(pid), pid)
	for _, p := range procs {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	<-s.s.done
	deadline := time.Now().Add(30 * time.Second)
	for _, p := range procs {
		for syscall.Kill(p, 0) == nil {
			if time.Now().After(deadline) {
				return fmt.Errorf("postgres process %d still alive after SIGKILL", p)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

// children lists the processes whose parent is pid.
func children(pid int) []int {
	var out []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		stat := string(raw)
		i := strings.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(stat[i+1:])
		if len(f) < 2 || f[1] != strconv.Itoa(pid) { // f[1] is the parent's pid
			continue
		}
		if c, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path, "/proc/"), "/stat")); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// PID is the postmaster's process id while it runs.
func (s *Server) PID() int { return s.s.cmd.Process.Pid }

// Close stops PostgreSQL and removes its directory; it is idempotent.
func (s *Server) Close() {
	select {
	case <-s.s.done:
	default:
		s.s.stopProcess()
	}
	os.RemoveAll(s.s.dir)
}
