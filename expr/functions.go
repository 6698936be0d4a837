package expr

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"

	"github.com/google/uuid"
	"github.com/ospreyhq/osprey/internal/ordered"
	"go.yaml.in/yaml/v3"
)

// builtinFunc is an engine-wide function; unlike Func it sees the render
// state (render() re-renders in the same scope).
type builtinFunc func(st *state, a Args) (any, error)

// builtinFunctions are Pebble's and Kestra's scope-independent functions.
// Per-evaluation ones (secret, errorLogs, currentEachOutput, …) come from
// Scope.Funcs and take precedence.
var builtinFunctions = map[string]builtinFunc{
	"now":               fnNow,
	"json":              fnFromJSON,
	"fromJson":          fnFromJSON,
	"jsonDecode":        fnFromJSON,
	"yaml":              fnFromYAML,
	"fromYaml":          fnFromYAML,
	"range":             fnRange,
	"uuid":              func(*state, Args) (any, error) { return uuid.NewString(), nil },
	"id":                func(*state, Args) (any, error) { return shortID(), nil },
	"randomInt":         fnRandomInt,
	"max":               func(st *state, a Args) (any, error) { return extreme(a, 1) },
	"min":               func(st *state, a Args) (any, error) { return extreme(a, -1) },
	"render":            fnRender,
	"renderOnce":        fnRenderOnce,
	"printContext":      fnPrintContext,
	"currentEachOutput": fnCurrentEachOutput,
	"isWeekend":         fnIsWeekend,
	"isPublicHoliday":   fnIsPublicHoliday,
	"isDayWeekInMonth":  fnIsDayWeekInMonth,
	"dayOfWeek":         fnDayOfWeek,
	"dayOfMonth":        fnDayOfMonth,
	"monthOfYear":       fnMonthOfYear,
	"hourOfDay":         fnHourOfDay,
}

// fnNow returns the current time formatted like the date filter (default
// "iso": yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX), as Kestra's now() does.
func fnNow(st *state, a Args) (any, error) {
	format, loc, _, err := dateArgs(st, a, 0)
	if err != nil {
		return nil, err
	}
	return formatJava(st.eng.now().In(loc), format)
}

func fnFromJSON(_ *state, a Args) (any, error) {
	v, _ := a.Get(0, "json")
	s, ok := v.(string)
	if !ok {
		return norm(v), nil
	}
	var out any
	if err := decodeJSON(s, &out); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return out, nil
}

func fnFromYAML(_ *state, a Args) (any, error) {
	v, _ := a.Get(0, "yaml")
	s, ok := v.(string)
	if !ok {
		return norm(v), nil
	}
	var out any
	if err := yaml.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	// Read again as nodes, which keep a mapping's order (Kestra's Jackson
	// gives a LinkedHashMap); past the node budget, the Go maps above serve.
	var doc yaml.Node
	if yaml.Unmarshal([]byte(s), &doc) == nil {
		budget := maxNodes
		if v, ok := fromYAMLNode(&doc, &budget, 0); ok {
			return v, nil
		}
	}
	return deepNorm(out, 0), nil
}

// fromYAMLNode converts a YAML node to evaluator values, mappings to
// *ordered.Map; ok is false past the budget or the depth (aliases expand).
func fromYAMLNode(n *yaml.Node, budget *int, depth int) (any, bool) {
	if *budget--; *budget < 0 || depth > maxJSONDepth {
		return nil, false
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, true
		}
		return fromYAMLNode(n.Content[0], budget, depth)
	case yaml.AliasNode:
		return fromYAMLNode(n.Alias, budget, depth+1)
	case yaml.MappingNode:
		m := ordered.New(len(n.Content) / 2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, ok := fromYAMLNode(n.Content[i], budget, depth+1)
			if !ok {
				return nil, false
			}
			if n.Content[i].ShortTag() == "!!merge" {
				return nil, false // merge keys: the Go maps' reading applies them
			}
			v, ok := fromYAMLNode(n.Content[i+1], budget, depth+1)
			if !ok {
				return nil, false
			}
			m.Set(toString(k), v)
		}
		return m, true
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, ok := fromYAMLNode(c, budget, depth+1)
			if !ok {
				return nil, false
			}
			out[i] = v
		}
		return out, true
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, false
	}
	return deepNorm(v, depth), true
}

// deepNorm converts decoded YAML (map[string]any, int, …) to evaluator values.
func deepNorm(v any, depth int) any {
	if depth > maxJSONDepth {
		return nil
	}
	switch x := norm(v).(type) {
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = deepNorm(x[i], depth+1)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepNorm(e, depth+1)
		}
		return out
	case *ordered.Map:
		out := ordered.New(x.Len())
		for k, e := range x.All() {
			out.Set(k, deepNorm(e, depth+1))
		}
		return out
	default:
		return x
	}
}

func fnRange(st *state, a Args) (any, error) {
	start, _ := a.Get(0, "start")
	end, _ := a.Get(1, "end")
	step, ok := a.Get(2, "increment")
	if !ok {
		step = int64(1)
	}
	return rangeList(st, start, end, step)
}

func fnRandomInt(_ *state, a Args) (any, error) {
	lv, _ := a.Get(0, "lower")
	uv, _ := a.Get(1, "upper")
	lo, ok1 := toInt(lv)
	hi, ok2 := toInt(uv)
	if !ok1 || !ok2 {
		return nil, errors.New("randomInt expects two integers: lower (inclusive) and upper (exclusive)")
	}
	if hi < lo {
		return nil, fmt.Errorf("randomInt: upper %d is less than lower %d", hi, lo)
	}
	if hi == lo {
		return lo, nil
	}
	return lo + rand.Int64N(hi-lo), nil
}

func extreme(a Args, sign int) (any, error) {
	var best any
	for i, v := range a.Positional {
		if i == 0 {
			best = v
			continue
		}
		c, err := compare(v, best)
		if err != nil {
			return nil, err
		}
		if c*sign > 0 {
			best = v
		}
	}
	return best, nil
}

// fnRender re-renders a string in the current scope. With recursive=true
// (the default) it renders until the result holds no more expressions,
// bounded by MaxRenderDepth.
// fnRenderOnce is Kestra's renderOnce(x): render(x, recursive=false).
func fnRenderOnce(st *state, a Args) (any, error) {
	v, _ := a.Get(0, "template")
	return fnRender(st, Args{Positional: []any{v, false}})
}

func fnRender(st *state, a Args) (any, error) {
	v, _ := a.Get(0, "template")
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("render expects a string template, got %s", typeName(v))
	}
	recursive := true
	if r, ok := a.Get(1, "recursive"); ok {
		recursive = truthy(r)
	}
	levels := 0
	defer func() { st.depth -= levels }()
	for {
		if st.depth >= st.eng.maxDepth {
			return nil, fmt.Errorf("%w: render() nested more than %d levels", ErrLimit, st.eng.maxDepth)
		}
		st.depth++
		levels++
		out, err := st.eng.renderString(st, s)
		if err != nil {
			return nil, err
		}
		if !recursive || out == s || !IsTemplate(out) {
			return out, nil
		}
		s = out
	}
}

// fnCurrentEachOutput picks, from the outputs of a task inside ForEach or
// EachSequential loops (keyed by loop value at each level), the entry of the
// current iteration: it walks parents from the outermost, then taskrun.value.
// It only reads the scope, so callers need not provide it.
func fnCurrentEachOutput(st *state, a Args) (any, error) {
	v, _ := a.Get(0, "outputs")
	outputs, ok := ordered.AsMap(v)
	if !ok {
		return nil, errors.New("the 'currentEachOutput' function expects an argument 'outputs' with type map")
	}
	parents, _ := st.lookup("parents")
	if list, ok := norm(parents).([]any); ok {
		for i := len(list) - 1; i >= 0; i-- {
			p, _ := ordered.AsMap(norm(list[i]))
			tr, ok := ordered.AsMap(norm(p["taskrun"]))
			if !ok {
				continue
			}
			next, ok := ordered.AsMap(norm(outputs[toString(norm(tr["value"]))]))
			if !ok {
				return nil, errors.New("no execution outputs for the current task runs path")
			}
			outputs = next
		}
	}
	trv, _ := st.lookup("taskrun")
	tr, _ := ordered.AsMap(norm(trv))
	return norm(outputs[toString(norm(tr["value"]))]), nil
}

func fnPrintContext(st *state, _ Args) (any, error) {
	ctx := st.context()
	var b strings.Builder
	writeJSONLimit(&b, ctx, 0, st.eng.maxOutput)
	return b.String(), nil
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// shortID is a random base62 identifier like Kestra's IdUtils.create().
func shortID() string {
	u := uuid.New()
	n := new(big.Int).SetBytes(u[:])
	var b []byte
	base := big.NewInt(62)
	mod := new(big.Int)
	for n.Sign() > 0 {
		n.DivMod(n, base, mod)
		b = append(b, base62[mod.Int64()])
	}
	for len(b) < 22 {
		b = append(b, '0')
	}
	return string(b)
}
