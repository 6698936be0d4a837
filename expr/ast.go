package expr

// pos is a 1-based line and column in the template source.
type pos struct{ line, col int }

// expr is a compiled expression.
type expr interface {
	eval(st *state) (any, error)
}

// stmt is a compiled template statement.
type stmt interface {
	exec(st *state) error
}

type textStmt struct{ s string }

type printStmt struct{ e expr }

type ifStmt struct {
	conds  []expr
	bodies [][]stmt
	els    []stmt
}

type forStmt struct {
	pos
	name string
	iter expr
	body []stmt
	els  []stmt
}

type setStmt struct {
	name string
	e    expr
}

type literal struct{ v any }

type varExpr struct {
	pos
	name string
}

// attrExpr is a.b or a[k]; name is the literal key when known, for messages.
type attrExpr struct {
	pos
	obj       expr
	key       expr
	name      string
	subscript bool
}

type methodExpr struct {
	pos
	obj  expr
	name string
	args argList
}

type namedArg struct {
	name string
	e    expr
}

type argList struct {
	pos   []expr
	named []namedArg
}

type callExpr struct {
	pos
	name string
	args argList
}

type filterExpr struct {
	pos
	fn    builtinFilter // resolved at parse time; nil when unknown
	name  string
	input expr
	args  argList
}

type testExpr struct {
	pos
	fn     builtinTest // resolved at parse time; nil when unknown
	name   string
	input  expr
	args   argList
	negate bool
}

type unaryExpr struct {
	pos
	op string
	x  expr
}

type binaryExpr struct {
	pos
	op   binOp
	sym  string
	l, r expr
}

type andExpr struct{ l, r expr }
type orExpr struct{ l, r expr }

// coalesceExpr is Kestra's "??" (null or undefined → right) and "???"
// (only undefined → right).
type coalesceExpr struct {
	l, r          expr
	undefinedOnly bool
}

type ternaryExpr struct {
	pos
	cond, yes, no expr
}

type listExpr struct {
	pos
	items []expr
}

type mapExpr struct {
	pos
	keys, vals []expr
}

type interpExpr struct {
	pos
	parts []expr
}

type binOp uint8

const (
	opEq binOp = iota
	opNe
	opGt
	opLt
	opGe
	opLe
	opAdd
	opSub
	opMul
	opDiv
	opMod
	opConcat
	opRange
	opContains
	opIn
	opNotIn
)

var binOps = map[string]binOp{
	"==": opEq, "equals": opEq, "!=": opNe, ">": opGt, "<": opLt, ">=": opGe, "<=": opLe,
	"+": opAdd, "-": opSub, "*": opMul, "/": opDiv, "%": opMod, "~": opConcat, "..": opRange,
	"contains": opContains, "in": opIn, "not in": opNotIn,
}

func newBinary(at pos, op string, l, r expr) expr {
	switch op {
	case "and":
		return &andExpr{l: l, r: r}
	case "or":
		return &orExpr{l: l, r: r}
	case "??":
		return &coalesceExpr{l: l, r: r}
	case "???":
		return &coalesceExpr{l: l, r: r, undefinedOnly: true}
	}
	return &binaryExpr{pos: at, op: binOps[op], sym: op, l: l, r: r}
}

// filterBlockStmt is {% filter a | b(x) %}…{% endfilter %}: the body is
// rendered to a string and passed through the chain, as Pebble does.
type filterBlockStmt struct{ e expr }

// bodyExpr renders a tag's body to a string; the filter tag's chain starts from it.
type bodyExpr struct{ body []stmt }

// macroDef is a {% macro name(a, b=default) %}…{% endmacro %}; macros belong
// to the template, so a macro may be called before the tag that defines it.
type macroDef struct {
	pos
	name     string
	params   []string
	defaults []expr // nil where the parameter has no default
	body     []stmt
}

// macroStmt is where a macro was defined: it renders nothing.
type macroStmt struct{}

// blockStmt is {% block name %}…{% endblock %}: it renders in place; the
// block("name") function renders it again.
type blockStmt struct {
	pos
	name string
}

type blockDef struct {
	pos
	name string
	body []stmt
}

// blockCallExpr is block("name"); Pebble parses it as its own expression,
// not as a function, so no function can shadow it.
type blockCallExpr struct {
	pos
	name expr
}
