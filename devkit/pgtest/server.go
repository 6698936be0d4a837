package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
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
	s, err := NewServer()
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
