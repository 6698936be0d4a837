package redteam

import (
	"encoding/base64"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The scan is the suite's instrument: it must find each form of a value
// when nothing masks it (real tools' output where a shell has them), and
// nothing in text that holds none.
func TestScanFindsEveryPromisedForm(t *testing.T) {
	t.Parallel()
	pw := secretPW
	cases := map[string]string{
		"raw":                  "x " + pw + " y",
		"upper":                strings.ToUpper(pw),
		"reverse":              reverse(pw),
		"hex":                  hex.EncodeToString([]byte(pw)),
		"HEX of upper":         strings.ToUpper(hex.EncodeToString([]byte(strings.ToUpper(pw)))),
		"base64 at offset 1":   base64.StdEncoding.EncodeToString([]byte("x" + pw)),
		"base64 at offset 2":   base64.URLEncoding.EncodeToString([]byte("xy" + pw + "z")),
		"double base64":        base64.StdEncoding.EncodeToString([]byte("q" + base64.StdEncoding.EncodeToString([]byte(pw)))),
		"PEM line":             strings.Split(secretPEM, "\n")[2],
		"JSON leaf":            "password=j50n-s3cret-pw",
		"JSON number":          "pin 9182736450",
		"piece of a dump line": "|id=Pa55w0rd-Zet|",
	}
	for name, text := range cases {
		form, _ := find(text, pw)
		if form == "" {
			form, _ = find(text, secretPEM)
		}
		if form == "" {
			form, _ = find(text, secretJS)
		}
		require.NotEmpty(t, form, name)
	}
	if out, err := exec.Command("sh", "-c", `printf 'id=%s\n' "`+strings.ReplaceAll(pw, "!", `\!`)+`" | hexdump -C`).Output(); err == nil {
		form, _ := find(string(out), pw)
		require.NotEmpty(t, form, "hexdump -C:\n%s", out)
	}
	for _, clean := range []string{"******", "got ******", `{"v":"******"}`, "2026-12-07T10:00:00.123456789Z INFO ok"} {
		for _, sec := range guarded {
			form, ex := find(clean, sec)
			require.Empty(t, form, "%q: %s", clean, ex)
		}
	}
}
