package mask

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Dumps cut a value into rows: hexdump -C and xxd print 16 bytes a row
// (hex, then the bytes as text), xxd -p 30 bytes, base64 76 characters. A
// row holds only a piece of a long secret, and the text column of a
// hexdump holds it in clear, so no learnt form can match. Instead each
// line that has the shape of such a row is decoded, and the whole line is
// hidden when its bytes hold a piece of a secret: the secret itself, a
// stretch inside it, or a stretch of at least MinLen bytes that starts or
// ends it (where the row boundary cut it). Only rows are looked at this
// way, so ordinary text with a short word in common with a secret is left
// alone.

// rows returns the spans of the lines of s that are rows of a dump
// holding a piece of a secret.
func (mt *matcher) rows(s string) []span {
	var out []span
	for start := 0; start < len(s); {
		end := strings.IndexByte(s[start:], '\n')
		if end < 0 {
			end = len(s)
		} else {
			end += start
		}
		line := s[start:end]
		if len(line) >= 8 {
			for _, b := range decodeRow(line) {
				if mt.piece(b) {
					out = append(out, span{start, end})
					break
				}
			}
		}
		start = end + 1
	}
	return out
}

// piece reports whether row holds a piece of a known value.
func (mt *matcher) piece(row string) bool {
	if len(row) < MinLen {
		return false
	}
	if len(mt.find(row)) > 0 {
		return true
	}
	for _, b := range mt.bases {
		if strings.Contains(b, row) {
			return true
		}
		for k := min(len(row), len(b)) - 1; k >= MinLen; k-- {
			if row[len(row)-k:] == b[:k] || row[:k] == b[len(b)-k:] {
				return true
			}
		}
	}
	return false
}

// decodeRow returns the bytes line may encode: as a hexdump -C or xxd
// row, as plain hex (xxd -p, od-free scripts) or as base64 (standard or
// URL-safe; a wrapped line starts on a 3-byte boundary, a line cut from
// elsewhere may not, so every alignment is tried). Nil when line has none
// of these shapes.
func decodeRow(line string) []string {
	line = strings.TrimRight(line, "\r")
	if b, ok := dumpRow(line); ok {
		return []string{b}
	}
	t := strings.TrimSpace(line)
	if len(t) < 8 || !isAlphabet(t) {
		return nil
	}
	var out []string
	if len(t)%2 == 0 {
		if b, err := hex.DecodeString(t); err == nil {
			out = append(out, string(b))
		}
	}
	t = strings.TrimRight(t, "=")
	t = strings.NewReplacer("-", "+", "_", "/").Replace(t)
	for off := range 4 {
		u := t[off:]
		if len(u)%4 == 1 {
			u = u[:len(u)-1] // one character is never a whole byte
		}
		if b, err := base64.RawStdEncoding.DecodeString(u); err == nil {
			out = append(out, string(b))
		}
	}
	return out
}

// isAlphabet reports whether s uses only base64 (standard or URL-safe)
// characters, which include hex digits.
func isAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_' || c == '=') {
			return false
		}
	}
	return true
}

// dumpRow reads a hexdump -C row ("00000010  73 33 63 72 …  |s3cr|") or
// an xxd row ("00000010: 7333 6372 …  s3cr") and returns its bytes.
func dumpRow(line string) (string, bool) {
	if len(line) < 12 || !isHex(line[:8]) {
		return "", false
	}
	rest := line[8:]
	xxd := strings.HasPrefix(rest, ": ")
	if !xxd && !strings.HasPrefix(rest, "  ") {
		return "", false
	}
	rest = rest[2:]
	if xxd {
		// the hex groups end at the first double space
		if i := strings.Index(rest, "  "); i >= 0 {
			rest = rest[:i]
		}
	} else if i := strings.IndexByte(rest, '|'); i >= 0 {
		rest = rest[:i]
	}
	var digits strings.Builder
	for _, f := range strings.Fields(rest) {
		if !isHex(f) || len(f)%2 != 0 {
			return "", false
		}
		digits.WriteString(f)
	}
	b, err := hex.DecodeString(digits.String())
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(b), true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return len(s) > 0
}
