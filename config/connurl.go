package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
)

// ConnURL is a database connection string as configured (JDBC URL,
// postgres:// URL or key=value DSN). It may embed a password, so every
// output format shows it with the password replaced by ******, keeping the
// host and database visible for diagnosis. Reveal returns it as written.
type ConnURL struct {
	v *secretValue
}

// NewConnURL wraps s.
func NewConnURL(s string) ConnURL {
	if s == "" {
		return ConnURL{}
	}
	return ConnURL{v: &secretValue{s: s}}
}

// Reveal returns the connection string as written, password included.
func (u ConnURL) Reveal() string {
	if u.v == nil {
		return ""
	}
	return u.v.s
}

// IsZero reports whether no URL is set.
func (u ConnURL) IsZero() bool { return u.Reveal() == "" }

// String returns the URL with its password redacted.
func (u ConnURL) String() string { return redactConn(u.Reveal()) }

// Format redacts under every fmt verb.
func (u ConnURL) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", u.String())
		return
	}
	_, _ = f.Write([]byte(u.String()))
}

// LogValue redacts the password in slog output.
func (u ConnURL) LogValue() slog.Value { return slog.StringValue(u.String()) }

// MarshalJSON redacts the password in JSON output.
func (u ConnURL) MarshalJSON() ([]byte, error) { return fmt.Appendf(nil, "%q", u.String()), nil }

// MarshalText redacts the password wherever a text encoding is used.
func (u ConnURL) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// MarshalYAML redacts the password in YAML output.
func (u ConnURL) MarshalYAML() (any, error) { return u.String(), nil }

var dsnPassword = regexp.MustCompile(`(?i)(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// redactConn hides passwords in a connection string of any accepted form.
// When it cannot tell where a password would be, it hides everything.
func redactConn(raw string) string {
	if raw == "" {
		return ""
	}
	prefix, rest := "", raw
	if strings.HasPrefix(strings.ToLower(raw), "jdbc:") {
		prefix, rest = raw[:5], raw[5:]
	}
	if strings.Contains(rest, "://") {
		u, err := url.Parse(rest)
		if err != nil {
			return redacted
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), redacted)
		}
		q := u.Query()
		changed := false
		for k := range q {
			if lk := strings.ToLower(k); lk == "password" || lk == "sslpassword" {
				q.Set(k, redacted)
				changed = true
			}
		}
		if changed {
			u.RawQuery = strings.ReplaceAll(q.Encode(), url.QueryEscape(redacted), redacted)
		}
		return prefix + strings.ReplaceAll(u.String(), url.QueryEscape(redacted), redacted)
	}
	if strings.Contains(raw, "=") {
		return dsnPassword.ReplaceAllString(raw, "${1}"+redacted)
	}
	if strings.Contains(strings.ToLower(raw), "password") || strings.Contains(raw, "@") {
		return redacted
	}
	return raw
}
