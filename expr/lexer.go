package expr

import (
	"strings"
)

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tText
	tPrintStart // {{
	tPrintEnd   // }}
	tExecStart  // {%
	tExecEnd    // %}
	tName
	tInt
	tFloat
	tString       // single-quoted, or double-quoted without #{...}
	tInterpString // double-quoted with #{...}; val is the raw body
	tOp
	tPunct
)

// token is one lexical unit with the position (1-based) where it starts.
type token struct {
	kind tokKind
	val  string
	line int
	col  int
}

// wordOps are the alphabetic operators; they only match on word boundaries.
var wordOps = []string{"is not", "not in", "equals", "contains", "and", "not", "or", "is", "in"}

// symOps are the symbolic operators, longest first so "??" wins over "?".
var symOps = []string{"???", "??", "==", "!=", ">=", "<=", "..", ">", "<", "+", "-", "*", "/", "%", "|", "~"}

const punctuation = "()[]{}?:.,="

// lexer turns a template into tokens. It follows Pebble's lexer: text until
// one of {{ {% {#, whitespace control with '-', comments dropped, and
// {% raw %}/{% verbatim %} blocks copied as text.
type lexer struct {
	src  string
	pos  int
	line int
	col  int
	toks []token
	// trimNext asks to left-trim the next text token ("-}}").
	trimNext bool
	brackets []byte
}

func lex(src string) ([]token, error) {
	l := &lexer{src: src, line: 1, col: 1}
	if err := l.run(); err != nil {
		return nil, err
	}
	return l.toks, nil
}

// lexExpression tokenizes a bare expression (used for string interpolation).
func lexExpression(src string, line, col int) ([]token, error) {
	l := &lexer{src: src, line: line, col: col}
	for {
		l.skipSpace()
		if l.pos >= len(l.src) {
			break
		}
		if err := l.expressionToken(); err != nil {
			return nil, err
		}
	}
	if len(l.brackets) > 0 {
		return nil, l.errf("unclosed %q", string(l.brackets[len(l.brackets)-1]))
	}
	l.push(tEOF, "", l.line, l.col)
	return l.toks, nil
}

func (l *lexer) errf(format string, args ...any) *Error {
	return newError(l.line, l.col, format, args...)
}

func (l *lexer) advance(n int) {
	for i := 0; i < n && l.pos < len(l.src); i++ {
		if l.src[l.pos] == '\n' {
			l.line++
			l.col = 1
		} else if l.src[l.pos]&0xC0 != 0x80 {
			l.col++
		}
		l.pos++
	}
}

func (l *lexer) push(k tokKind, v string, line, col int) {
	l.toks = append(l.toks, token{kind: k, val: v, line: line, col: col})
}

func (l *lexer) run() error {
	for l.pos < len(l.src) {
		rest := l.src[l.pos:]
		i := nextDelimiter(rest)
		text := rest
		if i >= 0 {
			text = rest[:i]
		}
		if l.trimNext {
			text = strings.TrimLeft(text, " \t\r\n\f\v")
			l.trimNext = false
		}
		line, col := l.line, l.col
		if i < 0 {
			if text != "" {
				l.push(tText, text, line, col)
			}
			l.advance(len(rest))
			break
		}
		l.advance(i)
		dline, dcol := l.line, l.col
		delim := l.src[l.pos : l.pos+2]
		l.advance(2)
		// "{{-" trims the whitespace before the delimiter.
		if l.pos < len(l.src) && l.src[l.pos] == '-' {
			text = strings.TrimRight(text, " \t\r\n\f\v")
			l.advance(1)
		}
		if text != "" {
			l.push(tText, text, line, col)
		}
		switch delim {
		case "{#":
			if err := l.comment(); err != nil {
				return err
			}
		case "{{":
			l.push(tPrintStart, "{{", dline, dcol)
			if err := l.inside("}}", tPrintEnd); err != nil {
				return err
			}
		case "{%":
			if ok, err := l.verbatim(); err != nil {
				return err
			} else if ok {
				continue
			}
			l.push(tExecStart, "{%", dline, dcol)
			if err := l.inside("%}", tExecEnd); err != nil {
				return err
			}
		}
	}
	l.push(tEOF, "", l.line, l.col)
	return nil
}

func nextDelimiter(s string) int {
	off := 0
	for {
		i := strings.IndexByte(s[off:], '{')
		if i < 0 || off+i+1 >= len(s) {
			return -1
		}
		switch s[off+i+1] {
		case '{', '%', '#':
			return off + i
		}
		off += i + 1
	}
}

func (l *lexer) comment() error {
	line, col := l.line, l.col
	i := strings.Index(l.src[l.pos:], "#}")
	if i < 0 {
		return newError(line, col, "unclosed comment")
	}
	if i > 0 && l.src[l.pos+i-1] == '-' {
		l.trimNext = true
	}
	l.advance(i + 2)
	return nil
}

// verbatim handles {% raw %}…{% endraw %} and {% verbatim %}…{% endverbatim %}.
func (l *lexer) verbatim() (bool, error) {
	rest := l.src[l.pos:]
	j := 0
	for j < len(rest) && isSpace(rest[j]) {
		j++
	}
	var name string
	for _, n := range []string{"raw", "verbatim"} {
		if strings.HasPrefix(rest[j:], n) {
			name = n
			break
		}
	}
	if name == "" {
		return false, nil
	}
	k := j + len(name)
	for k < len(rest) && isSpace(rest[k]) {
		k++
	}
	trimStart := false
	if k < len(rest) && rest[k] == '-' {
		trimStart = true
		k++
	}
	if !strings.HasPrefix(rest[k:], "%}") {
		return false, nil
	}
	line, col := l.line, l.col
	l.advance(k + 2)
	body := l.src[l.pos:]
	end := "end" + name
	off := 0
	for {
		i := strings.Index(body[off:], "{%")
		if i < 0 {
			return false, newError(line, col, "unclosed %s tag", name)
		}
		p := off + i + 2
		trimEnd := false
		if p < len(body) && body[p] == '-' {
			trimEnd = true
			p++
		}
		for p < len(body) && isSpace(body[p]) {
			p++
		}
		if !strings.HasPrefix(body[p:], end) {
			off += i + 2
			continue
		}
		p += len(end)
		for p < len(body) && isSpace(body[p]) {
			p++
		}
		trimAfter := false
		if p < len(body) && body[p] == '-' {
			trimAfter = true
			p++
		}
		if !strings.HasPrefix(body[p:], "%}") {
			off += i + 2
			continue
		}
		text := body[:off+i]
		if trimStart {
			text = strings.TrimLeft(text, " \t\r\n\f\v")
		}
		if trimEnd {
			text = strings.TrimRight(text, " \t\r\n\f\v")
		}
		tl, tc := l.line, l.col
		if text != "" {
			l.push(tText, text, tl, tc)
		}
		l.advance(p + 2)
		l.trimNext = trimAfter
		return true, nil
	}
}

// inside lexes an expression region until its closing delimiter.
func (l *lexer) inside(closer string, kind tokKind) error {
	for {
		l.skipSpace()
		if l.pos >= len(l.src) {
			return l.errf("unclosed %q, expected %q", map[string]string{"}}": "{{", "%}": "{%"}[closer], closer)
		}
		if len(l.brackets) == 0 {
			rest := l.src[l.pos:]
			if strings.HasPrefix(rest, closer) {
				l.push(kind, closer, l.line, l.col)
				l.advance(2)
				return nil
			}
			if strings.HasPrefix(rest, "-"+closer) {
				l.trimNext = true
				l.push(kind, closer, l.line, l.col)
				l.advance(3)
				return nil
			}
		}
		if err := l.expressionToken(); err != nil {
			return err
		}
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
func isNameStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
func isNameChar(c byte) bool { return isNameStart(c) || c >= '0' && c <= '9' }
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }

func (l *lexer) skipSpace() {
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.advance(1)
	}
}

func (l *lexer) expressionToken() error {
	rest := l.src[l.pos:]
	line, col := l.line, l.col
	c := rest[0]
	// Word operators on word boundaries ("is not" allows any spacing).
	if isNameStart(c) {
		for _, op := range wordOps {
			if n := matchWordOp(rest, op); n > 0 {
				l.push(tOp, op, line, col)
				l.advance(n)
				return nil
			}
		}
		n := 1
		for n < len(rest) && isNameChar(rest[n]) {
			n++
		}
		l.push(tName, rest[:n], line, col)
		l.advance(n)
		return nil
	}
	if isDigit(c) {
		n := 0
		for n < len(rest) && isDigit(rest[n]) {
			n++
		}
		kind := tInt
		if n+1 < len(rest) && rest[n] == '.' && isDigit(rest[n+1]) {
			kind = tFloat
			n++
			for n < len(rest) && isDigit(rest[n]) {
				n++
			}
		}
		num := rest[:n]
		if kind == tInt && n < len(rest) && (rest[n] == 'L' || rest[n] == 'l') {
			n++
		}
		l.push(kind, num, line, col)
		l.advance(n)
		return nil
	}
	if c == '\'' || c == '"' {
		return l.stringToken(c)
	}
	for _, op := range symOps {
		if strings.HasPrefix(rest, op) {
			// "}}" or "%}" closing handled by caller; "-}}" too.
			l.push(tOp, op, line, col)
			l.advance(len(op))
			return nil
		}
	}
	if strings.IndexByte(punctuation, c) >= 0 {
		switch c {
		case '(', '[', '{':
			l.brackets = append(l.brackets, c)
		case ')', ']', '}':
			if len(l.brackets) == 0 {
				return l.errf("unexpected %q", string(c))
			}
			open := l.brackets[len(l.brackets)-1]
			l.brackets = l.brackets[:len(l.brackets)-1]
			if want := map[byte]byte{'(': ')', '[': ']', '{': '}'}[open]; want != c {
				return l.errf("unclosed %q, found %q", string(open), string(c))
			}
		}
		l.push(tPunct, string(c), line, col)
		l.advance(1)
		return nil
	}
	return l.errf("unexpected character %q", rest[:1])
}

func matchWordOp(s, op string) int {
	if op == "is not" || op == "not in" {
		first, second, _ := strings.Cut(op, " ")
		if !strings.HasPrefix(s, first) || len(s) <= len(first) || !isSpace(s[len(first)]) {
			return 0
		}
		i := len(first)
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if !strings.HasPrefix(s[i:], second) {
			return 0
		}
		end := i + len(second)
		if end < len(s) && isNameChar(s[end]) {
			return 0
		}
		return end
	}
	if !strings.HasPrefix(s, op) {
		return 0
	}
	if len(s) > len(op) && isNameChar(s[len(op)]) {
		return 0
	}
	return len(op)
}

// stringToken lexes a quoted string. Like Pebble, only the quote and the
// backslash can be escaped; double-quoted strings may hold #{expr}.
func (l *lexer) stringToken(q byte) error {
	line, col := l.line, l.col
	src := l.src
	i := l.pos + 1
	interp := false
	depth := 0
	for i < len(src) {
		c := src[i]
		if c == '\\' && i+1 < len(src) {
			i += 2
			continue
		}
		if q == '"' && c == '#' && i+1 < len(src) && src[i+1] == '{' {
			interp = true
			depth++
			i += 2
			continue
		}
		if depth > 0 {
			switch c {
			case '{':
				depth++
			case '}':
				depth--
			case '\'':
				// skip a nested single-quoted string
				j := i + 1
				for j < len(src) && src[j] != '\'' {
					if src[j] == '\\' {
						j++
					}
					j++
				}
				i = j
			}
			i++
			continue
		}
		if c == q {
			body := src[l.pos+1 : i]
			kind := tString
			if interp {
				kind = tInterpString
			} else {
				body = unescape(body, q)
			}
			l.push(kind, body, line, col)
			l.advance(i + 1 - l.pos)
			return nil
		}
		i++
	}
	return newError(line, col, "unclosed string")
}

func unescape(s string, q byte) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\\"+string(q), string(q))
	return strings.ReplaceAll(s, `\\`, `\`)
}
