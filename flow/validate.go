package flow

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// depRef is one dependsOn entry of a Dag, kept with its node to report
// unknown ids where they are written.
type depRef struct {
	path string
	node *yaml.Node
}

// checkFlow runs the checks that need the whole flow: unique task ids and
// the type checker's view of every task.
func (p *parser) checkFlow(f *Flow) {
	first := map[string]*Task{}
	for _, t := range p.tasks {
		if t.ID == "" {
			continue
		}
		if prev, ok := first[t.ID]; ok {
			p.add(&Error{
				Path: joinKey(t.Path, "id"), Line: t.PosOf("id").Line, Column: t.PosOf("id").Column,
				Message: fmt.Sprintf("duplicate task id %q: task ids must be unique in a flow (first at %s, line %d)",
					t.ID, prev.Path, prev.Pos.Line),
			})
			continue
		}
		first[t.ID] = t
	}
	canon := func(s string) string { return s }
	if c, ok := p.types.(Canonicalizer); ok {
		canon = c.Canonical
	}
	p.checkRecursion(f, canon)
	applyDefaults(f, p.tasks, canon)
	if p.types == nil {
		return
	}
	for _, t := range p.tasks {
		if t.Type != "" && p.types.Known(t.Type) {
			p.checked(t.Path, t.Pos, t.PropPos, p.types.CheckTask(t))
		}
	}
}

// checked adds a type checker's errors, making relative paths absolute and
// filling positions it left out.
func (p *parser) checked(prefix string, base Position, pos map[string]Position, errs []*Error) {
	for _, e := range errs {
		if e == nil {
			continue
		}
		rel := relativePath(prefix, e.Path)
		if e.Path == "" || rel != e.Path || !strings.HasPrefix(prefix, e.Path) {
			e.Path = joinPath(prefix, rel)
		}
		if e.Line == 0 {
			at := lookupPos(pos, rel, base)
			e.Line, e.Column = at.Line, at.Column
		}
		if e.Line <= 0 {
			e.Line, e.Column = max(base.Line, 1), max(base.Column, 1)
		}
		e.Column = max(e.Column, 1)
		p.add(e)
	}
}

// relativePath strips prefix from path when path is absolute. A path that
// names an ancestor of prefix ("triggers" for "triggers[0]") stays as it is.
func relativePath(prefix, path string) string {
	if path == prefix {
		return ""
	}
	if path != "" && strings.HasPrefix(prefix, path) {
		return path
	}
	if rest, ok := strings.CutPrefix(path, prefix); ok && rest != "" && (rest[0] == '.' || rest[0] == '[') {
		return strings.TrimPrefix(rest, ".")
	}
	return path
}

func joinPath(prefix, rel string) string {
	switch {
	case rel == "":
		return prefix
	case prefix == "" || rel[0] == '[':
		return prefix + rel
	}
	return prefix + "." + rel
}

// lookupPos finds the position of rel, or of its closest recorded parent.
func lookupPos(pos map[string]Position, rel string, base Position) Position {
	for rel != "" {
		if at, ok := pos[rel]; ok {
			return at
		}
		i := strings.LastIndexAny(rel, ".[")
		if i < 0 {
			break
		}
		rel = rel[:i]
	}
	return base
}

// PosOf returns where a property of t is written: path is relative to the
// task ("message", "retry.maxAttempt", "commands[1]", `headers["X-A"]`) or
// absolute ("tasks[0].message"). When the path is not recorded, the closest
// enclosing property's position is returned, and at worst the task's own.
func (t *Task) PosOf(path string) Position {
	return lookupPos(t.PropPos, relativePath(t.Path, path), t.Pos)
}

// checkDag reports dependsOn entries that name no task of the Dag, and
// cycles among them.
func (p *parser) checkDag(path string, at *yaml.Node, entries []*DagTask, deps [][]depRef) {
	ids := map[string]*DagTask{}
	for _, d := range entries {
		ids[d.Task.ID] = d
	}
	broken := false
	for i, d := range entries {
		for _, ref := range deps[i] {
			dep := scalarText(ref.node)
			switch {
			case dep == d.Task.ID:
				p.errorf(ref.path, ref.node, "task %q depends on itself", dep)
				broken = true
			case ids[dep] == nil:
				msg := fmt.Sprintf("dependsOn names %q, which is not a task of this Dag", dep)
				if s := suggest(dep, sortedKeys(ids)); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				p.errorf(ref.path, ref.node, "%s", msg)
				broken = true
			}
		}
	}
	if broken {
		return
	}
	// Depth-first search with colours: grey is on the stack, black done.
	const grey, black = 1, 2
	colour := map[string]int{}
	var stack []string
	var visit func(id string) []string
	visit = func(id string) []string {
		colour[id] = grey
		stack = append(stack, id)
		for _, dep := range ids[id].DependsOn {
			switch colour[dep] {
			case grey:
				i := slices.Index(stack, dep)
				return append(append([]string(nil), stack[i:]...), dep)
			case 0:
				if c := visit(dep); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		colour[id] = black
		return nil
	}
	for _, d := range entries {
		if colour[d.Task.ID] == 0 {
			if cycle := visit(d.Task.ID); cycle != nil {
				p.errorf(path, at, "Dag tasks depend on each other in a cycle: %s", strings.Join(cycle, " → "))
				return
			}
		}
	}
}

// suggest returns the known word closest to word, or "" when none is
// close enough to be what the user meant.
func suggest(word string, known []string) string {
	best, bestDist := "", len(word)/3+2
	for _, k := range known {
		if strings.EqualFold(k, word) {
			return k
		}
		if d := editDistance(strings.ToLower(word), strings.ToLower(k), bestDist); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// suggestType returns the known type closest to typ: one whose class name
// is typ's, or whose full name is a few edits away.
func suggestType(typ string, known []string) string {
	simple := typ[strings.LastIndex(typ, ".")+1:]
	var bySimple []string
	for _, k := range known {
		if strings.EqualFold(k[strings.LastIndex(k, ".")+1:], simple) {
			bySimple = append(bySimple, k)
		}
	}
	if len(bySimple) > 0 {
		// Prefer the current io.kestra.plugin.core name over legacy ones.
		for _, k := range bySimple {
			if strings.HasPrefix(k, "io.kestra.plugin.") {
				return k
			}
		}
		return bySimple[0]
	}
	best, bestDist := "", len(typ)/5+2
	for _, k := range known {
		if d := editDistance(typ, k, bestDist); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, or limit when it
// is at least limit.
func editDistance(a, b string, limit int) int {
	if len(a)-len(b) >= limit || len(b)-len(a) >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

// subflowTypes are the executable task types that start a flow.
var subflowTypes = []string{"io.kestra.plugin.core.flow.Subflow", "io.kestra.plugin.core.flow.Flow",
	"io.kestra.core.tasks.flows.Subflow", "io.kestra.core.tasks.flows.Flow"}

// checkRecursion refuses a Subflow that starts its own flow (written as
// literal ids), as Kestra's FlowValidator does: each run would start
// another, without end.
func (p *parser) checkRecursion(f *Flow, canon func(string) string) {
	for _, t := range p.tasks {
		if !slices.Contains(subflowTypes, t.Type) && !slices.Contains(subflowTypes, canon(t.Type)) {
			continue
		}
		ns, _ := t.Props["namespace"].(string)
		id, _ := t.Props["flowId"].(string)
		if ns == f.Namespace && id == f.ID {
			p.add(&Error{Path: t.Path, Line: t.Pos.Line, Column: t.Pos.Column,
				Message: fmt.Sprintf("Recursive call to flow [%s.%s]: task %q starts the flow it belongs to", f.Namespace, f.ID, t.ID)})
		}
	}
}

// Suggest returns the word of known closest to word (a few edits away, or
// equal but for case), or "" when none is close: the "did you mean" that
// type checkers outside this package give for unknown property names.
func Suggest(word string, known []string) string { return suggest(word, known) }
