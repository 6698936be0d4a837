package mask_test

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/expr"
	"github.com/ospreyhq/osprey/mask"
)

const (
	pem = "-----BEGIN PRIVATE KEY-----\n" +
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDx4kX9pQ2mZ7\n" +
		"Lq8sTn3vWy5RbJ0cHdK1fGaE6uM4oP2iYtV9wXzB7lNcS3hQjDr8kFmA5eUgOy\n" +
		"-----END PRIVATE KEY-----\n"
	jsonSecret = `{"db":{"user":"svc-app","password":"j50n-s3cret-pw"},"pin":918273,"tags":["t0ken-in-list"]}`
	plain      = "Pa55w0rd-Zeta&9"
)

// render evaluates tmpl with the real expression engine; s, pem and j
// are the secrets.
func render(t *testing.T, tmpl string) string {
	t.Helper()
	out, err := expr.New(expr.Options{}).Render(t.Context(), tmpl, &expr.Scope{Vars: map[string]any{"s": plain, "pem": pem, "j": jsonSecret}})
	require.NoError(t, err, tmpl)
	return out
}

// The value is recognised whatever the expression engine made of it:
// each case is one way a flow author could try to get it out.
func TestMaskFollowsTheValueThroughExpressions(t *testing.T) {
	t.Parallel()
	var m mask.Masker
	m.Add(plain)
	m.Add(pem)
	m.Add(jsonSecret)
	cases := []struct {
		name, tmpl string
		leak       []string // what must not survive masking
	}{
		{"upper", "{{ s | upper }}", []string{"PA55W0RD"}},
		{"reverse", "{{ s | reverse }}", []string{"dr0w55aP"}},
		{"base64 offset 0", "{{ s | base64encode }}", nil},
		{"base64 offset 1", "{{ ('x' ~ s) | base64encode }}", nil},
		{"base64 offset 2", "{{ ('xy' ~ s ~ 'tail') | base64encode }}", nil},
		{"upper then base64", "{{ ('x' ~ (s | upper)) | base64encode }}", nil},
		{"double base64", "{{ ('ab' ~ (('c' ~ s) | base64encode)) | base64encode }}", nil},
		{"urlencode of base64", "{{ ('c' ~ s) | base64encode | urlencode }}", nil},
		{"pem indent", "key:\n{{ pem | indent(4) }}", []string{"MIIEvQIB", "Lq8sTn3v"}},
		{"pem split", "{{ pem | split('\n') }}", []string{"MIIEvQIB", "Lq8sTn3v"}},
		{"pem line base64", "{{ ('zz' ~ (pem | split('\n'))[1]) | base64encode }}", nil},
		{"json jq string", "{{ j | jq('.db.password') | first }}", []string{"j50n-s3cret"}},
		{"json jq number", "pin={{ j | jq('.pin') | first }}", []string{"918273"}},
		{"json jq list leaf", "{{ j | jq('.tags[0]') | first }}", []string{"t0ken"}},
		{"json leaf upper base64", "{{ ('q' ~ (j | jq('.db.password') | first | upper)) | base64encode }}", nil},
		{"json escaped", "{{ {'v': s} | json }}", []string{"Pa55w0rd"}},
		{"yaml", "{{ {'v': s ~ \"'\"} | yaml }}", []string{"Pa55w0rd"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out := render(t, c.tmpl)
			masked := m.Mask(out)
			require.Contains(t, masked, mask.Redacted, "%q", out)
			for _, l := range append(c.leak, "Pa55w0rd", "j50n-s3cret") {
				require.NotContains(t, masked, l, "rendered %q", out)
			}
			requireNoDecodable(t, masked)
		})
	}
}

// requireNoDecodable decodes every base64 run of masked at each
// alignment and fails if a secret comes back.
func requireNoDecodable(t *testing.T, masked string) {
	t.Helper()
	for _, f := range strings.FieldsFunc(masked, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+/-_%", r))
	}) {
		f, _ = url.QueryUnescape(f)
		for off := range 4 {
			if off >= len(f) {
				break
			}
			u := strings.NewReplacer("-", "+", "_", "/").Replace(f[off:])
			u = u[:len(u)/4*4]
			b, _ := base64.StdEncoding.DecodeString(u)
			for _, bad := range []string{"Pa55w0rd", "PA55W0RD", "j50n-s3cret", "J50N-S3CRET"} {
				require.NotContains(t, string(b), bad, "%q decodes to a secret", f)
			}
		}
	}
}

// A shell's encodings: hex in both cases, hexdump -C and xxd rows that
// cut the value, base64 wrapped at 76 characters.
func TestMaskFollowsTheValueThroughShellEncodings(t *testing.T) {
	t.Parallel()
	long := "a-long-secret-value-that-spans-several-dump-rows-0123456789"
	var m mask.Masker
	m.Add(plain)
	m.Add(long)
	cases := map[string]string{
		"xxd -p":          hex.EncodeToString([]byte(plain)),
		"xxd -u -p":       strings.ToUpper(hex.EncodeToString([]byte(plain))),
		"hex of upper":    hex.EncodeToString([]byte(strings.ToUpper(plain))),
		"xxd -p wrapped":  wrap(hex.EncodeToString([]byte("prefix "+long)), 60),
		"hexdump -C":      hexdumpC("id=" + long + "\n"),
		"xxd":             xxd("id=" + long),
		"base64 wrapped":  wrap(base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 40)+long+long)), 76),
		"base64 of lines": base64.StdEncoding.EncodeToString([]byte("u=" + plain + "\n")),
	}
	for name, out := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			masked := m.Mask(out)
			require.Contains(t, masked, mask.Redacted)
			for _, line := range strings.Split(masked, "\n") {
				for _, b := range []string{"Pa55", "secret", "value", "rows-0"} {
					require.NotContains(t, line, b, "masked: %s", masked)
				}
				if h, err := hex.DecodeString(strings.TrimSpace(line)); err == nil {
					require.NotContains(t, string(h), "secret")
				}
			}
		})
	}
}

// Text that merely shares a word with a secret, or dumps of other bytes,
// stays as it is.
func TestMaskLeavesOrdinaryTextAlone(t *testing.T) {
	t.Parallel()
	var m mask.Masker
	m.Add("password-Zeta-42")
	m.Add(jsonSecret)
	for _, s := range []string{
		"the password field was empty",
		"2026-12-07T10:00:00Z INFO processed 1200 rows",
		hexdumpC("an ordinary file with ordinary words in it\n"),
		wrap(base64.StdEncoding.EncodeToString([]byte(strings.Repeat("harmless ", 30))), 76),
		"deadbeefcafebabe",
	} {
		require.Equal(t, s, m.Mask(s))
	}
}

// Values shorter than mask.MinLen are not masked (documented).
func TestShortSecretsAreNotLearnt(t *testing.T) {
	t.Parallel()
	var m mask.Masker
	m.Add("abc")
	require.True(t, m.Empty())
	require.Equal(t, "abc", m.Mask("abc"))
}

// Numbers inside values are masked when they are a secret's leaf.
func TestValueMasksSecretNumbers(t *testing.T) {
	t.Parallel()
	var m mask.Masker
	m.Add(jsonSecret)
	out := m.Value(map[string]any{"pin": float64(918273), "n": 3, "list": []any{918273}})
	require.Equal(t, map[string]any{"pin": mask.Redacted, "n": 3, "list": []any{mask.Redacted}}, out)
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

// hexdumpC formats b as hexdump -C does.
func hexdumpC(s string) string {
	var out strings.Builder
	for off := 0; off < len(s); off += 16 {
		row := s[off:min(off+16, len(s))]
		fmt.Fprintf(&out, "%08x  ", off)
		for i := range 16 {
			if i < len(row) {
				fmt.Fprintf(&out, "%02x ", row[i])
			} else {
				out.WriteString("   ")
			}
			if i == 7 {
				out.WriteString(" ")
			}
		}
		txt := []byte(row)
		for i, c := range txt {
			if c < 32 || c > 126 {
				txt[i] = '.'
			}
		}
		fmt.Fprintf(&out, " |%s|\n", txt)
	}
	return out.String()
}

// xxd formats b as xxd does.
func xxd(s string) string {
	var out strings.Builder
	for off := 0; off < len(s); off += 16 {
		row := s[off:min(off+16, len(s))]
		fmt.Fprintf(&out, "%08x: ", off)
		h := hex.EncodeToString([]byte(row))
		for i := 0; i < len(h); i += 4 {
			fmt.Fprintf(&out, "%s ", h[i:min(i+4, len(h))])
		}
		fmt.Fprintf(&out, " %s\n", row)
	}
	return out.String()
}
