package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// lockedBuffer is a log sink the test reads while the server writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPortZeroPicksAFreePort: --port 0 binds an ephemeral port, not the
// default 8080, and the log says which.
func TestPortZeroPicksAFreePort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	mgmt := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())

	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: logs},
			[]string{"server", "local", "--data-dir", t.TempDir(), "--port", "0", "--management-port", strconv.Itoa(mgmt), "--shutdown-grace", "2s"})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("osprey did not stop")
		}
	})

	listening := regexp.MustCompile(`msg="api listening" component=webserver addr=127\.0\.0\.1:(\d+)`)
	var port string
	require.Eventually(t, func() bool {
		if m := listening.FindStringSubmatch(logs.String()); m != nil {
			port = m[1]
			return true
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "the log names the port: %s", logs)
	require.NotEqual(t, "0", port)
	require.NotEqual(t, "8080", port)

	resp, err := http.Get("http://127.0.0.1:" + port + "/api/v1/main/flows/search")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
