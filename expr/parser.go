package expr

import (
	"strconv"
	"strings"
)

// Operator precedences, as Pebble's CoreExtension and Kestra's Extension
// register them. Higher binds tighter.
var binaryPrec = map[string]int{
	"or": 10, "and": 15,
	"is": 20, "is not": 20, "contains": 20,
	"==": 30, "equals": 30, "!=": 30, ">": 30, "<": 30, ">=": 30, "<=": 30, "in": 30, "not in": 30,
	"+": 40, "-": 40,
	"*": 60, "/": 60, "%": 60,
	"|":  100,
	"~":  110,
	"..": 120, "??": 120, "???": 120,
}

const unaryPrec = 500

// maxNesting bounds parser recursion so hostile input cannot blow the stack.
const maxNesting = 200

// template is a compiled template: a list of statements.
type template struct {
	body []stmt
	// single is set when the whole template is exactly one {{ expr }}.
	single expr
	macros map[string]*macroDef
	blocks map[string]*blockDef
}

type parser struct {
	toks   []token
	pos    int
	depth  int
	macros map[string]*macroDef
	blocks map[string]*blockDef
}

func parse(src string) (*template, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	body, end, err := p.parseBody()
	if err != nil {
		return nil, err
	}
	if end != "" {
		t := p.toks[p.pos-1]
		return nil, newError(t.line, t.col, "unexpected tag %q", end)
	}
	t := &template{body: body, macros: p.macros, blocks: p.blocks}
	if len(body) == 1 {
		if ps, ok := body[0].(*printStmt); ok {
			t.single = ps.e
		}
	}
	return t, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if p.pos < len(p.toks)-1 {
		p.pos++
	}
	return t
}

func (p *parser) errAt(t token, format string, args ...any) *Error {
	return newError(t.line, t.col, format, args...)
}

func (p *parser) is(k tokKind, v string) bool {
	t := p.peek()
	return t.kind == k && t.val == v
}

func (p *parser) expect(k tokKind, v string) (token, error) {
	t := p.peek()
	if t.kind != k || (v != "" && t.val != v) {
		return t, p.errAt(t, "expected %s, found %s", describe(k, v), tokenText(t))
	}
	return p.next(), nil
}

func describe(k tokKind, v string) string {
	if v != "" {
		return strconv.Quote(v)
	}
	switch k {
	case tName:
		return "a name"
	case tExecEnd:
		return `"%}"`
	case tPrintEnd:
		return `"}}"`
	}
	return "a token"
}

func tokenText(t token) string {
	switch t.kind {
	case tEOF:
		return "end of template"
	case tText:
		return "text"
	case tString, tInterpString:
		return "string " + strconv.Quote(t.val)
	}
	return strconv.Quote(t.val)
}

// parseBody parses statements until EOF or an end-like tag, whose name it
// returns (the tag's "{%" and name are consumed; the rest is left to the caller).
func (p *parser) parseBody() ([]stmt, string, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxNesting {
		t := p.peek()
		return nil, "", p.errAt(t, "tags nested too deeply")
	}
	var body []stmt
	for {
		t := p.peek()
		switch t.kind {
		case tEOF:
			return body, "", nil
		case tText:
			p.next()
			body = append(body, &textStmt{s: t.val})
		case tPrintStart:
			p.next()
			e, err := p.parseExpression(0)
			if err != nil {
				return nil, "", err
			}
			if _, err := p.expect(tPrintEnd, ""); err != nil {
				return nil, "", err
			}
			body = append(body, &printStmt{e: e})
		case tExecStart:
			p.next()
			name, err := p.expect(tName, "")
			if err != nil {
				if p.peek().kind == tOp {
					name = p.next()
				} else {
					return nil, "", err
				}
			}
			switch name.val {
			case "if":
				s, err := p.parseIf()
				if err != nil {
					return nil, "", err
				}
				body = append(body, s)
			case "for":
				s, err := p.parseFor(name)
				if err != nil {
					return nil, "", err
				}
				body = append(body, s)
			case "set":
				s, err := p.parseSet()
				if err != nil {
					return nil, "", err
				}
				body = append(body, s)
			case "filter":
				s, err := p.parseFilterTag(name)
				if err != nil {
					return nil, "", err
				}
				body = append(body, s)
			case "macro":
				s, err := p.parseMacro(name)
				if err != nil {
					return nil, "", err
				}
				body = append(body, s)
			case "block":
				s, err := p.parseBlock(name)
				if err != nil {
					return nil, "", err
				}
				body = append(body, s)
			case "import", "include", "extends", "from", "embed":
				return nil, "", p.errAt(name, "the %q tag loads another template file, and a Kestra flow has none to load; "+
					"write the text inline, or define a {%% macro %%} in the same expression", name.val)
			case "elseif", "elif", "else", "endif", "endfor", "endfilter", "endmacro", "endblock":
				return body, name.val, nil
			default:
				return nil, "", p.errAt(name, "unknown tag %q", name.val)
			}
		default:
			return nil, "", p.errAt(t, "unexpected %s", tokenText(t))
		}
	}
}

func (p *parser) parseIf() (stmt, error) {
	s := &ifStmt{}
	cond, err := p.parseExpression(0)
	if err != nil {
		return nil, err
	}
	for {
		if _, err := p.expect(tExecEnd, ""); err != nil {
			return nil, err
		}
		body, end, err := p.parseBody()
		if err != nil {
			return nil, err
		}
		s.conds = append(s.conds, cond)
		s.bodies = append(s.bodies, body)
		switch end {
		case "elseif", "elif":
			if cond, err = p.parseExpression(0); err != nil {
				return nil, err
			}
		case "else":
			if _, err := p.expect(tExecEnd, ""); err != nil {
				return nil, err
			}
			els, end, err := p.parseBody()
			if err != nil {
				return nil, err
			}
			if end != "endif" {
				return nil, p.errAt(p.peek(), "expected {%% endif %%}, found %s", endName(end))
			}
			s.els = els
			_, err = p.expect(tExecEnd, "")
			return s, err
		case "endif":
			_, err := p.expect(tExecEnd, "")
			return s, err
		default:
			return nil, p.errAt(p.peek(), "expected {%% endif %%}, found %s", endName(end))
		}
	}
}

func endName(end string) string {
	if end == "" {
		return "end of template"
	}
	return "{% " + end + " %}"
}

func (p *parser) parseFor(tag token) (stmt, error) {
	v, err := p.expect(tName, "")
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tOp, "in"); err != nil {
		return nil, err
	}
	iter, err := p.parseExpression(0)
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tExecEnd, ""); err != nil {
		return nil, err
	}
	s := &forStmt{name: v.val, iter: iter, pos: pos{tag.line, tag.col}}
	body, end, err := p.parseBody()
	if err != nil {
		return nil, err
	}
	s.body = body
	if end == "else" {
		if _, err := p.expect(tExecEnd, ""); err != nil {
			return nil, err
		}
		if s.els, end, err = p.parseBody(); err != nil {
			return nil, err
		}
	}
	if end != "endfor" {
		return nil, p.errAt(p.peek(), "expected {%% endfor %%}, found %s", endName(end))
	}
	_, err = p.expect(tExecEnd, "")
	return s, err
}

// closeTag checks that a tag's body ended with its end tag; an unclosed tag
// is reported with where it was opened.
func (p *parser) closeTag(tag token, end, want string) error {
	if end == want {
		return nil
	}
	return p.errAt(p.peek(), "{%% %s %%} at line %d, column %d is not closed: expected {%% %s %%}, found %s",
		tag.val, tag.line, tag.col, want, endName(end))
}

// parseFilterTag parses "filter f | g(x) %}…{% endfilter %}".
func (p *parser) parseFilterTag(tag token) (stmt, error) {
	in := &bodyExpr{}
	var e expr = in
	for {
		f, err := p.parseFilter(e)
		if err != nil {
			return nil, err
		}
		e = f
		if !p.is(tOp, "|") {
			break
		}
		p.next()
	}
	if _, err := p.expect(tExecEnd, ""); err != nil {
		return nil, err
	}
	body, end, err := p.parseBody()
	if err != nil {
		return nil, err
	}
	if err := p.closeTag(tag, end, "endfilter"); err != nil {
		return nil, err
	}
	in.body = body
	if _, err := p.expect(tExecEnd, ""); err != nil {
		return nil, err
	}
	return &filterBlockStmt{e: e}, nil
}

// parseMacro parses "macro name(a, b=default) %}…{% endmacro %}". As in
// Pebble, parameters are names, optionally with a default expression, and
// two macros may not share a name.
func (p *parser) parseMacro(tag token) (stmt, error) {
	n, err := p.expect(tName, "")
	if err != nil {
		return nil, err
	}
	if !p.is(tPunct, "(") {
		return nil, p.errAt(p.peek(), "expected \"(\" after macro name %q, found %s", n.val, tokenText(p.peek()))
	}
	open := p.peek()
	args, err := p.parseArgs()
	if err != nil {
		return nil, err
	}
	m := &macroDef{pos: pos{n.line, n.col}, name: n.val}
	for _, a := range args.pos {
		v, ok := a.(*varExpr)
		if !ok {
			return nil, p.errAt(open, "macro %q: a parameter must be a name, optionally with a default (name=value)", n.val)
		}
		m.params = append(m.params, v.name)
		m.defaults = append(m.defaults, nil)
	}
	for _, a := range args.named {
		m.params = append(m.params, a.name)
		m.defaults = append(m.defaults, a.e)
	}
	if _, err := p.expect(tExecEnd, ""); err != nil {
		return nil, err
	}
	body, end, err := p.parseBody()
	if err != nil {
		return nil, err
	}
	if err := p.closeTag(tag, end, "endmacro"); err != nil {
		return nil, err
	}
	if p.is(tName, n.val) {
		p.next()
	}
	if _, err := p.expect(tExecEnd, ""); err != nil {
		return nil, err
	}
	m.body = body
	if prev, ok := p.macros[m.name]; ok {
		return nil, p.errAt(n, "macro %q is already defined at line %d, column %d; two macros cannot share a name", m.name, prev.line, prev.col)
	}
	if p.macros == nil {
		p.macros = map[string]*macroDef{}
	}
	p.macros[m.name] = m
	return &macroStmt{}, nil
}

// parseBlock parses "block name %}…{% endblock [name] %}". As in Pebble, a
// later block of the same name replaces an earlier one.
func (p *parser) parseBlock(tag token) (stmt, error) {
	n := p.next()
	if n.kind != tName && n.kind != tString {
		return nil, p.errAt(n, "expected a block name, found %s", tokenText(n))
	}
	if _, err := p.expect(tExecEnd, ""); err != nil {
		return nil, err
	}
	body, end, err := p.parseBody()
	if err != nil {
		return nil, err
	}
	if err := p.closeTag(tag, end, "endblock"); err != nil {
		return nil, err
	}
	if t := p.peek(); (t.kind == tName || t.kind == tString) && t.val == n.val {
		p.next()
	}
	if _, err := p.expect(tExecEnd, ""); err != nil {
		return nil, err
	}
	if p.blocks == nil {
		p.blocks = map[string]*blockDef{}
	}
	p.blocks[n.val] = &blockDef{pos: pos{n.line, n.col}, name: n.val, body: body}
	return &blockStmt{pos: pos{tag.line, tag.col}, name: n.val}, nil
}

func (p *parser) parseSet() (stmt, error) {
	n, err := p.expect(tName, "")
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tPunct, "="); err != nil {
		return nil, err
	}
	e, err := p.parseExpression(0)
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tExecEnd, ""); err != nil {
		return nil, err
	}
	return &setStmt{name: n.val, e: e}, nil
}

// parseExpression is Pebble's precedence-climbing expression parser.
func (p *parser) parseExpression(minPrec int) (expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxNesting {
		return nil, p.errAt(p.peek(), "expression nested too deeply")
	}
	t := p.peek()
	var left expr
	var err error
	if t.kind == tOp && (t.val == "not" || t.val == "-" || t.val == "+") {
		p.next()
		operand, err := p.parseExpression(unaryPrec)
		if err != nil {
			return nil, err
		}
		left = &unaryExpr{pos: pos{t.line, t.col}, op: t.val, x: operand}
	} else {
		left, err = p.parsePostfix()
		if err != nil {
			return nil, err
		}
	}
	for {
		t := p.peek()
		if t.kind != tOp {
			break
		}
		prec, ok := binaryPrec[t.val]
		if !ok || prec < minPrec {
			break
		}
		p.next()
		at := pos{t.line, t.col}
		switch t.val {
		case "|":
			left, err = p.parseFilter(left)
		case "is", "is not":
			left, err = p.parseTest(left, t.val == "is not", at)
		default:
			var right expr
			right, err = p.parseExpression(prec + 1)
			if err == nil {
				left = newBinary(at, t.val, left, right)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if minPrec == 0 && p.is(tPunct, "?") {
		q := p.next()
		yes, err := p.parseExpression(0)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tPunct, ":"); err != nil {
			return nil, err
		}
		no, err := p.parseExpression(0)
		if err != nil {
			return nil, err
		}
		left = &ternaryExpr{pos: pos{q.line, q.col}, cond: left, yes: yes, no: no}
	}
	return left, nil
}

func (p *parser) parseFilter(input expr) (expr, error) {
	n := p.peek()
	if n.kind != tName && n.kind != tOp {
		return nil, p.errAt(n, "expected a filter name, found %s", tokenText(n))
	}
	p.next()
	f := &filterExpr{pos: pos{n.line, n.col}, name: n.val, input: input, fn: builtinFilters[n.val]}
	if p.is(tPunct, "(") {
		args, err := p.parseArgs()
		if err != nil {
			return nil, err
		}
		f.args = args
	}
	return f, nil
}

func (p *parser) parseTest(input expr, negate bool, at pos) (expr, error) {
	n := p.peek()
	if n.kind != tName && n.kind != tOp {
		return nil, p.errAt(n, "expected a test name, found %s", tokenText(n))
	}
	p.next()
	te := &testExpr{pos: pos{n.line, n.col}, name: n.val, input: input, negate: negate, fn: builtinTests[n.val]}
	if p.is(tPunct, "(") {
		args, err := p.parseArgs()
		if err != nil {
			return nil, err
		}
		te.args = args
	}
	return te, nil
}

// parseArgs parses "(a, b, name=c)".
func (p *parser) parseArgs() (argList, error) {
	var out argList
	if _, err := p.expect(tPunct, "("); err != nil {
		return out, err
	}
	for !p.is(tPunct, ")") {
		if len(out.pos)+len(out.named) > 0 {
			if _, err := p.expect(tPunct, ","); err != nil {
				return out, err
			}
		}
		t := p.peek()
		if t.kind == tName && p.toks[p.pos+1].kind == tPunct && p.toks[p.pos+1].val == "=" {
			p.next()
			p.next()
			e, err := p.parseExpression(0)
			if err != nil {
				return out, err
			}
			out.named = append(out.named, namedArg{name: t.val, e: e})
			continue
		}
		if len(out.named) > 0 {
			return out, p.errAt(t, "positional argument after named argument")
		}
		e, err := p.parseExpression(0)
		if err != nil {
			return out, err
		}
		out.pos = append(out.pos, e)
	}
	p.next()
	return out, nil
}

func (p *parser) parsePostfix() (expr, error) {
	e, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tPunct && t.val == ".":
			p.next()
			n := p.next()
			switch n.kind {
			case tName, tOp, tInt:
			default:
				return nil, p.errAt(n, "expected an attribute name after \".\", found %s", tokenText(n))
			}
			if p.is(tPunct, "(") {
				args, err := p.parseArgs()
				if err != nil {
					return nil, err
				}
				e = &methodExpr{pos: pos{n.line, n.col}, obj: e, name: n.val, args: args}
				continue
			}
			e = &attrExpr{pos: pos{n.line, n.col}, obj: e, key: &literal{v: n.val}, name: n.val}
		case t.kind == tPunct && t.val == "[":
			p.next()
			k, err := p.parseExpression(0)
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tPunct, "]"); err != nil {
				return nil, err
			}
			name := ""
			if l, ok := k.(*literal); ok {
				name = toString(l.v)
			}
			e = &attrExpr{pos: pos{t.line, t.col}, obj: e, key: k, name: name, subscript: true}
		default:
			return e, nil
		}
	}
}

func (p *parser) parsePrimary() (expr, error) {
	t := p.next()
	at := pos{t.line, t.col}
	switch t.kind {
	case tName:
		switch t.val {
		case "true", "TRUE":
			return &literal{v: true}, nil
		case "false", "FALSE":
			return &literal{v: false}, nil
		case "null", "NULL", "none", "NONE":
			return &literal{v: nil}, nil
		}
		if p.is(tPunct, "(") {
			args, err := p.parseArgs()
			if err != nil {
				return nil, err
			}
			if t.val == "block" {
				if len(args.pos) != 1 || len(args.named) != 0 {
					return nil, p.errAt(t, "block() takes one argument, the block's name")
				}
				return &blockCallExpr{pos: at, name: args.pos[0]}, nil
			}
			return &callExpr{pos: at, name: t.val, args: args}, nil
		}
		return &varExpr{pos: at, name: t.val}, nil
	case tInt:
		n, err := strconv.ParseInt(t.val, 10, 64)
		if err != nil {
			f, _ := strconv.ParseFloat(t.val, 64)
			return &literal{v: f}, nil //nolint:nilerr // past int64, a number literal is a float, as in Pebble
		}
		return &literal{v: n}, nil
	case tFloat:
		f, err := strconv.ParseFloat(t.val, 64)
		if err != nil {
			return nil, p.errAt(t, "invalid number %q", t.val)
		}
		return &literal{v: f}, nil
	case tString:
		return &literal{v: t.val}, nil
	case tInterpString:
		return p.parseInterpolation(t)
	case tPunct:
		switch t.val {
		case "(":
			e, err := p.parseExpression(0)
			if err != nil {
				return nil, err
			}
			_, err = p.expect(tPunct, ")")
			return e, err
		case "[":
			l := &listExpr{pos: at}
			for !p.is(tPunct, "]") {
				if len(l.items) > 0 {
					if _, err := p.expect(tPunct, ","); err != nil {
						return nil, err
					}
				}
				e, err := p.parseExpression(0)
				if err != nil {
					return nil, err
				}
				l.items = append(l.items, e)
			}
			p.next()
			return l, nil
		case "{":
			m := &mapExpr{pos: at}
			for !p.is(tPunct, "}") {
				if len(m.keys) > 0 {
					if _, err := p.expect(tPunct, ","); err != nil {
						return nil, err
					}
				}
				k, err := p.parseExpression(0)
				if err != nil {
					return nil, err
				}
				if _, err := p.expect(tPunct, ":"); err != nil {
					return nil, err
				}
				v, err := p.parseExpression(0)
				if err != nil {
					return nil, err
				}
				m.keys = append(m.keys, k)
				m.vals = append(m.vals, v)
			}
			p.next()
			return m, nil
		}
	}
	return nil, p.errAt(t, "unexpected %s", tokenText(t))
}

// parseInterpolation splits "a #{x} b" into a concatenation.
func (p *parser) parseInterpolation(t token) (expr, error) {
	s := t.val
	c := &interpExpr{pos: pos{t.line, t.col}}
	for s != "" {
		i := strings.Index(s, "#{")
		if i < 0 {
			c.parts = append(c.parts, &literal{v: unescape(s, '"')})
			break
		}
		if i > 0 {
			c.parts = append(c.parts, &literal{v: unescape(s[:i], '"')})
		}
		depth, j := 1, i+2
		for j < len(s) && depth > 0 {
			switch s[j] {
			case '{':
				depth++
			case '}':
				depth--
			}
			j++
		}
		if depth != 0 {
			return nil, p.errAt(t, "unclosed \"#{\" in string")
		}
		toks, err := lexExpression(s[i+2:j-1], t.line, t.col)
		if err != nil {
			return nil, err
		}
		sub := &parser{toks: toks, depth: p.depth}
		e, err := sub.parseExpression(0)
		if err != nil {
			return nil, err
		}
		if sub.peek().kind != tEOF {
			return nil, sub.errAt(sub.peek(), "unexpected %s in string interpolation", tokenText(sub.peek()))
		}
		c.parts = append(c.parts, e)
		s = s[j:]
	}
	return c, nil
}
