package redteam

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
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

// The isolation attempts are scanned for the server's own values: the scan
// must find each in what an unconfined task would print (the environment,
// the files in clear, base64 and hex).
func TestScanFindsServerValues(t *testing.T) {
	t.Parallel()
	needShellTools(t)
	dir := t.TempDir()
	for name, body := range map[string]string{"token": tokenValue, "secrets.key": keyFileValue, "osprey.db": dbMarker + "\x00\x10\x00\x02\x02"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	for _, c := range []struct{ name, script string }{
		{"env", "env"},
		{"clear", "cat token secrets.key osprey.db"},
		{"base64", "base64 -w0 token; echo; base64 -w0 secrets.key; echo; base64 -w0 osprey.db"},
		{"hex", "xxd -p token; xxd -p secrets.key; xxd -p osprey.db"},
	} {
		cmd := exec.Command("sh", "-c", c.script)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "KESTRA_SERVER_BASIC_AUTH_PASSWORD=" + authPassword,
			"KESTRA_ENCRYPTION_SECRET_KEY=" + encryptionKey, "AZURE_FEDERATED_TOKEN=" + tokenValue, "K=" + keyFileValue, "DB=" + dbMarker}
		out, err := cmd.Output()
		require.NoError(t, err, c.name)
		for _, name := range sortedKeys(serverValues) {
			if c.name != "env" && (name == "basic-auth password" || name == "encryption key") {
				continue // in the environment only
			}
			form, _ := find(string(out), serverValues[name])
			require.NotEmpty(t, form, "%s: the %s in:\n%s", c.name, name, out)
		}
	}
}
