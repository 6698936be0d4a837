package config

import (
	"fmt"
	"log/slog"
)

// redacted is what every output format shows in place of a secret value.
const redacted = "******"

// Secret holds a secret-bearing configuration value (a password, a client
// secret, an encryption key). It redacts itself when formatted with any fmt
// verb, marshalled to JSON, YAML or text, or logged with slog, so a Config can
// be printed or logged whole without leaking. Reveal returns the value for the
// one place that must hand it to a client library.
//
// The value sits behind a pointer so that even printing a struct that holds a
// Secret in an unexported field (where fmt cannot call methods) shows an
// address, not the value. The zero Secret is empty.
type Secret struct {
	v *secretValue
}

type secretValue struct{ s string }

// NewSecret wraps s.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{v: &secretValue{s: s}}
}

// Reveal returns the secret value. Call it only where the value is handed to
// the component that needs it (a database driver, a credential), never to
// build a message.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return s.v.s
}

// IsZero reports whether the secret is empty (unset).
func (s Secret) IsZero() bool { return s.v == nil || s.v.s == "" }

// display is what outputs show: nothing for an unset secret, so that an
// operator can tell "missing" from "set", and ****** otherwise.
func (s Secret) display() string {
	if s.IsZero() {
		return ""
	}
	return redacted
}

// String returns ****** (or "" when unset).
func (s Secret) String() string { return s.display() }

// GoString returns ****** (or "" when unset), for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.display()) }

// Format redacts under every fmt verb, including %x and %q, which would
// otherwise bypass String for some types.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", s.display())
	case 'v':
		if f.Flag('#') {
			_, _ = f.Write([]byte(s.GoString()))
			return
		}
		_, _ = f.Write([]byte(s.display()))
	default:
		_, _ = f.Write([]byte(s.display()))
	}
}

// LogValue redacts the secret in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.display()) }

// MarshalJSON redacts the secret in JSON output.
func (s Secret) MarshalJSON() ([]byte, error) { return fmt.Appendf(nil, "%q", s.display()), nil }

// MarshalText redacts the secret wherever a text encoding is used.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.display()), nil }

// MarshalYAML redacts the secret in YAML output.
func (s Secret) MarshalYAML() (any, error) { return s.display(), nil }
