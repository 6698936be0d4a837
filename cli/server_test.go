package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/devkit/testkit"
	"github.com/ospreyhq/osprey/server"
)

// TestPortZeroPicksAFreePort: --port 0 and --management-port 0 bind
// ephemeral ports, not the defaults 8080 and 8081, and the log says which.
func TestPortZeroPicksAFreePort(t *testing.T) {
	t.Parallel()
	logs := &testkit.SyncBuffer{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: logs},
			[]string{"server", "local", "--data-dir", t.TempDir(), "--port", "0", "--management-port", "0", "--shutdown-grace", "2s"})
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

	mgmt, err := testkit.ManagementAddr(logs, nil, 30*time.Second)
	require.NoError(t, err, "%s", logs)
	require.NotEqual(t, "127.0.0.1:8081", mgmt)
	require.NotEqual(t, "127.0.0.1:0", mgmt)
	health, err := http.Get("http://" + mgmt + "/health/liveness")
	require.NoError(t, err)
	defer health.Body.Close()
	require.Equal(t, http.StatusOK, health.StatusCode)
}

// TestManagementHost: the management port stays on loopback unless a host is configured, by flag or, as in
// Micronaut, through the API's own micronaut.server.host.
func TestManagementHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		flag string
		env  []string
		want string
	}{
		{name: "nothing configured", want: "127.0.0.1:8081"},
		{name: "the flag", flag: "0.0.0.0", want: "0.0.0.0:8081"},
		{name: "the API's host", env: []string{"MICRONAUT_SERVER_HOST=10.1.2.3"}, want: "10.1.2.3:8081"},
		{name: "the flag beats the API's host", flag: "127.0.0.1", env: []string{"MICRONAUT_SERVER_HOST=0.0.0.0"}, want: "127.0.0.1:8081"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, _, err := config.Load(t.Context(), config.Sources{Env: tt.env})
			require.NoError(t, err)
			got := server.ManagementAddr(managementHost(serverFlags{managementHost: tt.flag}, cfg), cfg.Server.ManagementPort)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestLocalDataDirFromConfig: `server local` without --data-dir keeps its
// database where osprey.data-dir says, and --data-dir, when given, wins.
func TestLocalDataDirFromConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		flag    bool
		wantCfg bool
	}{
		{"config only", false, true},
		{"flag wins", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fromCfg, fromFlag := t.TempDir(), t.TempDir()
			cfgPath := filepath.Join(t.TempDir(), "application.yml")
			require.NoError(t, os.WriteFile(cfgPath, []byte("osprey:\n  data-dir: "+fromCfg+"\n"), 0o600))
			args := []string{"-c", cfgPath, "server", "local", "--port", "0", "--management-port", "0", "--shutdown-grace", "2s"}
			if tc.flag {
				args = append(args, "--data-dir", fromFlag)
			}
			logs := &testkit.SyncBuffer{}
			ctx, cancel := context.WithCancel(t.Context())
			done, exited := make(chan int, 1), make(chan struct{})
			go func() {
				done <- Run(ctx, &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: logs}, args)
				close(exited)
			}()
			t.Cleanup(func() {
				cancel()
				select {
				case <-done:
				case <-time.After(20 * time.Second):
					t.Error("osprey did not stop")
				}
			})
			_, err := testkit.APIAddr(logs, exited, 30*time.Second)
			require.NoError(t, err, "logs: %s", logs)
			want, other := fromFlag, fromCfg
			if tc.wantCfg {
				want, other = fromCfg, fromFlag
			}
			require.FileExists(t, filepath.Join(want, "osprey.db"))
			require.NoFileExists(t, filepath.Join(other, "osprey.db"))
		})
	}
}
