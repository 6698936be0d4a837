package config

import (
	"errors"
	"fmt"
	"strconv"
)

// Layer names a configuration layer, lowest precedence first.
type Layer int

// The layers, in precedence order.
const (
	LayerDefault Layer = iota
	LayerFile
	LayerKestraConfiguration
	LayerEnv
	LayerFlag
)

// String returns the layer's short name, as shown by Properties.
func (l Layer) String() string {
	switch l {
	case LayerDefault:
		return "default"
	case LayerFile:
		return "file"
	case LayerKestraConfiguration:
		return "env"
	case LayerEnv:
		return "env"
	case LayerFlag:
		return "flag"
	}
	return "layer(" + strconv.Itoa(int(l)) + ")"
}

// Source is where a value came from.
type Source struct {
	Layer Layer
	// Name is the file path, or the environment variable, or the flag's key.
	Name string
	// Line and Column locate the value in a YAML document (1-based; 0 when
	// unknown).
	Line, Column int
}

// String renders the source as "file a.yml:12", "env KESTRA_SECRET_TYPE",
// "env KESTRA_CONFIGURATION:3", "flag", "default".
func (s Source) String() string {
	out := s.Layer.String()
	if s.Name != "" {
		out += " " + s.Name
	}
	if s.Line > 0 {
		out += ":" + strconv.Itoa(s.Line)
	}
	return out
}

// where prefixes a message with "file:line: " when the source has a place.
func (s Source) where() string {
	switch {
	case s.Name != "" && s.Line > 0:
		return s.Name + ":" + strconv.Itoa(s.Line) + ": "
	case s.Name != "":
		return s.Name + ": "
	}
	return ""
}

// Error is one configuration problem: the key, where it was written, and
// what to do. Load returns every problem at once, joined with errors.Join;
// use errors.As to reach the first one, or Errors to list them all.
type Error struct {
	Key    string
	Source Source
	// Msg describes the problem and its fix; it never holds a secret value.
	Msg string
}

// Error renders "file:line: key: message".
func (e *Error) Error() string {
	if e.Key == "" {
		return e.Source.where() + e.Msg
	}
	return e.Source.where() + e.Key + ": " + e.Msg
}

// Errors lists every *Error inside err (as returned by Load).
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if e, ok := err.(*Error); ok { //nolint:errorlint // a direct type check of a tree node
			out = append(out, e)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok { //nolint:errorlint // walking a join
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var e *Error
		if errors.As(err, &e) {
			out = append(out, e)
		}
	}
	walk(err)
	return out
}

// WarningKind classifies warnings.
type WarningKind int

const (
	// WarnUnknownKey is a key under a section Osprey reads that it does not
	// know, probably a typo; Strict turns it into an error.
	WarnUnknownKey WarningKind = iota
	// WarnIgnored is a Kestra or Micronaut setting that Osprey accepts but
	// does not use.
	WarnIgnored
	// WarnNotice is a value Osprey reads differently from Kestra (h2 read as
	// sqlite, a JDBC parameter dropped, …).
	WarnNotice
)

// Warning is a problem that does not stop Osprey from starting.
type Warning struct {
	Kind   WarningKind
	Key    string
	Source Source
	// Msg never holds a secret value.
	Msg string
}

// String renders "file:line: key: message".
func (w Warning) String() string {
	if w.Key == "" {
		return w.Source.where() + w.Msg
	}
	return w.Source.where() + w.Key + ": " + w.Msg
}

func errorf(key string, src Source, format string, args ...any) *Error {
	return &Error{Key: key, Source: src, Msg: fmt.Sprintf(format, args...)}
}
