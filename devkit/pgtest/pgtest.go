// Package pgtest starts a real PostgreSQL for tests, from the machine's own
// binaries (initdb, postgres), so the PostgreSQL store and the split-mode
// tests run against the database they ship for.
//
// One server is shared by a test binary and started on first use; each
// Start call gets a fresh database on it. Call Main from TestMain so the
// server stops and its directory goes when the tests end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Without Main the server still dies with the test binary (Pdeathsig) and
// the next server started on the machine sweeps the directory it left.
//
// PostgreSQL refuses to run as root: under root, initdb and postgres run
// as the postgres user (set as the child's credentials, as runuser would),
// in a directory handed to that user. The server runs with fsync off and
// listens on 127.0.0.1 only, on a free port. StartServer starts one for a
// program, with fsync on when asked (the benchmark measures durable
// commits).
//
// Outside CI a machine without PostgreSQL skips these tests with a message
// saying so; under CI=true a missing or broken PostgreSQL fails them.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ospreyhq/osprey/devkit/testkit"
)

// errNoBinaries means PostgreSQL is not installed here.
var errNoBinaries = errors.New("PostgreSQL binaries (initdb, postgres) not found on PATH or under /usr/lib/postgresql/*/bin")

// server is the one PostgreSQL of this test binary.
type server struct {
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when postgres exits
	// command builds the postgres command again, for a restart on the
	// same data directory and port.
	command func() *exec.Cmd
}

var (
	once    sync.Once
	shared  *server
	initErr error
	dbSeq   atomic.Int64
)

// Start returns the DSN of a new, empty database on the shared server,
// starting the server on first use. It skips the test when PostgreSQL is
// not installed, unless CI=true, where it fails.
func Start(t testing.TB) (dsn string) {
	t.Helper()
	once.Do(func() { shared, initErr = startServer(false) })
	if initErr != nil {
		if errors.Is(initErr, errNoBinaries) && os.Getenv("CI") != "true" {
			t.Skipf("pgtest: %v; install PostgreSQL (e.g. apt-get install postgresql) to run this test", initErr)
		}
		t.Fatalf("pgtest: start PostgreSQL: %v", initErr)
	}
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, shared.dsn("postgres"))
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	return shared.dsn(name)
}

// Main runs the tests and then stops the shared server, if one started.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	os.Exit(code)
}

func (s *server) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// binDir finds the directory holding initdb and postgres: PATH first, then
// Debian's /usr/lib/postgresql/<version>/bin, newest version first.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
		if p, err := exec.LookPath("postgres"); err == nil && filepath.Dir(p) == dir {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errNoBinaries
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// credential returns who runs PostgreSQL: it refuses to run as root, so
// under root it runs as the postgres user, and the data directory is
// handed to that user.
func credential() (*syscall.Credential, int, int, error) {
	if os.Geteuid() != 0 {
		return nil, -1, -1, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, 0, 0, fmt.Errorf("running as root needs a postgres user to run PostgreSQL as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid, gid, nil
}

func startServer(durable bool) (*server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, uid, gid, err := credential()
	if err != nil {
		return nil, err
	}
	sweepStale()
	// Not t.TempDir: it may be a 0700 directory of root's that the
	// postgres user cannot enter.
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	run := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
		return cmd
	}
	initdb := run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}

	var lastErr error
	for range 3 { // a free port can be taken between probe and bind
		port, err := testkit.FreePort()
		if err != nil {
			return nil, err
		}
		s := &server{dir: dir, port: port}
		sync := []string{"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"}
		if durable {
			sync = []string{"-c", "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on"}
		}
		s.command = func() *exec.Cmd {
			return run("postgres", append(append([]string{"-D", data, "-p", strconv.Itoa(port),
				"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + dir}, sync...),
				"-c", "max_connections=300", "-c", "shared_buffers=32MB")...)
		}
		if err := s.startProcess(30 * time.Second); err != nil {
			if errors.Is(err, errNotReady) {
				lastErr = err
				continue
			}
			os.RemoveAll(dir)
			return nil, err
		}
		return s, nil
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// errNotReady means postgres started but never accepted a connection.
var errNotReady = errors.New("postgres did not become ready")

// startProcess starts postgres on the server's data directory and port and
// waits until it accepts connections.
func (s *server) startProcess(timeout time.Duration) error {
	var logBuf testkit.SyncBuffer
	s.cmd = s.command()
	s.cmd.Stdout, s.cmd.Stderr = &logBuf, &logBuf
	s.done = make(chan struct{})
	if err := s.start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	if err := s.waitReady(timeout); err != nil {
		s.stopProcess()
		return fmt.Errorf("%w: %w\n%s", errNotReady, err, logBuf.String())
	}
	return nil
}

// start starts postgres from a goroutine locked to its OS thread until
// postgres exits. Pdeathsig kills postgres when the thread that started it
// dies, so postgres never outlives the test binary even without Main; the
// lock keeps the runtime from retiring that thread earlier.
func (s *server) start() error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with postgres
		if err := s.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = s.cmd.Wait()
		close(s.done)
	}()
	return <-started
}

func (s *server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, s.dsn("postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("postgres exited: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after %s: %w", timeout, err)
		}
	}
}

// stopProcess asks postgres for a fast shutdown and kills it if it lingers.
func (s *server) stopProcess() {
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *server) stop() {
	s.stopProcess()
	os.RemoveAll(s.dir)
}

// dirPrefix names the servers' directories under the temp dir.
const dirPrefix = "osprey-pgtest-"

// sweepStale removes directories left by test binaries that died without
// Main's cleanup: their postgres is gone (killed by Pdeathsig), or they
// never got one and are over an hour old.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		pidFile, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid"))
		if err != nil {
			if fi, err := os.Stat(d); err == nil && time.Since(fi.ModTime()) > time.Hour {
				os.RemoveAll(d)
			}
			continue
		}
		first, _, _ := bytes.Cut(pidFile, []byte("\n"))
		pid, err := strconv.Atoi(string(bytes.TrimSpace(first)))
		if err == nil && pid > 0 && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
}
