package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ospreyhq/osprey/internal/isoduration"
)

// decode writes every recorded value into cfg (which holds the defaults),
// converting and type-checking each, and records its source.
func (l *loader) decode(cfg *Config) {
	cfg.sources = make(map[string]Source, len(l.values)+len(l.maps))
	root := reflect.ValueOf(cfg).Elem()
	for _, key := range l.schema.keys {
		f := l.schema.fields[key]
		if f.kind.isMap() {
			m, ok := l.maps[key]
			if !ok {
				continue
			}
			if err := setMap(root.FieldByIndex(f.index), f, m.value); err != "" {
				l.fail(errorf(key, m.src, "%s", err))
				continue
			}
			cfg.sources[key] = m.src
			continue
		}
		s, ok := l.values[key]
		if !ok {
			continue
		}
		v, err := l.convert(f, s)
		if err != nil {
			l.fail(err)
			continue
		}
		root.FieldByIndex(f.index).Set(reflect.ValueOf(v))
		cfg.sources[key] = s.src
	}
}

// convert turns a raw setting into the Go value of its field.
func (l *loader) convert(f *field, s setting) (any, *Error) {
	var text string
	if s.node != nil {
		n := s.node
		switch {
		case f.kind == kindStrings && n.Kind == yaml.SequenceNode:
			var out []string
			for _, item := range n.Content {
				item = resolveAlias(item)
				if item.Kind != yaml.ScalarNode {
					return nil, errorf(f.key, at(s.src, item), "expected a list of strings; an item is %s", describe(item))
				}
				v, err := l.expand(item.Value)
				if err != nil {
					return nil, placeholderError(f.key, at(s.src, item), err)
				}
				out = append(out, strings.TrimSpace(v))
			}
			return out, nil
		case n.Kind != yaml.ScalarNode:
			return nil, errorf(f.key, s.src, "expected %s, not %s", f.kind.expected(), describe(n))
		}
		v, err := l.expand(n.Value)
		if err != nil {
			return nil, placeholderError(f.key, s.src, err)
		}
		text = v
	} else {
		text = s.text
	}
	v, msg := parse(f.kind, text)
	if msg != "" {
		if f.kind == kindSecret || f.kind == kindConnURL {
			return nil, errorf(f.key, s.src, "%s", msg)
		}
		return nil, errorf(f.key, s.src, "%q %s", text, msg)
	}
	return v, nil
}

// parse converts text to a value of kind k, or explains (without repeating
// the value) why it cannot.
func parse(k kind, text string) (any, string) {
	switch k {
	case kindSecret:
		return NewSecret(text), ""
	case kindConnURL:
		return NewConnURL(strings.TrimSpace(text)), ""
	case kindBool, kindOptionalBool:
		var b bool
		switch strings.ToLower(strings.TrimSpace(text)) {
		case "true":
			b = true
		case "false":
		default:
			return nil, "is not a boolean; write true or false"
		}
		if k == kindOptionalBool {
			return &b, ""
		}
		return b, ""
	case kindInt:
		n, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			return nil, "is not a whole number"
		}
		return n, ""
	case kindDuration:
		d, err := parseDuration(strings.TrimSpace(text))
		if err != nil {
			return nil, "is not a duration; write an ISO-8601 duration such as PT1M or PT30S, or a Go duration such as 1m or 30s"
		}
		return d, ""
	case kindStrings:
		return splitList(text), ""
	}
	return text, ""
}

// setMap stores a merged map into a map-typed field.
func setMap(dst reflect.Value, f *field, m map[string]any) string {
	if f.kind == kindAnyMap {
		dst.Set(reflect.ValueOf(m))
		return ""
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case map[string]any, []any:
			return fmt.Sprintf("expected a mapping of strings; %s is not a string", k)
		case nil:
			out[k] = ""
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	dst.Set(reflect.ValueOf(out))
	return ""
}

// parseDuration reads ISO-8601 durations as Kestra writes them (PT1M,
// PT0.5S, P1DT2H) and Go/Micronaut durations (1m, 90s, 1h30m).
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if u := strings.TrimLeft(strings.ToUpper(s), "+-"); strings.HasPrefix(u, "P") {
		return isoduration.Parse(s)
	}
	return time.ParseDuration(s)
}

// placeholderErr is an unresolved ${NAME}.
type placeholderErr struct{ name string }

func (e *placeholderErr) Error() string { return "unresolved placeholder ${" + e.name + "}" }

func placeholderError(key string, src Source, err error) *Error {
	var pe *placeholderErr
	if errors.As(err, &pe) {
		return errorf(key, src, "${%s} is not set in the environment: set %s, or write ${%s:default} to give a default",
			pe.name, envName(pe.name), pe.name)
	}
	return errorf(key, src, "%s", err.Error())
}

const maxExpansion = 1 << 20

// expand replaces ${NAME} and ${NAME:default} (Micronaut style) from the
// environment. NAME is looked up as written, then in its environment form
// (${kestra.url} reads KESTRA_URL). Defaults may hold placeholders.
func (l *loader) expand(s string) (string, error) { return l.expandDepth(s, 0) }

func (l *loader) expandDepth(s string, depth int) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	if depth > 8 {
		return "", errors.New("placeholders nested too deeply")
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		end := matchBrace(s[i+2:])
		if end < 0 {
			return "", errors.New("unterminated placeholder: a ${ has no closing }")
		}
		body := s[i+2 : i+2+end]
		s = s[i+2+end+1:]
		name, def, hasDef := strings.Cut(body, ":")
		name = strings.TrimSpace(name)
		v, ok := l.env.lookup(name)
		if !ok {
			v, ok = l.env.lookup(envName(name))
		}
		if !ok {
			if !hasDef {
				return "", &placeholderErr{name: name}
			}
			var err error
			if v, err = l.expandDepth(def, depth+1); err != nil {
				return "", err
			}
		}
		b.WriteString(v)
		if b.Len() > maxExpansion {
			return "", errors.New("placeholders expand beyond 1 MiB")
		}
	}
	return b.String(), nil
}

// matchBrace returns the index of the } closing a placeholder body, allowing
// nested ${…} in defaults, or -1.
func matchBrace(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
			i++
		case s[i] == '}':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

// expandAny expands placeholders in every string of a decoded YAML value
// and gives every map string keys.
func (l *loader) expandAny(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deeply")
	}
	switch v := v.(type) {
	case string:
		return l.expand(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			x, err := l.expandAny(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			x, err := l.expandAny(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = x
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			x, err := l.expandAny(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	}
	return v, nil
}
