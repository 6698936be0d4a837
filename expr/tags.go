package expr

import (
	"fmt"
	"strings"
)

// maxCalls bounds how deep macro calls and block() calls may nest, so a
// macro that calls itself stops with an error instead of exhausting the
// stack. Each call also counts against the loop budget (Options.MaxSteps),
// which bounds macros that call themselves more than once per level.
const maxCalls = 100

func (s *filterBlockStmt) exec(st *state) error {
	v, err := s.e.eval(st)
	if err != nil {
		return err
	}
	return (&printStmt{e: &literal{v: v}}).exec(st)
}

// eval renders the body in the current scope, so a {% set %} inside it
// stays visible after the tag, as in Pebble.
func (e *bodyExpr) eval(st *state) (any, error) {
	return st.capture(e.body)
}

// capture renders body into its own buffer and returns the text.
func (st *state) capture(body []stmt) (string, error) {
	prev := st.out
	st.out = &strings.Builder{}
	defer func() { st.out = prev }()
	if err := execBody(st, body); err != nil {
		return "", err
	}
	return st.out.String(), nil
}

func (*macroStmt) exec(*state) error { return nil }

func (s *blockStmt) exec(st *state) error {
	b := st.tmpl.block(s.name)
	if b == nil {
		return newError(s.line, s.col, "block %q is not defined in this expression", s.name)
	}
	if err := st.enter(s.pos, "block "+s.name); err != nil {
		return err
	}
	defer func() { st.calls-- }()
	return execBody(st, b.body)
}

func (e *blockCallExpr) eval(st *state) (any, error) {
	v, err := e.name.eval(st)
	if err != nil {
		return nil, err
	}
	name, ok := v.(string)
	if !ok {
		return nil, newError(e.line, e.col, "block() takes the block's name as a string, not %s", typeName(v))
	}
	b := st.tmpl.block(name)
	if b == nil {
		return nil, newError(e.line, e.col, "block %q is not defined in this expression", name)
	}
	if err := st.enter(e.pos, "block "+name); err != nil {
		return nil, err
	}
	defer func() { st.calls-- }()
	return st.capture(b.body)
}

// enter counts one macro or block call against the depth and loop budgets.
func (st *state) enter(at pos, what string) error {
	if st.calls >= maxCalls {
		return newError(at.line, at.col, "%v: %s called more than %d levels deep (does it call itself without end?)", ErrLimit, what, maxCalls)
	}
	if err := st.tick(at); err != nil {
		return err
	}
	st.calls++
	return nil
}

// callMacro runs m as Pebble does: the body sees only the macro's
// parameters (defaults first, then the arguments given), not the caller's
// variables; functions stay callable. The result is the rendered text.
func (st *state) callMacro(at pos, m *macroDef, args Args) (any, error) {
	if len(args.Positional) > len(m.params) {
		return nil, newError(at.line, at.col, "macro %q takes %d argument(s), %d given", m.name, len(m.params), len(args.Positional))
	}
	for name := range args.Named {
		found := false
		for _, p := range m.params {
			found = found || p == name
		}
		if !found {
			return nil, newError(at.line, at.col, "macro %q has no parameter %q (its parameters: %s)", m.name, name, strings.Join(m.params, ", "))
		}
	}
	if err := st.enter(at, fmt.Sprintf("macro %q", m.name)); err != nil {
		return nil, err
	}
	defer func() { st.calls-- }()
	frame := make(map[string]any, len(m.params))
	var funcs map[string]Func
	if st.scope != nil {
		funcs = st.scope.Funcs
	}
	sub := &state{ctx: st.ctx, eng: st.eng, scope: &Scope{Funcs: funcs, Strict: st.strict()},
		frames: []map[string]any{frame}, out: &strings.Builder{}, tmpl: st.tmpl,
		depth: st.depth, steps: st.steps, calls: st.calls, start: st.start, inMacro: true}
	for i, p := range m.params {
		frame[p] = nil
		if d := m.defaults[i]; d != nil {
			v, err := d.eval(sub)
			if err != nil {
				return nil, err
			}
			frame[p] = v
		}
	}
	for i, v := range args.Positional {
		frame[m.params[i]] = v
	}
	for name, v := range args.Named {
		frame[name] = v
	}
	err := execBody(sub, m.body)
	st.steps = sub.steps
	if err != nil {
		return nil, err
	}
	return sub.out.String(), nil
}

func (t *template) macro(name string) *macroDef {
	if t == nil {
		return nil
	}
	return t.macros[name]
}

func (t *template) block(name string) *blockDef {
	if t == nil {
		return nil
	}
	return t.blocks[name]
}
