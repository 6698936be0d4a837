package image_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/deploy/image"
)

// TestOspreyImageServes builds the image from the real ./cmd/osprey, takes
// its entrypoint out of the layers, and runs it as the container would: it
// answers `version` and serves a healthy `server local`.
func TestOspreyImageServes(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image's binary is a linux executable")
	}
	bin := filepath.Join(t.TempDir(), "osprey")
	require.NoError(t, image.Compile(t.Context(), "../..", "./cmd/osprey", bin, hostPlatform()))
	img, err := image.Build(image.Options{Binary: bin, Platform: hostPlatform(), CACertificates: testCA})
	require.NoError(t, err)
	cfg, err := img.ConfigFile()
	require.NoError(t, err)
	require.Equal(t, []string{image.BinaryPath}, cfg.Config.Entrypoint)
	fsys := filesystem(t, img)
	entry := strings.TrimPrefix(image.BinaryPath, "/")
	run := filepath.Join(t.TempDir(), "osprey")
	require.NoError(t, os.WriteFile(run, fsys[entry].data, 0o755))

	out, err := exec.CommandContext(t.Context(), run, "version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.True(t, strings.HasPrefix(string(out), "osprey "), "%s", out)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	l, err = net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	mport := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(run, "server", "local", "--data-dir", t.TempDir(), "--port", fmt.Sprint(port), "--management-port", fmt.Sprint(mport))
	cmd.Dir = t.TempDir()
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	require.Eventually(t, func() bool {
		res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/health/readiness", mport))
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond)
}
