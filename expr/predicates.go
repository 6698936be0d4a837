package expr

import (
	"fmt"
	"strings"

	"github.com/ospreyhq/osprey/internal/ordered"
)

// builtinTest is one test: value is name(args). "defined" is handled by
// the test expression itself because it must see undefined values.
type builtinTest func(st *state, in any, a Args) (bool, error)

var builtinTests = map[string]builtinTest{
	"null":  func(_ *state, in any, _ Args) (bool, error) { return in == nil, nil },
	"empty": func(_ *state, in any, _ Args) (bool, error) { return isEmpty(in), nil },
	"even":  parityTest(0),
	"odd":   parityTest(1),
	"iterable": func(_ *state, in any, _ Args) (bool, error) {
		_, ok := in.([]any)
		return ok, nil
	},
	"map": func(_ *state, in any, _ Args) (bool, error) {
		return mapLen(in) >= 0, nil
	},
	"json": func(_ *state, in any, _ Args) (bool, error) {
		switch in.(type) {
		case map[string]any, *ordered.Map, []any:
			return true, nil
		}
		s, ok := in.(string)
		if !ok {
			return false, nil
		}
		var v any
		return decodeJSON(s, &v) == nil, nil
	},
	"startsWith": func(_ *state, in any, a Args) (bool, error) {
		p, _ := a.Get(0, "prefix")
		return in != nil && strings.HasPrefix(toString(in), toString(p)), nil
	},
	"endsWith": func(_ *state, in any, a Args) (bool, error) {
		p, _ := a.Get(0, "suffix")
		return in != nil && strings.HasSuffix(toString(in), toString(p)), nil
	},
}

// isEmpty is Pebble's EmptyTest: null, "", blank strings, empty lists and maps.
func isEmpty(in any) bool {
	switch x := in.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	case map[string]any, *ordered.Map:
		return mapLen(x) == 0
	}
	return false
}

func parityTest(rem int64) builtinTest {
	return func(_ *state, in any, _ Args) (bool, error) {
		i, ok := in.(int64)
		if !ok {
			if f, isF := in.(float64); isF && f == float64(int64(f)) {
				i, ok = int64(f), true
			}
		}
		if !ok {
			return false, fmt.Errorf("expects an integer, got %s", typeName(in))
		}
		r := i % 2
		if r < 0 {
			r = -r
		}
		return r == rem, nil
	}
}
