package config

import (
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/internal/isoduration"
)

// Property is one effective setting, as `osprey configs properties` prints it.
type Property struct {
	Key string
	// Value is the value as text; secrets are ******.
	Value  string
	Source Source
}

// Properties returns the effective configuration as flat key/value pairs,
// sorted by key, secrets redacted. Map-valued keys (kestra.variables.globals,
// tags) are flattened to one property per leaf; lists are comma-separated.
func (c *Config) Properties() []Property {
	s := loadSchema()
	root := reflect.ValueOf(c).Elem()
	var out []Property
	for _, key := range s.keys {
		f := s.fields[key]
		v := root.FieldByIndex(f.index)
		src := c.SourceOf(key)
		if f.kind.isMap() {
			flatten(key, v.Interface(), src, &out)
			continue
		}
		out = append(out, Property{Key: key, Value: format(f.kind, v), Source: src})
	}
	slices.SortFunc(out, func(a, b Property) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func format(k kind, v reflect.Value) string {
	switch k {
	case kindSecret:
		return v.Interface().(Secret).display()
	case kindConnURL:
		return v.Interface().(ConnURL).String()
	case kindOptionalBool:
		if v.IsNil() {
			return ""
		}
		return strconv.FormatBool(v.Elem().Bool())
	case kindDuration:
		return isoduration.Format(time.Duration(v.Int()))
	case kindStrings:
		return strings.Join(v.Interface().([]string), ",")
	}
	return fmt.Sprint(v.Interface())
}

func flatten(prefix string, v any, src Source, out *[]Property) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			flatten(prefix+"."+k, v[k], src, out)
		}
	case map[string]string:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			*out = append(*out, Property{Key: prefix + "." + k, Value: v[k], Source: src})
		}
	case []any:
		for i, e := range v {
			flatten(prefix+"["+strconv.Itoa(i)+"]", e, src, out)
		}
	case nil:
	default:
		*out = append(*out, Property{Key: prefix, Value: fmt.Sprint(v), Source: src})
	}
}

// WriteProperties writes Properties as key=value lines. With sources, each
// line ends with "  # <source>" (default, file a.yml:12, env NAME, flag).
func (c *Config) WriteProperties(w io.Writer, sources bool) error {
	for _, p := range c.Properties() {
		line := p.Key + "=" + escapeProperty(p.Value)
		if sources {
			line += "  # " + p.Source.String()
		}
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return fmt.Errorf("write properties: %w", err)
		}
	}
	return nil
}

// escapeProperty keeps one property on one line.
func escapeProperty(s string) string {
	return strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r").Replace(s)
}
