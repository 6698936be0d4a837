package mask

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHandlerMasksProcessLogs(t *testing.T) {
	t.Parallel()
	var m Masker
	var buf bytes.Buffer
	log := slog.New(NewHandler(slog.NewTextHandler(&buf, nil), &m))
	log.Info("before any secret s3cr3t-db-pw")
	require.Contains(t, buf.String(), "s3cr3t-db-pw", "nothing is masked before the value is known")
	buf.Reset()

	m.Add("s3cr3t-db-pw")
	log.With("dsn", "postgres://u:s3cr3t-db-pw@h/db").Error("connect s3cr3t-db-pw",
		"err", errors.New("auth failed for s3cr3t-db-pw"),
		"url", url.QueryEscape("s3cr3t-db-pw"),
		slog.Group("req", "body", `{"p":"s3cr3t-db-pw"}`),
		"n", 3)
	out := buf.String()
	require.NotContains(t, out, "s3cr3t")
	require.Contains(t, out, Redacted)
	require.Contains(t, out, "n=3")
}
