package files

import (
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/cli"
	"github.com/ospreyhq/osprey/devkit/testkit"
)

// BenchmarkLargeFileRoundTrip streams one file through a FILE input, a
// shell task (inputFiles → outputFiles) and the download endpoint on
// `server local`, and reports the process's peak resident memory while it
// does. OSPREY_BENCH_FILE_MB sets the size (default 256; the figure in
// docs/storage.md is for 1024).
func BenchmarkLargeFileRoundTrip(b *testing.B) {
	size := int64(256) << 20
	if s := os.Getenv("OSPREY_BENCH_FILE_MB"); s != "" {
		mb, err := strconv.Atoi(s)
		require.NoError(b, err)
		size = int64(mb) << 20
	}
	dir := b.TempDir()
	serverLog := &testkit.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done, exited := make(chan int, 1), make(chan struct{})
	go func() {
		done <- cli.Run(ctx, &cli.Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: serverLog, Environ: nil},
			[]string{"server", "local", "--port", "0", "--management-port", "0", "--data-dir", filepath.Join(dir, "data"), "--shutdown-grace", "2s"})
		close(exited)
	}()
	b.Cleanup(func() { cancel(); <-done })
	api := apiOf(b, serverLog, exited)
	require.Eventually(b, func() bool {
		resp, err := http.Get(api + "/api/v1/main/flows/search")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}, 15*time.Second, 50*time.Millisecond)
	src := "id: big\nnamespace: bench\ninputs:\n  - id: data\n    type: FILE\ntasks:\n  - id: copy\n    type: io.kestra.plugin.scripts.shell.Commands\n    inputFiles:\n      in.bin: \"{{ inputs.data }}\"\n    outputFiles: [out.bin]\n    commands:\n      - cp in.bin out.bin\n"
	resp, err := http.Post(api+"/api/v1/main/flows", "application/x-yaml", strings.NewReader(src))
	require.NoError(b, err)
	resp.Body.Close()
	require.Equal(b, http.StatusOK, resp.StatusCode)

	b.SetBytes(size)
	b.ResetTimer()
	var peak int64
	for range b.N {
		resetPeakRSS()
		// The multipart body is produced as it is sent: the client holds
		// no more of the file than the server does.
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			fw, err := mw.CreateFormFile("data", "big.bin")
			if err == nil {
				_, err = io.CopyN(fw, zeroes{}, size)
			}
			if err == nil {
				err = mw.Close()
			}
			pw.CloseWithError(err)
		}()
		resp, err := http.Post(api+"/api/v1/main/executions/bench/big?wait=true", mw.FormDataContentType(), pr)
		require.NoError(b, err)
		var ex struct {
			ID    string `json:"id"`
			State struct {
				Current string `json:"current"`
			} `json:"state"`
			TaskRunList []struct {
				Outputs map[string]any `json:"outputs"`
			} `json:"taskRunList"`
		}
		require.NoError(b, json.NewDecoder(resp.Body).Decode(&ex))
		resp.Body.Close()
		require.Equal(b, "SUCCESS", ex.State.Current)
		out := ex.TaskRunList[0].Outputs["outputFiles"].(map[string]any)["out.bin"].(string)
		resp, err = http.Get(api + "/api/v1/main/executions/" + ex.ID + "/file?path=" + url.QueryEscape(out))
		require.NoError(b, err)
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.NoError(b, err)
		require.Equal(b, size, n)
		peak = max(peak, peakRSS())
		req, _ := http.NewRequest(http.MethodDelete, api+"/api/v1/main/executions/"+ex.ID, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
}

type zeroes struct{}

func (zeroes) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// resetPeakRSS restarts the kernel's high-water mark of this process's
// resident memory (Linux: clear_refs 5).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the process's peak resident memory in bytes (VmHWM).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
