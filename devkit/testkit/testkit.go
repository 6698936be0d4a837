// Package testkit holds what the tests and dev commands that start Osprey
// servers share: a buffer several goroutines write a server's output to,
// free loopback ports, and the address a server started on port 0 says it
// listens on. Each was once copied into every package that needed it.
package testkit

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"regexp"
	"sync"
	"time"
)

// TB is the part of testing.TB the helpers use (so that dev commands link
// no testing package).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// SyncBuffer is a bytes.Buffer safe for concurrent use: a server's log
// writer and the test reading it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// handedOut holds the ports FreePort returned: the kernel may offer a port
// again once its probe listener closed, before the process given it binds.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// FreePort returns a loopback TCP port nobody listens on and that no other
// call in this process returned. Another process may still take it before
// the caller binds it: a server that can bind port 0 and say which port it
// got is safer (see APIAddr).
func FreePort() (int, error) {
	handedOut.Lock()
	defer handedOut.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if err := l.Close(); err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		if !handedOut.ports[port] {
			handedOut.ports[port] = true
			return port, nil
		}
	}
}

// Port is FreePort for a test, which it fails when no port is free.
func Port(t TB) int {
	t.Helper()
	p, err := FreePort()
	if err != nil {
		t.Fatalf("%v", err)
	}
	return p
}

// listening matches the line with which a server says where one of its
// listeners is, in the text and the JSON log formats.
func listening(what string) *regexp.Regexp {
	return regexp.MustCompile(`(?:msg="` + what + ` listening"|"msg":"` + what + ` listening").*?\baddr"?[=:]"?([^\s",]+)`)
}

var (
	apiListening        = listening("api")
	managementListening = listening("management")
)

// ErrExited is APIAddr's error when the server ended before it listened.
var ErrExited = errors.New("the server exited before it listened")

// APIAddr waits until out, the log of an Osprey server started with
// --port 0, says where the API listens, and returns that host:port. A
// test that picks a port itself and polls it may reach another test's
// server, which took the port first, and read that server's answers as
// its own; the port the server bound itself is its own. It returns
// ErrExited once exited is closed (nil: never), and an error after
// timeout.
func APIAddr(out fmt.Stringer, exited <-chan struct{}, timeout time.Duration) (string, error) {
	return listenAddr(out, apiListening, "its API", exited, timeout)
}

// ManagementAddr is APIAddr for the management server (health, metrics)
// of a server started with --management-port 0.
func ManagementAddr(out fmt.Stringer, exited <-chan struct{}, timeout time.Duration) (string, error) {
	return listenAddr(out, managementListening, "its management server", exited, timeout)
}

func listenAddr(out fmt.Stringer, re *regexp.Regexp, what string, exited <-chan struct{}, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], nil
		}
		select {
		case <-exited:
			if m := re.FindStringSubmatch(out.String()); m != nil {
				return m[1], nil
			}
			return "", ErrExited
		default:
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the server did not say where %s listens within %s", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
