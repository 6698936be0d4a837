package expr

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/internal/ordered"
)

// state is one evaluation: the scope, the local frames pushed by {% for %}
// and written by {% set %}, the output buffer and the budgets.
type state struct {
	ctx    context.Context
	eng    *Engine
	scope  *Scope
	frames []map[string]any
	out    *strings.Builder
	tmpl   *template // the template rendered, for its macros and blocks
	depth  int       // render() recursion depth
	calls  int       // macro and block() call depth
	// inMacro hides _context in a macro's body, as Pebble's local scope does.
	inMacro bool
	steps   int       // loop iterations done, checked against a budget
	start   time.Time // when the render began, for the time budget
}

func (st *state) lookup(name string) (any, bool) {
	for i := len(st.frames) - 1; i >= 0; i-- {
		if v, ok := st.frames[i][name]; ok {
			return v, true
		}
	}
	if st.scope != nil {
		if v, ok := st.scope.Vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

// context is the scope and the variables set so far, as one map: what
// Pebble's _context holds and printContext() prints.
func (st *state) context() map[string]any {
	ctx := map[string]any{}
	if st.scope != nil {
		for k, v := range st.scope.Vars {
			ctx[k] = v
		}
	}
	for _, f := range st.frames {
		for k, v := range f {
			ctx[k] = v
		}
	}
	return ctx
}

func (st *state) strict() bool { return st.scope == nil || st.scope.Strict }

func (st *state) write(s string) error {
	if st.eng.maxOutput > 0 && st.out.Len()+len(s) > st.eng.maxOutput {
		return fmt.Errorf("%w: output exceeds %d bytes", ErrLimit, st.eng.maxOutput)
	}
	st.out.WriteString(s)
	return nil
}

// tick counts loop work and honours cancellation.
func (st *state) tick(at pos) error {
	st.steps++
	if st.steps > st.eng.maxSteps {
		return newError(at.line, at.col, "%v: more than %d loop iterations", ErrLimit, st.eng.maxSteps)
	}
	if st.steps&1023 == 0 {
		if err := st.ctx.Err(); err != nil {
			return err
		}
		if err := st.overTime(); err != nil {
			return newError(at.line, at.col, "%v", err)
		}
	}
	return nil
}

// checkSize bounds intermediate values: a string may not outgrow the
// output limit, nor a list the range limit, so doubling tricks such as
// {% set a = a ~ a %} stop early.
func (st *state) checkSize(v any) error {
	switch x := v.(type) {
	case string:
		if len(x) > st.eng.maxOutput {
			return fmt.Errorf("%w: string of %d bytes exceeds %d", ErrLimit, len(x), st.eng.maxOutput)
		}
	case []any:
		if len(x) > st.eng.maxRange {
			return fmt.Errorf("%w: list of %d items exceeds %d", ErrLimit, len(x), st.eng.maxRange)
		}
	case map[string]any, *ordered.Map:
		if mapLen(x) > st.eng.maxRange {
			return fmt.Errorf("%w: map of %d entries exceeds %d", ErrLimit, mapLen(x), st.eng.maxRange)
		}
	}
	return nil
}

func execBody(st *state, body []stmt) error {
	for _, s := range body {
		if err := s.exec(st); err != nil {
			return err
		}
	}
	return nil
}

func (s *textStmt) exec(st *state) error { return st.write(s.s) }

func (s *printStmt) exec(st *state) error {
	v, err := s.e.eval(st)
	if err != nil {
		return err
	}
	if v == nil {
		return nil
	}
	if str, ok := v.(string); ok {
		return st.write(str)
	}
	switch v.(type) {
	case []any, map[string]any, *ordered.Map:
		var b strings.Builder
		writeJSONLimit(&b, v, 0, st.eng.maxOutput)
		return st.write(b.String())
	}
	return st.write(printString(v))
}

func (s *ifStmt) exec(st *state) error {
	for i, c := range s.conds {
		v, err := c.eval(st)
		if err != nil {
			return err
		}
		if truthy(v) {
			return execBody(st, s.bodies[i])
		}
	}
	return execBody(st, s.els)
}

func (s *forStmt) exec(st *state) error {
	v, err := s.iter.eval(st)
	if err != nil {
		return err
	}
	items, err := iterate(v)
	if err != nil {
		return newError(s.line, s.col, "for loop over %s: %v", typeName(v), err)
	}
	if len(items) == 0 {
		return execBody(st, s.els)
	}
	// One scope for the whole loop, as Pebble: {% set %} in the body survives
	// to the next iteration but not past {% endfor %}.
	frame := map[string]any{}
	st.frames = append(st.frames, frame)
	defer func() { st.frames = st.frames[:len(st.frames)-1] }()
	n := int64(len(items))
	for i, it := range items {
		if err := st.tick(s.pos); err != nil {
			return err
		}
		frame[s.name] = it
		idx := int64(i)
		frame["loop"] = map[string]any{
			"index": idx, "revindex": n - idx - 1, "first": i == 0, "last": idx == n-1, "length": n,
		}
		if err := execBody(st, s.body); err != nil {
			return err
		}
	}
	return nil
}

func (s *setStmt) exec(st *state) error {
	v, err := s.e.eval(st)
	if err != nil {
		return err
	}
	if len(st.frames) == 0 {
		st.frames = append(st.frames, map[string]any{})
	}
	st.frames[len(st.frames)-1][s.name] = v
	return nil
}

func (e *literal) eval(*state) (any, error) { return e.v, nil }

func (e *varExpr) eval(st *state) (any, error) {
	if v, ok := st.lookup(e.name); ok {
		return norm(v), nil
	}
	if e.name == "_context" && !st.inMacro {
		return st.context(), nil
	}
	if !st.strict() {
		return nil, nil
	}
	return nil, &Error{Line: e.line, Column: e.col, Name: e.name, undefined: true,
		Msg: fmt.Sprintf("variable %q is not defined", e.name)}
}

func (e *attrExpr) eval(st *state) (any, error) {
	obj, err := e.obj.eval(st)
	if err != nil {
		return nil, err
	}
	key, err := e.key.eval(st)
	if err != nil {
		return nil, err
	}
	v, found, err := getAttr(obj, key)
	if err != nil {
		return nil, newError(e.line, e.col, "%v", err)
	}
	if found {
		return v, nil
	}
	if !st.strict() {
		return nil, nil
	}
	name := toString(key)
	msg := fmt.Sprintf("attribute %q of %s does not exist", name, describeValue(obj))
	if obj == nil {
		msg = fmt.Sprintf("attribute %q of null does not exist", name)
	}
	if path := exprPath(e); path != "" {
		msg = fmt.Sprintf("%q is not defined: %s", path, msg)
	}
	return nil, &Error{Line: e.line, Column: e.col, Name: name, undefined: true, Msg: msg}
}

// exprPath renders a.b['c'] back to text for error messages.
func exprPath(e expr) string {
	switch x := e.(type) {
	case *varExpr:
		return x.name
	case *attrExpr:
		base := exprPath(x.obj)
		if base == "" {
			return ""
		}
		if l, ok := x.key.(*literal); ok {
			s := toString(l.v)
			if !x.subscript && isIdent(s) {
				return base + "." + s
			}
			if _, isStr := l.v.(string); isStr {
				return base + "['" + s + "']"
			}
			return base + "[" + s + "]"
		}
		return base + "[…]"
	}
	return ""
}

func isIdent(s string) bool {
	if s == "" || !isNameStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

func describeValue(v any) string {
	switch v.(type) {
	case map[string]any, *ordered.Map:
		return "a map"
	case []any:
		return "a list"
	}
	return typeName(v)
}

func (e *methodExpr) eval(st *state) (any, error) {
	obj, err := e.obj.eval(st)
	if err != nil {
		return nil, err
	}
	// A map key that happens to be called like a method: m.key() is not Java,
	// but Pebble resolves getters; try the attribute first.
	args, err := e.args.eval(st)
	if err != nil {
		return nil, err
	}
	v, err := callMethod(obj, e.name, args)
	if err != nil {
		return nil, newError(e.line, e.col, "%v", err)
	}
	return v, nil
}

func (a argList) eval(st *state) (Args, error) {
	var out Args
	if len(a.pos) > 0 {
		out.Positional = make([]any, len(a.pos))
		for i, e := range a.pos {
			v, err := e.eval(st)
			if err != nil {
				return out, err
			}
			out.Positional[i] = v
		}
	}
	if len(a.named) > 0 {
		out.Named = make(map[string]any, len(a.named))
		for _, n := range a.named {
			v, err := n.e.eval(st)
			if err != nil {
				return out, err
			}
			out.Named[n.name] = v
		}
	}
	return out, nil
}

func (e *callExpr) eval(st *state) (any, error) {
	args, err := e.args.eval(st)
	if err != nil {
		return nil, err
	}
	if st.scope != nil {
		if f, ok := st.scope.Funcs[e.name]; ok {
			v, err := f(st.ctx, args)
			if err != nil {
				return nil, wrapAt(e.pos, "function "+e.name, err)
			}
			return norm(v), nil
		}
	}
	f, ok := builtinFunctions[e.name]
	if !ok {
		// As in Pebble, a function wins over a macro of the same name.
		if m := st.tmpl.macro(e.name); m != nil {
			return st.callMacro(e.pos, m, args)
		}
		return nil, newError(e.line, e.col, "function or macro %q does not exist", e.name)
	}
	v, err := f(st, args)
	if err == nil {
		err = st.checkSize(v)
	}
	if err != nil {
		return nil, wrapAt(e.pos, "function "+e.name, err)
	}
	return v, nil
}

func (e *filterExpr) eval(st *state) (any, error) {
	in, err := e.input.eval(st)
	if err != nil {
		// Like Pebble, "default" also applies to an undefined input.
		if e.name != "default" || !errors.Is(err, ErrUndefined) {
			return nil, err
		}
		in = nil
	}
	args, err := e.args.eval(st)
	if err != nil {
		return nil, err
	}
	if e.fn == nil {
		return nil, newError(e.line, e.col, "filter %q does not exist", e.name)
	}
	v, err := e.fn(st, in, args)
	if err == nil {
		err = st.checkSize(v)
	}
	if err != nil {
		return nil, wrapAt(e.pos, "filter "+e.name, err)
	}
	return v, nil
}

func (e *testExpr) eval(st *state) (any, error) {
	in, err := e.input.eval(st)
	if e.name == "defined" {
		if err != nil {
			if !errors.Is(err, ErrUndefined) {
				return nil, err
			}
			return e.negate, nil
		}
		return (in != nil) != e.negate, nil
	}
	if err != nil {
		return nil, err
	}
	args, err := e.args.eval(st)
	if err != nil {
		return nil, err
	}
	if e.fn == nil {
		return nil, newError(e.line, e.col, "test %q does not exist", e.name)
	}
	ok, err := e.fn(st, in, args)
	if err != nil {
		return nil, wrapAt(e.pos, "test "+e.name, err)
	}
	return ok != e.negate, nil
}

func (e *unaryExpr) eval(st *state) (any, error) {
	v, err := e.x.eval(st)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "not":
		return !truthy(v), nil
	case "+":
		if _, ok := v.(int64); ok {
			return v, nil
		}
		if _, ok := v.(float64); ok {
			return v, nil
		}
	case "-":
		switch n := v.(type) {
		case int64:
			return -n, nil
		case float64:
			return -n, nil
		}
	}
	return nil, newError(e.line, e.col, "unary %q on %s", e.op, typeName(v))
}

func (e *andExpr) eval(st *state) (any, error) {
	l, err := e.l.eval(st)
	if err != nil || !truthy(l) {
		return false, err
	}
	r, err := e.r.eval(st)
	return err == nil && truthy(r), err
}

func (e *orExpr) eval(st *state) (any, error) {
	l, err := e.l.eval(st)
	if err != nil {
		return nil, err
	}
	if truthy(l) {
		return true, nil
	}
	r, err := e.r.eval(st)
	return err == nil && truthy(r), err
}

func (e *coalesceExpr) eval(st *state) (any, error) {
	v, err := e.l.eval(st)
	if err != nil {
		if !errors.Is(err, ErrUndefined) {
			return nil, err
		}
		return e.r.eval(st)
	}
	if v == nil && !e.undefinedOnly {
		return e.r.eval(st)
	}
	return v, nil
}

func (e *ternaryExpr) eval(st *state) (any, error) {
	c, err := e.cond.eval(st)
	if err != nil {
		return nil, err
	}
	if truthy(c) {
		return e.yes.eval(st)
	}
	return e.no.eval(st)
}

func (e *listExpr) eval(st *state) (any, error) {
	out := make([]any, len(e.items))
	for i, it := range e.items {
		v, err := it.eval(st)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// A map literal keeps its keys in the order written, as Pebble's
// LinkedHashMap.
func (e *mapExpr) eval(st *state) (any, error) {
	out := ordered.New(len(e.keys))
	for i, k := range e.keys {
		kv, err := k.eval(st)
		if err != nil {
			return nil, err
		}
		v, err := e.vals[i].eval(st)
		if err != nil {
			return nil, err
		}
		out.Set(toString(kv), v)
	}
	return out, nil
}

func (e *interpExpr) eval(st *state) (any, error) {
	var b strings.Builder
	for _, p := range e.parts {
		v, err := p.eval(st)
		if err != nil {
			return nil, err
		}
		if v != nil {
			b.WriteString(printString(v))
		}
		if b.Len() > st.eng.maxOutput {
			return nil, fmt.Errorf("%w: string exceeds %d bytes", ErrLimit, st.eng.maxOutput)
		}
	}
	return b.String(), nil
}

func (e *binaryExpr) eval(st *state) (any, error) {
	l, err := e.l.eval(st)
	if err != nil {
		return nil, err
	}
	r, err := e.r.eval(st)
	if err != nil {
		return nil, err
	}
	v, err := binary(st, e.op, l, r)
	if err == nil {
		err = st.checkSize(v)
	}
	if err != nil {
		return nil, newError(e.line, e.col, "%q: %v", e.sym, err)
	}
	return v, nil
}

func binary(st *state, op binOp, l, r any) (any, error) {
	switch op {
	case opEq, opNe, opContains, opIn, opNotIn:
		if tooLarge(l) || tooLarge(r) {
			return nil, fmt.Errorf("%w: operands are too large to compare", ErrLimit)
		}
	}
	switch op {
	case opEq:
		return equal(l, r), nil
	case opNe:
		return !equal(l, r), nil
	case opGt, opLt, opGe, opLe:
		c, err := compare(l, r)
		if err != nil {
			return nil, err
		}
		switch op {
		case opGt:
			return c > 0, nil
		case opLt:
			return c < 0, nil
		case opGe:
			return c >= 0, nil
		}
		return c <= 0, nil
	case opConcat:
		var b strings.Builder
		if l != nil {
			b.WriteString(javaString(l))
		}
		if r != nil {
			b.WriteString(javaString(r))
		}
		return b.String(), nil
	case opRange:
		return rangeList(st, l, r, int64(1))
	case opContains:
		return contains(l, r), nil
	case opIn:
		return in(l, r), nil
	case opNotIn:
		return !in(l, r), nil
	case opAdd:
		if ls, ok := l.(string); ok {
			return ls + javaString(r), nil
		}
		if rs, ok := r.(string); ok {
			return javaString(l) + rs, nil
		}
		if ll, ok := l.([]any); ok {
			return append(slices.Clip(ll), r), nil
		}
	case opSub:
		if ll, ok := l.([]any); ok {
			out := make([]any, 0, len(ll))
			removed := false
			for _, x := range ll {
				if !removed && equal(x, r) {
					removed = true
					continue
				}
				out = append(out, x)
			}
			return out, nil
		}
	}
	return arith(op, l, r)
}

// arith follows Java's binary numeric promotion: two integers give an
// integer (with integer division), anything with a double gives a double.
func arith(op binOp, l, r any) (any, error) {
	li, lIsInt := l.(int64)
	ri, rIsInt := r.(int64)
	if lIsInt && rIsInt {
		switch op {
		case opAdd:
			return li + ri, nil
		case opSub:
			return li - ri, nil
		case opMul:
			return li * ri, nil
		case opDiv:
			if ri == 0 {
				return nil, errors.New("division by zero")
			}
			if li == math.MinInt64 && ri == -1 {
				return li, nil
			}
			return li / ri, nil
		case opMod:
			if ri == 0 {
				return nil, errors.New("division by zero")
			}
			if ri == -1 {
				return int64(0), nil
			}
			return li % ri, nil
		}
	}
	lf, lok := toFloat(l)
	rf, rok := toFloat(r)
	if !lok || !rok {
		return nil, fmt.Errorf("invalid operands %s and %s for a mathematical operation", typeName(l), typeName(r))
	}
	switch op {
	case opAdd:
		return lf + rf, nil
	case opSub:
		return lf - rf, nil
	case opMul:
		return lf * rf, nil
	case opDiv:
		return lf / rf, nil
	case opMod:
		return math.Mod(lf, rf), nil
	}
	return nil, errors.New("unsupported operator")
}

// in is Kestra's "in": items compare by their string form (so 2 in ['2'] is
// true); for a map, keys and values both count.
func in(item, container any) bool {
	if item == nil || container == nil {
		return false
	}
	want := javaString(item)
	switch c := container.(type) {
	case []any:
		for _, x := range c {
			if x != nil && javaString(norm(x)) == want {
				return true
			}
		}
	case map[string]any, *ordered.Map:
		m, _ := ordered.AsMap(c)
		for k, v := range m {
			if k == want || (v != nil && javaString(norm(v)) == want) {
				return true
			}
		}
	}
	return false
}

func rangeList(st *state, from, to, step any) ([]any, error) {
	a, aok := toInt(from)
	b, bok := toInt(to)
	s, sok := toInt(step)
	if !aok || !bok || !sok {
		return nil, fmt.Errorf("range bounds must be numbers, got %s and %s", typeName(from), typeName(to))
	}
	if s == 0 {
		return nil, errors.New("range step must not be zero")
	}
	n := (b - a) / s
	if n < 0 {
		return []any{}, nil
	}
	if n >= int64(st.eng.maxRange) {
		return nil, fmt.Errorf("%w: range of %d items exceeds %d", ErrLimit, n+1, st.eng.maxRange)
	}
	out := make([]any, 0, n+1)
	for i := int64(0); i <= n; i++ {
		out = append(out, a+i*s)
	}
	return out, nil
}

func wrapAt(at pos, what string, err error) error {
	var pe *Error
	if errors.As(err, &pe) && pe.Line > 0 {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &Error{Line: at.line, Column: at.col, Msg: what + ": " + err.Error(), Err: err}
}
