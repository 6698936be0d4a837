package testkit_test

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/testkit"
)

func TestSyncBufferTakesConcurrentWrites(t *testing.T) {
	t.Parallel()
	var b testkit.SyncBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = b.Write([]byte("x"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	require.Len(t, b.String(), 800)
}

func TestFreePortNeverRepeats(t *testing.T) {
	t.Parallel()
	seen := map[int]bool{}
	for range 50 {
		p := testkit.Port(t)
		require.False(t, seen[p], "port %d handed out twice", p)
		seen[p] = true
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		require.NoError(t, err, "the port is free")
		require.NoError(t, l.Close())
	}
}

func TestAPIAddr(t *testing.T) {
	t.Parallel()
	closed := make(chan struct{})
	close(closed)
	tests := []struct {
		name   string
		log    string
		exited <-chan struct{}
		want   string
		err    string
	}{
		{name: "text log", log: "time=2026-12-07T10:00:00Z level=INFO msg=\"osprey starting\"\n" +
			"time=2026-12-07T10:00:00Z level=INFO msg=\"api listening\" component=webserver addr=127.0.0.1:40123 basic_auth=false\n",
			want: "127.0.0.1:40123"},
		{name: "JSON log", log: `{"time":"2026-12-07T10:00:00Z","level":"INFO","msg":"api listening","component":"webserver","addr":"[::1]:40124","basic_auth":true}` + "\n",
			want: "[::1]:40124"},
		{name: "the management port is not the API's", log: "level=INFO msg=\"management listening\" addr=127.0.0.1:1\n",
			exited: closed, err: testkit.ErrExited.Error()},
		{name: "said before the server exited", log: "level=INFO msg=\"api listening\" addr=127.0.0.1:2\n", exited: closed, want: "127.0.0.1:2"},
		{name: "silent", log: "level=INFO msg=\"osprey starting\"\n", err: "did not say where its API listens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b testkit.SyncBuffer
			_, _ = b.Write([]byte(tt.log))
			got, err := testkit.APIAddr(&b, tt.exited, 100*time.Millisecond)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestManagementAddr(t *testing.T) {
	t.Parallel()
	var b testkit.SyncBuffer
	_, _ = b.Write([]byte("level=INFO msg=\"api listening\" addr=127.0.0.1:1\n"))
	_, err := testkit.ManagementAddr(&b, nil, 50*time.Millisecond)
	require.ErrorContains(t, err, "did not say where its management server listens", "the API's line is not the management server's")
	_, _ = b.Write([]byte("level=INFO msg=\"management listening\" addr=127.0.0.1:40125\n"))
	got, err := testkit.ManagementAddr(&b, nil, time.Second)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:40125", got)
}
