package tasks

import (
	"bufio"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/flow"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"1024": 1024, "10KB": 10 << 10, "1.5MB": 3 << 19, "2GB": 2 << 30, " 7 b ": 7} {
		got, err := parseSize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "MB", "-1KB", "ten"} {
		_, err := parseSize(in)
		require.ErrorContains(t, err, "is not a size", in)
	}
}

func TestSplitOn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, sep string
		want    []string
	}{
		{"a\nb\nc", "\n", []string{"a", "b", "c"}},
		{"a\nb\n", "\n", []string{"a", "b"}},
		{"a;;b;;", ";;", []string{"a", "b"}},
		{"", "\n", nil},
	} {
		sc := bufio.NewScanner(strings.NewReader(tc.in))
		sc.Split(splitOn(tc.sep))
		var got []string
		for sc.Scan() {
			got = append(got, sc.Text())
		}
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestStorageTaskChecks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, yaml, want string }{
		{"split needs one limit", "type: io.kestra.plugin.core.storage.Split\nfrom: kestra:///x", "set exactly one of bytes, partitions and rows"},
		{"split takes one limit", "type: io.kestra.plugin.core.storage.Split\nfrom: kestra:///x\nrows: 2\nbytes: 1KB", "set exactly one of bytes, partitions and rows"},
		{"write needs content", "type: io.kestra.plugin.core.storage.Write", `property "content" is required`},
		{"download needs a uri", "type: io.kestra.plugin.core.http.Download", `property "uri" is required`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, parseErr(t, tc.yaml), tc.want)
		})
	}
}

func TestAzureBlobTaskChecks(t *testing.T) {
	t.Parallel()
	const p = "type: io.kestra.plugin.azure.storage.blob."
	for _, tc := range []struct{ name, yaml, want string }{
		{"upload needs from and name", p + "Upload\nendpoint: https://a.blob.core.windows.net\ncontainer: c", `property "from" is required`},
		{"an endpoint or a connection string", p + "List\ncontainer: c", `property "endpoint" is required`},
		{"no pem certificate", p + "List\nendpoint: https://a.blob.core.windows.net\ncontainer: c\npemCertificate: x", "pemCertificate is not supported"},
		{"move needs moveTo", p + "Downloads\nendpoint: https://a.blob.core.windows.net\ncontainer: c\naction: MOVE", `property "moveTo" is required`},
		{"known actions", p + "Downloads\nendpoint: https://a.blob.core.windows.net\ncontainer: c\naction: ARCHIVE", `action "ARCHIVE": use NONE, DELETE or MOVE`},
		{"unknown property", p + "Delete\nendpoint: https://a.blob.core.windows.net\ncontainer: c\nname: n\nbucket: b", `unknown property "bucket"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, parseErr(t, tc.yaml), tc.want)
		})
	}
}

func TestBlobTriggerChecks(t *testing.T) {
	t.Parallel()
	base := map[string]any{"endpoint": "https://a.blob.core.windows.net", "container": "drop", "action": "DELETE"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range base {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		props map[string]any
		want  string
	}{
		{"valid", base, ""},
		{"action is required", with("action", nil), `action "": use DELETE, MOVE or NONE`},
		{"move needs moveTo", with("action", "MOVE"), "action MOVE needs moveTo"},
		{"interval at least a second", with("interval", "PT0.1S"), "must be an ISO 8601 duration of at least PT1S"},
		{"container", with("container", nil), `property "container" is required`},
		{"trigger-only properties are the scheduler's", with("stopAfter", []any{"FAILED"}), ""},
	} {
		_, errs := decodeBlobTrigger(&flow.Trigger{ID: "watch", Type: pBlobTrigger, Props: tc.props})
		if tc.want == "" {
			require.Empty(t, errs, tc.name)
			continue
		}
		require.NotEmpty(t, errs, tc.name)
		require.Contains(t, flow.Errors(errs).Error(), tc.want, tc.name)
	}
}
