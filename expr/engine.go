package expr

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ospreyhq/osprey/internal/calendar"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// ErrUndefined is matched (errors.Is) by errors about an unknown variable or
// attribute; Kestra's "??" absorbs exactly these.
var ErrUndefined = errors.New("undefined")

// ErrLimit is matched by errors raised when a render exceeds a bound
// (output size, loop iterations, range length, render() depth).
var ErrLimit = errors.New("render limit exceeded")

// Error is a template problem with its 1-based position. Name holds the
// unknown variable or attribute when the error is about one.
type Error struct {
	Line, Column int
	Msg          string
	Name         string
	Err          error
	// Template is the text rendered when an undefined name was met; the
	// message then starts as Kestra's does, so users searching for it
	// find it ("Unable to find `x` used in the expression `{{x}}` …").
	Template string

	undefined bool
}

// withTemplate records tmpl on an undefined-name error.
func withTemplate(err error, tmpl string) error {
	var e *Error
	if errors.As(err, &e) && e.undefined && e.Template == "" {
		e.Template = tmpl
	}
	return err
}

func newError(line, col int, format string, args ...any) *Error {
	e := &Error{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
	for _, a := range args {
		if err, ok := a.(error); ok {
			e.Err = err
		}
	}
	return e
}

func (e *Error) Error() string {
	if e.undefined && e.Template != "" && e.Name != "" {
		return fmt.Sprintf("Unable to find `%s` used in the expression `%s` at line %d, column %d: %s", e.Name, e.Template, max(e.Line, 1), max(e.Column, 1), e.Msg)
	}
	if e.Line > 0 {
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
	}
	return e.Msg
}

// Unwrap lets callers test errors.Is(err, ErrUndefined) or reach the cause
// returned by a function such as secret().
func (e *Error) Unwrap() error {
	if e.undefined {
		return ErrUndefined
	}
	return e.Err
}

// Func is a per-evaluation function such as secret() or errorLogs().
type Func func(ctx context.Context, args Args) (any, error)

// Args are the evaluated arguments of a call: f(a, b, name=c).
type Args struct {
	Positional []any
	Named      map[string]any
}

// Get returns the argument at position i, or the one called name.
func (a Args) Get(i int, name string) (any, bool) {
	if i >= 0 && i < len(a.Positional) {
		return a.Positional[i], true
	}
	if v, ok := a.Named[name]; ok {
		return v, true
	}
	return nil, false
}

// Scope is the data and per-evaluation providers for one render.
type Scope struct {
	// Vars holds flow, execution, task, taskrun, inputs, outputs, … .
	Vars map[string]any
	// Funcs are looked up before the built-in functions.
	Funcs map[string]Func
	// Strict makes an unknown variable an error (Kestra's default).
	Strict bool
}

// Options configures an Engine. Zero values take the defaults.
type Options struct {
	// CacheSize is how many compiled templates are kept (default 1000).
	CacheSize int
	// MaxOutput bounds one render's output in bytes (default 10 MiB).
	MaxOutput int
	// MaxRange bounds range() and a..b (default 100000 items).
	MaxRange int
	// MaxSteps bounds loop iterations per render (default 1000000).
	MaxSteps int
	// MaxRenderDepth bounds render() recursion (default 10).
	MaxRenderDepth int
	// MaxDuration bounds the time one render may take (default 10s).
	MaxDuration time.Duration
	// MaxAlloc bounds how much a jq program may grow the heap (default
	// 256 MiB); see budget.go.
	MaxAlloc int64
	// Location is the default time zone of date filters and now() (default UTC).
	Location *time.Location
	// Now replaces the clock, for tests.
	Now func() time.Time
	// Holidays are the calendars isPublicHoliday() reads; nil: the
	// built-in ones.
	Holidays *calendar.Calendars
}

// Engine compiles and renders Pebble templates as Kestra does. It is safe
// for concurrent use; compiled templates are kept in a bounded LRU cache so
// a template seen again is only evaluated.
type Engine struct {
	maxOutput   int
	maxRange    int
	maxSteps    int
	maxDepth    int
	maxDuration time.Duration
	maxAlloc    int64
	loc         *time.Location
	now         func() time.Time
	holidays    *calendar.Calendars

	mu    sync.Mutex
	size  int
	order *list.List // of *cacheEntry, most recent first
	cache map[string]*list.Element
}

type cacheEntry struct {
	src string
	t   *template
}

// New returns an Engine.
func New(opts Options) *Engine {
	e := &Engine{
		size: opts.CacheSize, maxOutput: opts.MaxOutput, maxRange: opts.MaxRange,
		maxSteps: opts.MaxSteps, maxDepth: opts.MaxRenderDepth, maxDuration: opts.MaxDuration, maxAlloc: opts.MaxAlloc, loc: opts.Location, now: opts.Now, holidays: opts.Holidays,
		order: list.New(), cache: map[string]*list.Element{},
	}
	if e.size <= 0 {
		e.size = 1000
	}
	if e.maxOutput <= 0 {
		e.maxOutput = 10 << 20
	}
	if e.maxRange <= 0 {
		e.maxRange = 100_000
	}
	if e.maxSteps <= 0 {
		e.maxSteps = 1_000_000
	}
	if e.maxDepth <= 0 {
		e.maxDepth = 10
	}
	if e.maxDuration <= 0 {
		e.maxDuration = 10 * time.Second
	}
	if e.maxAlloc <= 0 {
		e.maxAlloc = 256 << 20
	}
	if e.loc == nil {
		e.loc = time.UTC
	}
	if e.now == nil {
		e.now = time.Now
	}
	return e
}

// IsTemplate reports whether s contains "{{" or "{%"; other strings are
// returned as they are by the Render methods.
func IsTemplate(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%")
}

func (e *Engine) compile(src string) (*template, error) {
	e.mu.Lock()
	if el, ok := e.cache[src]; ok {
		e.order.MoveToFront(el)
		t := el.Value.(*cacheEntry).t
		e.mu.Unlock()
		return t, nil
	}
	e.mu.Unlock()
	t, err := parse(src)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if el, ok := e.cache[src]; ok {
		return el.Value.(*cacheEntry).t, nil
	}
	e.cache[src] = e.order.PushFront(&cacheEntry{src: src, t: t})
	for e.order.Len() > e.size {
		last := e.order.Back()
		e.order.Remove(last)
		delete(e.cache, last.Value.(*cacheEntry).src)
	}
	return t, nil
}

// Validate checks the syntax of tmpl and reports the first problem with its
// line and column. It needs no scope, so flows can be checked at save time.
func (e *Engine) Validate(tmpl string) error {
	if !IsTemplate(tmpl) && !strings.Contains(tmpl, "{#") {
		return nil
	}
	_, err := e.compile(tmpl)
	return err
}

func (e *Engine) newState(ctx context.Context, s *Scope) *state {
	if s == nil {
		s = &Scope{Strict: true}
	}
	return &state{ctx: ctx, eng: e, scope: s, start: time.Now(), out: &strings.Builder{}}
}

// Render renders tmpl to a string, as Kestra's runContext.render.
func (e *Engine) Render(ctx context.Context, tmpl string, s *Scope) (string, error) {
	if !IsTemplate(tmpl) {
		return tmpl, nil
	}
	t, err := e.compile(tmpl)
	if err != nil {
		return "", err
	}
	st := e.newState(ctx, s)
	st.tmpl = t
	st.out.Grow(len(tmpl))
	if err := execBody(st, t.body); err != nil {
		return "", withTemplate(err, tmpl)
	}
	return st.out.String(), nil
}

// renderString renders tmpl for render(): same scope and frames, its own
// output, the loop budget carried over.
func (e *Engine) renderString(st *state, tmpl string) (string, error) {
	t, err := e.compile(tmpl)
	if err != nil {
		return "", err
	}
	sub := &state{ctx: st.ctx, eng: e, scope: st.scope, frames: st.frames, depth: st.depth, steps: st.steps, start: st.start,
		out: &strings.Builder{}, tmpl: t, calls: st.calls}
	if err := execBody(sub, t.body); err != nil {
		return "", err
	}
	st.steps = sub.steps
	return sub.out.String(), nil
}

// RenderTyped renders tmpl; when it is exactly one {{ expr }} the value is
// returned with its type (map, list, int64, float64, bool, nil), otherwise
// the rendered string.
func (e *Engine) RenderTyped(ctx context.Context, tmpl string, s *Scope) (any, error) {
	if !IsTemplate(tmpl) {
		return tmpl, nil
	}
	t, err := e.compile(tmpl)
	if err != nil {
		return nil, err
	}
	st := e.newState(ctx, s)
	st.tmpl = t
	if t.single != nil {
		v, err := t.single.eval(st)
		if err != nil {
			return nil, withTemplate(err, tmpl)
		}
		if tooLarge(v) {
			return nil, fmt.Errorf("%w: result is too large", ErrLimit)
		}
		return deepNorm(v, 0), nil
	}
	if err := execBody(st, t.body); err != nil {
		return nil, withTemplate(err, tmpl)
	}
	return st.out.String(), nil
}

// RenderValue renders every string in v, recursing into maps and slices
// (keys included), as Kestra's render(Map). Other values are returned as is.
func (e *Engine) RenderValue(ctx context.Context, v any, s *Scope) (any, error) {
	return e.renderValue(ctx, v, s, 0)
}

func (e *Engine) renderValue(ctx context.Context, v any, s *Scope, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("%w: value nested more than %d levels", ErrLimit, maxJSONDepth)
	}
	switch x := v.(type) {
	case string:
		return e.Render(ctx, x, s)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			rk, err := e.Render(ctx, k, s)
			if err != nil {
				return nil, fmt.Errorf("render key %q: %w", k, err)
			}
			rv, err := e.renderValue(ctx, val, s, depth+1)
			if err != nil {
				return nil, fmt.Errorf("render %q: %w", k, err)
			}
			out[rk] = rv
		}
		return out, nil
	case *ordered.Map:
		out := ordered.New(x.Len())
		for k, val := range x.All() {
			rk, err := e.Render(ctx, k, s)
			if err != nil {
				return nil, fmt.Errorf("render key %q: %w", k, err)
			}
			rv, err := e.renderValue(ctx, val, s, depth+1)
			if err != nil {
				return nil, fmt.Errorf("render %q: %w", k, err)
			}
			out.Set(rk, rv)
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			rv, err := e.renderValue(ctx, val, s, depth+1)
			if err != nil {
				return nil, fmt.Errorf("render [%d]: %w", i, err)
			}
			out[i] = rv
		}
		return out, nil
	case []string:
		out := make([]string, len(x))
		for i, val := range x {
			rv, err := e.Render(ctx, val, s)
			if err != nil {
				return nil, fmt.Errorf("render [%d]: %w", i, err)
			}
			out[i] = rv
		}
		return out, nil
	case map[string]string:
		out := make(map[string]string, len(x))
		for k, val := range x {
			rk, err := e.Render(ctx, k, s)
			if err != nil {
				return nil, fmt.Errorf("render key %q: %w", k, err)
			}
			rv, err := e.Render(ctx, val, s)
			if err != nil {
				return nil, fmt.Errorf("render %q: %w", k, err)
			}
			out[rk] = rv
		}
		return out, nil
	}
	return v, nil
}
