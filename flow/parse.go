package flow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
	"github.com/ospreyhq/osprey/internal/ordered"
	"go.yaml.in/yaml/v3"
)

// MaxSourceSize bounds the flow sources Parse accepts. Kestra flows are a
// few kilobytes; a megabyte leaves room for generous ones while keeping a
// hostile request from costing more than a few milliseconds.
const MaxSourceSize = 1 << 20

const (
	// maxAliasExpansion bounds how many nodes YAML aliases may add to a
	// document, so that a "billion laughs" source stays cheap.
	maxAliasExpansion = 100_000
	// maxDepth bounds nesting, so that recursion stays shallow.
	maxDepth = 256
	// maxTaskDepth bounds how deep tasks nest in flowable tasks; real
	// flows stay under ten levels.
	maxTaskDepth = 64
	// maxErrors bounds the problems collected from one source: past it,
	// more errors only repeat the same mistake.
	maxErrors = 100
)

// ParseOptions tunes Parse.
type ParseOptions struct {
	// Types checks task and trigger types and their specific properties.
	// When nil, Parse checks the structure Kestra gives every flow and
	// leaves type names and type-specific properties unchecked.
	Types TypeChecker
}

// TypeChecker knows task and trigger types and the properties each takes.
// It is declared here, where it is consumed, and implemented next to the
// task types so that flow stays a leaf package.
//
// CheckTask and CheckTrigger are called only for types Known accepts, after
// the task's or trigger's own structure has been parsed. The errors they
// return may leave Line and Column zero and give Path relative to the task or
// trigger ("message", "retry.maxAttempt", "commands[1]"): Parse then prefixes
// the task's path and fills the position from the source. A TypeChecker must
// be safe for concurrent use; Parse never modifies it.
type TypeChecker interface {
	CheckTask(t *Task) []*Error
	CheckTrigger(t *Trigger) []*Error
	Known(typ string) bool
}

// TypeLister is an optional interface of a TypeChecker: when implemented,
// an unknown type is reported with the closest known one as a suggestion.
type TypeLister interface {
	Types() []string
}

// Parse reads a Kestra flow from YAML and checks it. It returns the flow and
// nil, or a nil flow and Errors listing every problem found (up to a
// hundred), in source order, each with its path and 1-based position.
// Parse never panics, whatever src holds, and bounds its work: sources over
// MaxSourceSize, alias expansion and nesting are refused.
//
// Parse checks what Kestra checks of every flow: YAML syntax, one mapping
// document, id, namespace and at least one task (with Kestra's patterns),
// unknown top-level keys (with a "did you mean"), unique task ids across the
// whole flow, unique input, output and trigger ids, input and output types,
// the types of the properties every task has (disabled, retry, timeout,
// runIf, logLevel, child task lists, …), labels as a map or a list of {key,
// value}, Dag dependsOn (known ids, no cycle) and Switch's value and cases.
// It accepts Kestra's legacy spellings: inputs[].name, taskDefaults,
// listeners (ignored), and numbers or booleans where a string is expected.
// Type names and type-specific properties are left to opts.Types.
//
// The flow's Source is src unchanged; every task carries its Path, Pos and
// the position of each of its properties (see Task.PosOf).
func Parse(src []byte, opts ParseOptions) (*Flow, error) {
	if len(src) > MaxSourceSize {
		return nil, Errors{{Line: 1, Column: 1, Message: fmt.Sprintf(
			"flow source is %d bytes; the limit is %d bytes", len(src), MaxSourceSize)}}
	}
	if err := CheckShape(src); err != nil {
		return nil, err
	}
	root, err := decodeYAML(src)
	if err != nil {
		return nil, Errors{err}
	}
	p := &parser{types: opts.Types, sizes: map[*yaml.Node]int{}}
	f := p.flow(root)
	if len(p.errs) > 0 {
		return nil, p.sorted()
	}
	f.Source = string(src)
	return f, nil
}

// decodeYAML parses src into its single document's top node.
func decodeYAML(src []byte) (root *yaml.Node, perr *Error) {
	defer func() {
		if r := recover(); r != nil {
			root, perr = nil, &Error{Line: 1, Column: 1, Message: fmt.Sprintf("invalid YAML: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Line: 1, Column: 1, Message: "the flow source is empty"}
		}
		return nil, syntaxError(src, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(src, err)
	default:
		return nil, &Error{Line: max(next.Line, 1), Column: max(next.Column, 1),
			Message: "a flow source holds one YAML document; remove the second one"}
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, &Error{Line: 1, Column: 1, Message: "the flow source is empty"}
		}
		return doc.Content[0], nil
	}
	return &doc, nil
}

var (
	yamlLineRE   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlAnchorRE = regexp.MustCompile(`unknown anchor '(.*)' referenced`)
)

// syntaxError turns a YAML parser error into an Error. go.yaml.in/yaml
// reports the line of the enclosing construct, not of the problem, so the
// position and wording come from goccy/go-yaml's parser when it fails too:
// it points at the offending token.
func syntaxError(src []byte, err error) *Error {
	if l, c, msg, ok := goccySyntaxError(src); ok {
		return &Error{Line: l, Column: c, Message: "invalid YAML: " + msg}
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line, col := 1, 1
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		col = firstColumn(src, line)
	} else if m := yamlAnchorRE.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(src, []byte("*"+m[1])); i >= 0 {
			line = bytes.Count(src[:i], []byte("\n")) + 1
			col = i - bytes.LastIndexByte(src[:i], '\n')
		}
	}
	return &Error{Line: line, Column: col, Message: "invalid YAML: " + msg}
}

func goccySyntaxError(src []byte) (line, col int, msg string, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_, err := goccyparser.ParseBytes(src, 0)
	var se *goccy.SyntaxError
	if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil || se.Token.Position.Line < 1 {
		return 0, 0, "", false
	}
	return se.Token.Position.Line, max(se.Token.Position.Column, 1), se.Message, true
}

func firstColumn(src []byte, line int) int {
	lines := bytes.Split(src, []byte("\n"))
	if line < 1 || line > len(lines) {
		return 1
	}
	l := lines[line-1]
	return len(l) - len(bytes.TrimLeft(l, " \t")) + 1
}

// parser walks a YAML tree into a Flow, collecting errors on the way.
type parser struct {
	types    TypeChecker
	errs     Errors
	sizes    map[*yaml.Node]int // subtree sizes of alias targets
	expanded int                // nodes added by aliases so far
	tooBig   bool
	tasks    []*Task // every task, in source order
	depth    int     // task nesting
	dropped  int     // errors past maxErrors
}

func (p *parser) errorf(path string, n *yaml.Node, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	p.add(&Error{Path: path, Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) add(e *Error) {
	if len(p.errs) >= maxErrors {
		p.dropped++
		return
	}
	p.errs = append(p.errs, e)
}

// sorted returns the errors in source order, without duplicates.
func (p *parser) sorted() Errors {
	es := slices.Clone(p.errs)
	slices.SortStableFunc(es, func(a, b *Error) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	es = slices.CompactFunc(es, func(a, b *Error) bool { return *a == *b })
	if p.dropped > 0 {
		last := es[len(es)-1]
		es = append(es, &Error{Line: last.Line, Column: last.Column,
			Message: fmt.Sprintf("%d more problems not shown; fix the ones above first", p.dropped)})
	}
	return es
}

// deref follows an alias, charging the nodes it brings in against the
// expansion budget; it returns nil once the budget is spent or the alias
// contains itself.
func (p *parser) deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		if p.tooBig {
			return nil
		}
		size := p.size(n.Alias, 0)
		p.expanded += size
		switch {
		case size == sizeCycle:
			p.tooBig = true
			p.errorf("", n, "YAML alias *%s refers to a value that contains it", n.Value)
			return nil
		case size < 0 || p.expanded > maxAliasExpansion:
			p.tooBig = true
			p.errorf("", n, "YAML aliases expand to more than %d nodes", maxAliasExpansion)
			return nil
		}
		n = n.Alias
	}
	return n
}

// Sizes that are not sizes.
const (
	sizeTooBig  = -1
	sizeCycle   = -2
	sizeVisited = -3 // being counted: meeting it again is a cycle
)

// size counts the nodes of the subtree under n, aliases expanded, or
// returns sizeTooBig or sizeCycle.
func (p *parser) size(n *yaml.Node, depth int) int {
	if n == nil {
		return 0
	}
	if s, ok := p.sizes[n]; ok {
		if s == sizeVisited {
			return sizeCycle
		}
		return s
	}
	if depth > maxDepth {
		return sizeTooBig
	}
	p.sizes[n] = sizeVisited
	total := 1
	children := n.Content
	if n.Kind == yaml.AliasNode {
		children = []*yaml.Node{n.Alias}
	}
	for _, c := range children {
		s := p.size(c, depth+1)
		if s < 0 {
			total = s
			break
		}
		if total += s; total > maxAliasExpansion {
			total = sizeTooBig
			break
		}
	}
	p.sizes[n] = total
	return total
}

// yamlPair is one entry of a YAML mapping, merge keys resolved.
type yamlPair struct {
	Key   string
	KeyN  *yaml.Node
	Value *yaml.Node
}

// pairs lists the entries of mapping n in source order. Merge keys (<<) are
// resolved the YAML way: explicit keys win over merged ones. Duplicate and
// non-scalar keys are reported.
func (p *parser) pairs(path string, n *yaml.Node) []yamlPair {
	var out []yamlPair
	seen := map[string]bool{}
	var merged []yamlPair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merged = append(merged, p.mergeSource(path, v)...)
			continue
		}
		k = p.deref(k)
		if k == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.errorf(path, n.Content[i], "mapping keys must be plain values, not %s", aKind(k))
			continue
		}
		if seen[k.Value] {
			p.errorf(joinKey(path, k.Value), n.Content[i], "duplicate key %q", k.Value)
			continue
		}
		seen[k.Value] = true
		out = append(out, yamlPair{Key: k.Value, KeyN: n.Content[i], Value: v})
	}
	for _, m := range merged {
		if !seen[m.Key] {
			seen[m.Key] = true
			out = append(out, m)
		}
	}
	return out
}

func (p *parser) mergeSource(path string, v *yaml.Node) []yamlPair {
	v = p.deref(v)
	switch {
	case v == nil:
		return nil
	case v.Kind == yaml.MappingNode:
		return p.pairs(path, v)
	case v.Kind == yaml.SequenceNode:
		var out []yamlPair
		for _, item := range v.Content {
			if item = p.deref(item); item != nil && item.Kind == yaml.MappingNode {
				out = append(out, p.pairs(path, item)...)
			}
		}
		return out
	}
	p.errorf(path, v, "a merge key (<<) takes a mapping or a list of mappings")
	return nil
}

// value converts a YAML node into plain Go values: *ordered.Map (a mapping
// keeps its keys in the order written, as Kestra's Jackson reads YAML into
// a LinkedHashMap), []any, string, int, float64, bool and nil. pos, when
// not nil, receives the position of every nested entry under its path
// relative to rel.
func (p *parser) value(path, rel string, n *yaml.Node, pos map[string]Position, depth int) any {
	if depth > maxDepth {
		p.errorf(path, n, "nesting deeper than %d levels", maxDepth)
		return nil
	}
	n = p.deref(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := ordered.New(len(n.Content) / 2)
		for _, kv := range p.pairs(path, n) {
			r := joinKey(rel, kv.Key)
			if pos != nil {
				pos[r] = nodePos(kv.KeyN)
			}
			m.Set(kv.Key, p.value(joinKey(path, kv.Key), r, kv.Value, pos, depth+1))
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, item := range n.Content {
			r := joinIndex(rel, i)
			if pos != nil {
				pos[r] = nodePos(item)
			}
			s[i] = p.value(joinIndex(path, i), r, item, pos, depth+1)
		}
		return s
	case yaml.ScalarNode:
		return scalarValue(n)
	}
	return nil
}

// scalarValue converts a scalar node, keeping integers and floats apart. Dates
// and other tagged scalars stay strings, as Kestra's Jackson keeps them.
func scalarValue(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return int(i)
		}
		var v any
		if n.Decode(&v) == nil {
			switch v := v.(type) {
			case int:
				return v
			case int64:
				return int(v)
			case uint64:
				return float64(v)
			case float64:
				return v
			}
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil {
			return f
		}
	}
	return n.Value
}

// scalarText renders a scalar as Kestra's Jackson does when it reads a number or
// a boolean into a string property.
func scalarText(n *yaml.Node) string {
	if n.ShortTag() == "!!null" {
		return ""
	}
	return n.Value
}

func nodePos(n *yaml.Node) Position {
	if n == nil || n.Line == 0 {
		return Position{Line: 1, Column: 1}
	}
	return Position{Line: n.Line, Column: n.Column}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "boolean"
		case "!!int":
			return "integer"
		case "!!float":
			return "number"
		}
		return "string"
	}
	return "value"
}

// aKind names a node's kind with its article, for messages.
func aKind(n *yaml.Node) string {
	k := kindName(n)
	if k == "integer" {
		return "an integer"
	}
	return "a " + k
}

// isPlainKey reports whether key reads unambiguously in a dotted path:
// ^[A-Za-z_$][A-Za-z0-9_$-]*$.
func isPlainKey(key string) bool {
	for i, c := range []byte(key) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '$':
		case i > 0 && (c >= '0' && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return key != ""
}

// joinKey appends a mapping key to a path: "tasks[0]" + "message" →
// "tasks[0].message". Keys that are not plain names are quoted:
// values["a.b"], cases["2"].
func joinKey(path, key string) string {
	if !isPlainKey(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
