package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/internal/ordered"
)

// This file holds how values print: Kestra's output form, Java's
// toString form and the JSON encoder.

// Print returns v as Kestra writes it into rendered text: null as "",
// numbers and booleans as Java prints them (1, 1.0, 1.0E7, true), dates as
// Instants, maps and lists as compact JSON.
func Print(v any) string { return printString(norm(v)) }

// JavaString returns v as Java's String.valueOf would print it, maps as
// {a=1, b=2} and lists as [1, 2]; Kestra uses this form in some messages.
func JavaString(v any) string { return javaString(norm(v)) }

// printString is how Kestra writes a value into rendered output: scalars
// as Java prints them, maps and lists as JSON.
func printString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return javaDouble(x)
	case []any, map[string]any, *ordered.Map:
		var b strings.Builder
		writeJSON(&b, x, 0)
		return b.String()
	case time.Time:
		return javaTime(x)
	}
	return printString(norm(v))
}

// javaString is Java's String.valueOf, used by "~" and "+": maps print as
// {a=1, b=2} and lists as [1, 2].
func javaString(v any) string {
	switch v.(type) {
	case []any, map[string]any, *ordered.Map:
		if tooLarge(v) {
			return "[…]"
		}
	}
	return javaStringRec(v)
}
func javaStringRec(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case []any:
		var b strings.Builder
		b.WriteByte('[')
		for i, it := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(javaStringRec(norm(it)))
		}
		b.WriteByte(']')
		return b.String()
	case map[string]any, *ordered.Map:
		var b strings.Builder
		b.WriteByte('{')
		keys, m, _ := mapEntries(x)
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(javaStringRec(norm(m[k])))
		}
		b.WriteByte('}')
		return b.String()
	case string, bool, int64, float64, time.Time:
		return printString(x)
	}
	return javaStringRec(norm(v))
}

// javaTime prints a time like Java's Instant.toString (Kestra keeps dates
// such as execution.startDate as Instants): UTC, "Z", and the fraction in
// groups of three digits, omitted when zero.
func javaTime(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	ns := t.Nanosecond()
	switch {
	case ns == 0:
	case ns%1e6 == 0:
		s += fmt.Sprintf(".%03d", ns/1e6)
	case ns%1e3 == 0:
		s += fmt.Sprintf(".%06d", ns/1e3)
	default:
		s += fmt.Sprintf(".%09d", ns)
	}
	return s + "Z"
}

// javaDouble is Java's Double.toString: "1.0", "0.001", "1.0E7", "1.0E-4".
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.ContainsRune(s, '.') {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64)
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.ContainsRune(mant, '.') {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// maxJSONDepth stops runaway recursion on self-referencing input.
const maxJSONDepth = 100

// maxPrinted caps how much printing one value may produce; values built by
// sharing ({% set l = [l, l] %}) can otherwise describe exponential output.
// The engine's own MaxOutput check then reports the overflow.
const maxPrinted = 64 << 20

// maxNodes caps how many nodes a deep walk (equality, conversion) visits.
const maxNodes = 1_000_000

// tooLarge reports whether walking v visits more than maxNodes nodes.
func tooLarge(v any) bool {
	budget := maxNodes
	var walk func(v any, depth int) bool
	walk = func(v any, depth int) bool {
		budget--
		if budget < 0 || depth > maxJSONDepth {
			return true
		}
		switch x := v.(type) {
		case []any:
			for _, it := range x {
				if walk(it, depth+1) {
					return true
				}
			}
		case map[string]any:
			for _, it := range x {
				if walk(it, depth+1) {
					return true
				}
			}
		case *ordered.Map:
			for _, it := range x.All() {
				if walk(it, depth+1) {
					return true
				}
			}
		}
		return false
	}
	return walk(v, 0)
}

// writeJSON encodes like Kestra's Jackson mapper: compact, a map's keys in
// its order (a Go map's sorted), doubles printed as Java prints them.
func writeJSON(b *strings.Builder, v any, depth int) {
	writeJSONLimit(b, v, depth, maxPrinted)
}

// writeJSONLimit stops writing once b holds more than limit bytes.
func writeJSONLimit(b *strings.Builder, v any, depth, limit int) {
	if b.Len() > limit {
		return
	}
	if depth > maxJSONDepth {
		b.WriteString("null")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeJSONString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			writeJSONString(b, javaDouble(x))
			return
		}
		b.WriteString(javaDouble(x))
	case []any:
		b.WriteByte('[')
		for i, it := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONLimit(b, norm(it), depth+1, limit)
		}
		b.WriteByte(']')
	case map[string]any, *ordered.Map:
		b.WriteByte('{')
		keys, m, _ := mapEntries(x)
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeJSONLimit(b, norm(m[k]), depth+1, limit)
		}
		b.WriteByte('}')
	case time.Time:
		writeJSONString(b, javaTime(x))
	default:
		writeJSONLimit(b, norm(v), depth+1, limit)
	}
}
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// decodeJSON parses JSON keeping integers as int64 and other numbers as
// float64, as Jackson gives Long/Integer and Double.
// Objects keep their keys' order (*ordered.Map), as Jackson's LinkedHashMap.
func decodeJSON(s string, out *any) error {
	v, err := ordered.Decode([]byte(s))
	if err != nil {
		return err
	}
	*out = v
	return nil
}
