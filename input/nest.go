package input

import (
	"slices"
	"strings"
)

// Nest returns typed inputs with dotted ids turned into nested maps, as
// Kestra's FlowInputOutput does, so that an input declared as `user.name` is
// read as {{ inputs.user.name }}. Call it after SECRET inputs are sealed
// (sealing looks inputs up by their declared id). An id that would collide
// with a value already there (inputs `a` and `a.b`) stays a flat key rather
// than overwrite it.
func Nest(in map[string]any) map[string]any {
	out := make(map[string]any, len(in))
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	// Plain ids first, then shorter paths, so collisions resolve the same
	// way every time.
	slices.SortFunc(keys, func(a, b string) int {
		if da, db := strings.Count(a, "."), strings.Count(b, "."); da != db {
			return da - db
		}
		return strings.Compare(a, b)
	})
	made := map[string]bool{} // paths of the maps Nest built; values are never merged into
	for _, k := range keys {
		parts := strings.Split(k, ".")
		if len(parts) == 1 || slices.Contains(parts, "") || !place(out, parts, in[k], made) {
			out[k] = in[k]
		}
	}
	return out
}

// place sets out[p0][p1]…= v, creating maps on the way; it reports false,
// changing nothing, when a value (rather than a map Nest built) or an
// existing leaf is in the way.
func place(out map[string]any, parts []string, v any, made map[string]bool) bool {
	cur := out
	for i, p := range parts[:len(parts)-1] {
		path := strings.Join(parts[:i+1], ".")
		next, exists := cur[p]
		if !exists {
			m := map[string]any{}
			cur[p], made[path] = m, true
			cur = m
			continue
		}
		if !made[path] {
			return false
		}
		cur = next.(map[string]any)
	}
	last := parts[len(parts)-1]
	if _, taken := cur[last]; taken {
		return false
	}
	cur[last] = v
	return true
}
