package flow

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dlclark/regexp2"
	"github.com/ospreyhq/osprey/internal/ordered"
	"go.yaml.in/yaml/v3"
)

// Identifier patterns, as Kestra's model validates them (whole-string
// matches).
var (
	flowIDRE  = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)
	taskIDRE  = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`)
	inputIDRE = regexp.MustCompile(`^[a-zA-Z0-9][.a-zA-Z0-9_-]*$`)
	tenantRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
)

// flowKeys are the top-level keys a flow may have; listeners and
// taskDefaults are Kestra's legacy names.
var flowKeys = []string{
	"id", "namespace", "revision", "tenantId", "description", "labels", "inputs", "variables",
	"tasks", "errors", "finally", "afterExecution", "outputs", "triggers", "pluginDefaults",
	"taskDefaults", "listeners", "concurrency", "retry", "disabled", "deleted", "workerGroup",
	"sla", "checks",
}

// inputTypes are Kestra's input (and output) types.
var inputTypes = []string{
	"STRING", "ENUM", "SELECT", "MULTISELECT", "INT", "FLOAT", "BOOLEAN", "BOOL", "DATETIME",
	"DATE", "TIME", "DURATION", "FILE", "JSON", "YAML", "URI", "EMAIL", "ARRAY", "SECRET",
}

func (p *parser) flow(root *yaml.Node) *Flow {
	f := &Flow{}
	root = p.deref(root)
	if root == nil {
		return f
	}
	if root.Kind != yaml.MappingNode {
		p.errorf("", root, "a flow must be a YAML mapping with id, namespace and tasks, not %s", aKind(root))
		return f
	}
	var idN, nsN, tasksN *yaml.Node
	for _, kv := range p.pairs("", root) {
		v := p.deref(kv.Value)
		if v == nil {
			continue
		}
		path := kv.Key
		switch kv.Key {
		case "id":
			idN = kv.KeyN
			f.ID = p.str(path, kv.KeyN, v)
		case "namespace":
			nsN = kv.KeyN
			f.Namespace = p.str(path, kv.KeyN, v)
		case "revision":
			// Kestra ignores a revision in the source.
		case "listeners":
			p.listeners(path, kv.KeyN, v, f)
		case "tenantId":
			if f.TenantID = p.str(path, kv.KeyN, v); f.TenantID != "" && !tenantRE.MatchString(f.TenantID) {
				p.errorf(path, kv.KeyN, "tenantId %q must match %s", f.TenantID, tenantRE)
			}
		case "description":
			f.Description = p.str(path, kv.KeyN, v)
		case "labels":
			f.Labels = p.labels(path, kv.KeyN, v)
		case "inputs":
			f.Inputs = p.inputs(path, kv.KeyN, v)
		case "variables":
			f.Variables = p.orderedMapping(path, kv.KeyN, v)
		case "tasks":
			tasksN = kv.KeyN
			f.Tasks = p.taskList(path, kv.KeyN, v)
		case "errors":
			f.Errors = p.taskList(path, kv.KeyN, v)
		case "finally":
			f.Finally = p.taskList(path, kv.KeyN, v)
		case "afterExecution":
			f.AfterExecution = p.taskList(path, kv.KeyN, v)
		case "outputs":
			f.Outputs = p.outputs(path, kv.KeyN, v)
		case "triggers":
			f.Triggers = p.triggers(path, kv.KeyN, v)
		case "pluginDefaults", "taskDefaults":
			f.PluginDefaults = append(f.PluginDefaults, p.pluginDefaults(path, kv.KeyN, v)...)
		case "concurrency":
			f.Concurrency = p.concurrency(path, kv.KeyN, v)
		case "retry":
			f.Retry = p.retry(path, kv.KeyN, v, "", nil)
		case "disabled":
			f.Disabled = p.boolean(path, kv.KeyN, v)
		case "deleted":
			f.Deleted = p.boolean(path, kv.KeyN, v)
		case "sla":
			f.SLA = p.slas(path, kv.KeyN, v)
		case "checks":
			f.Checks = p.checks(path, kv.KeyN, v)
		case "workerGroup":
			// Accepted as Kestra does; worker groups are Kestra
			// Enterprise's. The value stays in Source.
			p.value(path, "", v, nil, 0)
		default:
			p.unknownKey("", kv.KeyN, kv.Key, flowKeys, "flow")
		}
	}
	switch {
	case idN == nil:
		p.errorf("id", root, "a flow needs an id")
	case f.ID == "":
		p.errorf("id", idN, "the flow id must not be empty")
	case len(f.ID) > 100:
		p.errorf("id", idN, "the flow id is %d characters; the limit is 100", len(f.ID))
	case !flowIDRE.MatchString(f.ID):
		p.errorf("id", idN, "flow id %q must start with a letter or digit and hold only letters, digits, '.', '_' and '-'", f.ID)
	}
	switch {
	case nsN == nil:
		p.errorf("namespace", root, "a flow needs a namespace")
	default:
		if err := CheckNamespace(f.Namespace); err != nil {
			p.errorf("namespace", nsN, "%s", err.Error())
		}
	}
	switch {
	case tasksN == nil:
		p.errorf("tasks", root, "a flow needs at least one task under tasks")
	case len(f.Tasks) == 0 && !p.hasErrorUnder("tasks"):
		p.errorf("tasks", tasksN, "a flow needs at least one task under tasks")
	}
	p.checkFlow(f)
	return f
}

func (p *parser) hasErrorUnder(path string) bool {
	for _, e := range p.errs {
		if e.Path == path || strings.HasPrefix(e.Path, path+"[") || strings.HasPrefix(e.Path, path+".") {
			return true
		}
	}
	return false
}

// unknownKey reports a key of the mapping at parent that nothing reads,
// with the closest known key.
func (p *parser) unknownKey(parent string, keyN *yaml.Node, key string, known []string, what string) {
	msg := fmt.Sprintf("unknown %s property %q", what, key)
	if s := suggest(key, known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	p.errorf(joinKey(parent, key), keyN, "%s", msg)
}

// str reads a scalar as a string; numbers and booleans are taken as their
// text, as Jackson does.
func (p *parser) str(path string, at, v *yaml.Node) string {
	if v.Kind != yaml.ScalarNode {
		p.errorf(path, at, "%s must be a string, not %s", pathLeaf(path), aKind(v))
		return ""
	}
	return scalarText(v)
}

// boolean reads true or false; Jackson also takes the strings "true" and
// "false".
func (p *parser) boolean(path string, at, v *yaml.Node) bool {
	if v.Kind == yaml.ScalarNode {
		switch b := scalarValue(v).(type) {
		case bool:
			return b
		case nil:
			return false
		case string:
			if b == "true" || b == "false" {
				return b == "true"
			}
		}
	}
	p.errorf(path, at, "%s must be a boolean (true or false), not %s", pathLeaf(path), describeNode(v))
	return false
}

// integer reads an integer; Jackson also takes its decimal text.
func (p *parser) integer(path string, at, v *yaml.Node) (int, bool) {
	if v.Kind == yaml.ScalarNode {
		switch n := scalarValue(v).(type) {
		case int:
			return n, true
		case string:
			if i, err := strconv.Atoi(strings.TrimSpace(n)); err == nil {
				return i, true
			}
		}
	}
	p.errorf(path, at, "%s must be an integer, not %s", pathLeaf(path), describeNode(v))
	return 0, false
}

// mapping reads a mapping into plain values; null is no mapping. The top
// level is a Go map (its consumers look keys up); nested mappings keep
// their order.
func (p *parser) mapping(path string, at, v *yaml.Node) map[string]any {
	return p.mappingAt(path, at, v, "", nil)
}

// orderedMapping is mapping keeping the top level's order too.
func (p *parser) orderedMapping(path string, at, v *yaml.Node) *ordered.Map {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		p.errorf(path, at, "%s must be a mapping, not %s", pathLeaf(path), aKind(v))
		return nil
	}
	m, _ := p.value(path, "", v, nil, 1).(*ordered.Map)
	return m
}

// mappingAt is mapping recording the positions of its entries in pos under
// rel.
func (p *parser) mappingAt(path string, at, v *yaml.Node, rel string, pos map[string]Position) map[string]any {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		p.errorf(path, at, "%s must be a mapping, not %s", pathLeaf(path), aKind(v))
		return nil
	}
	m, _ := p.value(path, rel, v, pos, 1).(*ordered.Map)
	if m == nil {
		return nil
	}
	return m.Plain()
}

// list checks that v is a list and returns its items; null is an empty
// list.
func (p *parser) list(path string, at, v *yaml.Node) []*yaml.Node {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		p.errorf(path, at, "%s must be a list, not %s", pathLeaf(path), aKind(v))
		return nil
	}
	return v.Content
}

// listItem is one mapping of a list: its path, the node as written (an
// alias keeps its own position) and the mapping it resolves to.
type listItem struct {
	path     string
	at, node *yaml.Node
}

// mappings returns the items of the list v that are mappings; any other
// item is reported as "<what>, not <kind>" and skipped, a null one
// silently.
func (p *parser) mappings(path string, at, v *yaml.Node, what string) []listItem {
	var out []listItem
	for i, item := range p.list(path, at, v) {
		ipath := joinIndex(path, i)
		node := p.deref(item)
		if node == nil {
			continue
		}
		if node.Kind != yaml.MappingNode {
			p.errorf(ipath, node, "%s, not %s", what, aKind(node))
			continue
		}
		out = append(out, listItem{path: ipath, at: item, node: node})
	}
	return out
}

// labels reads a map of labels or Kestra's list of {key, value}.
func (p *parser) labels(path string, at, v *yaml.Node) []Label {
	var out []Label
	switch v.Kind {
	case yaml.MappingNode:
		for _, kv := range p.pairs(path, v) {
			val := p.deref(kv.Value)
			if val == nil {
				continue
			}
			if val.Kind != yaml.ScalarNode {
				p.errorf(joinKey(path, kv.Key), kv.KeyN, "label %q must have a plain value, not %s", kv.Key, aKind(val))
				continue
			}
			out = append(out, Label{Key: kv.Key, Value: scalarText(val)})
			p.checkSystemLabel(joinKey(path, kv.Key), kv.KeyN, out[len(out)-1])
		}
	case yaml.SequenceNode:
		for i, item := range v.Content {
			ipath := joinIndex(path, i)
			if item = p.deref(item); item == nil {
				continue
			}
			if item.Kind != yaml.MappingNode {
				p.errorf(ipath, item, "a label must be a mapping with key and value, not %s", aKind(item))
				continue
			}
			var l Label
			var hasKey bool
			for _, kv := range p.pairs(ipath, item) {
				val := p.deref(kv.Value)
				if val == nil {
					continue
				}
				switch kv.Key {
				case "key":
					l.Key, hasKey = p.str(joinKey(ipath, "key"), kv.KeyN, val), true
				case "value":
					l.Value = p.str(joinKey(ipath, "value"), kv.KeyN, val)
				default:
					p.unknownKey(ipath, kv.KeyN, kv.Key, []string{"key", "value"}, "label")
				}
			}
			if !hasKey || l.Key == "" {
				p.errorf(ipath, item, "a label needs a key")
				continue
			}
			out = append(out, l)
			p.checkSystemLabel(ipath, item, l)
		}
	default:
		if v.ShortTag() != "!!null" {
			p.errorf(path, at, "labels must be a mapping or a list of {key, value}, not %s", aKind(v))
		}
	}
	return out
}

func (p *parser) inputs(path string, at, v *yaml.Node) []*Input {
	var out []*Input
	seen := map[string]string{}
	for _, li := range p.mappings(path, at, v, "an input must be a mapping with id and type") {
		ipath, item := li.path, li.node
		in := &Input{Pos: nodePos(item), Props: map[string]any{}}
		var idN, typeN *yaml.Node
		for _, kv := range p.pairs(ipath, item) {
			val := p.deref(kv.Value)
			if val == nil {
				continue
			}
			kpath := joinKey(ipath, kv.Key)
			switch kv.Key {
			case "id":
				in.ID, idN = p.str(kpath, kv.KeyN, val), kv.KeyN
			case "name": // Kestra's legacy name for id
				if idN == nil {
					in.ID, idN = p.str(kpath, kv.KeyN, val), kv.KeyN
				}
			case "type":
				in.Type, typeN = p.str(kpath, kv.KeyN, val), kv.KeyN
			case "description":
				in.Description = p.str(kpath, kv.KeyN, val)
			case "displayName":
				in.DisplayName = p.str(kpath, kv.KeyN, val)
			case "required":
				if val.ShortTag() != "!!null" {
					b := p.boolean(kpath, kv.KeyN, val)
					in.Required = &b
				}
			case "defaults":
				in.Defaults = p.value(kpath, "", val, nil, 1)
			default:
				in.Props[kv.Key] = p.value(kpath, "", val, nil, 1)
			}
		}
		p.checkItemID("an input", "input", ipath, item, idN, in.ID, inputIDRE, "'.', '_' and '-'", seen)
		in.Type = p.valueType(joinKey(ipath, "type"), item, typeN, in.Type, "input")
		p.checkInputProps(ipath, item, in)
		out = append(out, in)
	}
	return out
}

// valueType checks an input or output type; Kestra's enum is upper case,
// and a lower-case spelling is taken as the same type.
func (p *parser) valueType(path string, owner, typeN *yaml.Node, typ, what string) string {
	if typeN != nil && typ == "" && p.hasErrorUnder(path) {
		return typ
	}
	if typeN == nil || typ == "" {
		p.errorf(path, owner, "an %s needs a type, one of %s", what, strings.Join(inputTypes, ", "))
		return typ
	}
	up := strings.ToUpper(typ)
	for _, t := range inputTypes {
		if t == up {
			return up
		}
	}
	msg := fmt.Sprintf("unknown %s type %q", what, typ)
	if s := suggest(up, inputTypes); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += "; use one of " + strings.Join(inputTypes, ", ")
	}
	p.errorf(path, typeN, "%s", msg)
	return typ
}

func (p *parser) outputs(path string, at, v *yaml.Node) []*Output {
	var out []*Output
	seen := map[string]string{}
	for _, li := range p.mappings(path, at, v, "an output must be a mapping with id, type and value") {
		ipath, item := li.path, li.node
		o := &Output{Pos: nodePos(item)}
		var idN, typeN *yaml.Node
		for _, kv := range p.pairs(ipath, item) {
			val := p.deref(kv.Value)
			if val == nil {
				continue
			}
			kpath := joinKey(ipath, kv.Key)
			switch kv.Key {
			case "id":
				o.ID, idN = p.str(kpath, kv.KeyN, val), kv.KeyN
			case "type":
				o.Type, typeN = p.str(kpath, kv.KeyN, val), kv.KeyN
			case "value":
				o.Value = p.value(kpath, "", val, nil, 1)
			case "description":
				o.Description = p.str(kpath, kv.KeyN, val)
			case "displayName":
				p.str(kpath, kv.KeyN, val)
			case "required":
				b := p.boolean(kpath, kv.KeyN, val)
				o.Required = &b
			default:
				p.unknownKey(ipath, kv.KeyN, kv.Key, []string{"id", "type", "value", "description", "displayName", "required"}, "output")
			}
		}
		p.checkItemID("an output", "output", ipath, item, idN, o.ID, inputIDRE, "'.', '_' and '-'", seen)
		o.Type = p.valueType(joinKey(ipath, "type"), item, typeN, o.Type, "output")
		out = append(out, o)
	}
	return out
}

func (p *parser) pluginDefaults(path string, at, v *yaml.Node) []*PluginDefault {
	var out []*PluginDefault
	for _, li := range p.mappings(path, at, v, "a plugin default must be a mapping with type and values") {
		ipath, item := li.path, li.node
		d := &PluginDefault{}
		for _, kv := range p.pairs(ipath, item) {
			val := p.deref(kv.Value)
			if val == nil {
				continue
			}
			kpath := joinKey(ipath, kv.Key)
			switch kv.Key {
			case "type":
				d.Type = p.str(kpath, kv.KeyN, val)
			case "forced":
				d.Forced = p.boolean(kpath, kv.KeyN, val)
			case "values":
				d.Values = p.mapping(kpath, kv.KeyN, val)
			default:
				p.unknownKey(ipath, kv.KeyN, kv.Key, []string{"type", "forced", "values"}, "plugin default")
			}
		}
		if d.Type == "" {
			p.errorf(ipath, item, "a plugin default needs a type")
		}
		out = append(out, d)
	}
	return out
}

func (p *parser) concurrency(path string, at, v *yaml.Node) *Concurrency {
	if v.Kind != yaml.MappingNode {
		p.errorf(path, at, "concurrency must be a mapping with limit and behavior, not %s", aKind(v))
		return nil
	}
	c := &Concurrency{Behavior: "QUEUE"}
	var hasLimit bool
	for _, kv := range p.pairs(path, v) {
		val := p.deref(kv.Value)
		if val == nil {
			continue
		}
		kpath := joinKey(path, kv.Key)
		switch kv.Key {
		case "limit":
			n, ok := p.integer(kpath, kv.KeyN, val)
			hasLimit = ok
			if ok && n < 1 {
				p.errorf(kpath, kv.KeyN, "the concurrency limit must be at least 1, not %d", n)
			}
			c.Limit = n
		case "behavior":
			c.Behavior = strings.ToUpper(p.str(kpath, kv.KeyN, val))
			if c.Behavior != "QUEUE" && c.Behavior != "CANCEL" && c.Behavior != "FAIL" {
				p.errorf(kpath, kv.KeyN, "concurrency behavior %q must be QUEUE, CANCEL or FAIL", val.Value)
			}
		default:
			p.unknownKey(path, kv.KeyN, kv.Key, []string{"limit", "behavior"}, "concurrency")
		}
	}
	if !hasLimit && !p.hasErrorUnder(path+".limit") {
		p.errorf(path, at, "concurrency needs a limit")
	}
	return c
}

// describeNode names a value for an error message: its text when short.
func describeNode(v *yaml.Node) string {
	if v.Kind == yaml.ScalarNode && len(v.Value) <= 40 {
		return fmt.Sprintf("%s %q", aKind(v), v.Value)
	}
	return aKind(v)
}

// pathLeaf is the last key of a path, for messages.
func pathLeaf(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		name := strings.TrimRight(path[i+1:], "]")
		if _, err := strconv.Atoi(name); err == nil {
			return path[strings.LastIndexAny(path[:i], ".[")+1:]
		}
		if uq, err := strconv.Unquote(name); err == nil {
			return uq
		}
		return name
	}
	return path
}

// checkInputProps checks the properties Kestra's input types cannot do
// without, and refuses what Kestra refuses when a flow is saved: the choices
// of ENUM, SELECT and MULTISELECT, the item type of ARRAY (never ARRAY
// itself), no defaults for FILE, a validator that compiles.
func (p *parser) checkInputProps(path string, item *yaml.Node, in *Input) {
	switch in.Type {
	case "ENUM", "SELECT", "MULTISELECT":
		_, hasValues := in.Props["values"]
		_, hasExpr := in.Props["expression"]
		_, hasOptions := in.Props["options"] // MULTISELECT's legacy name
		if !hasValues && !hasExpr && !hasOptions {
			p.errorf(path, item, "%s input %q needs values to choose from", in.Type, in.ID)
		} else if v, ok := in.Props["values"]; ok {
			if _, isList := v.([]any); !isList && !isExpression(v) {
				p.errorf(joinKey(path, "values"), keyNode(item, "values"), "values of input %q must be a list", in.ID)
			}
		}
	case "ARRAY":
		it, ok := in.Props["itemType"].(string)
		switch {
		case !ok:
			p.errorf(path, item, "ARRAY input %q needs an itemType, one of %s", in.ID, strings.Join(inputTypes, ", "))
		case !slices.Contains(inputTypes, strings.ToUpper(it)):
			p.errorf(joinKey(path, "itemType"), keyNode(item, "itemType"), "unknown itemType %q for input %q", it, in.ID)
		case strings.EqualFold(it, "ARRAY"):
			p.errorf(joinKey(path, "itemType"), keyNode(item, "itemType"), "itemType of input %q cannot be ARRAY: use JSON for nested lists", in.ID)
		}
	case "FILE":
		if in.Defaults != nil {
			p.errorf(joinKey(path, "defaults"), keyNode(item, "defaults"), "FILE input %q cannot have defaults", in.ID)
		}
	}
	if v, ok := in.Props["validator"].(string); ok && !isExpression(v) {
		if _, err := regexp2.Compile(v, regexp2.None); err != nil { // Java-style, as input validators are
			p.errorf(joinKey(path, "validator"), keyNode(item, "validator"), "validator of input %q is not a valid regular expression: %v", in.ID, err)
		}
	}
}

// keyNode returns the key node of key in mapping m, or m itself.
func keyNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return m
}

// checkItemID checks the id of a list item (input, output, trigger): it is
// present, well formed and not already used (seen maps ids to paths).
func (p *parser) checkItemID(article, kind, ipath string, item, idN *yaml.Node, id string, re *regexp.Regexp, extra string, seen map[string]string) {
	switch {
	case idN == nil || id == "" && !p.hasErrorUnder(joinKey(ipath, "id")):
		p.errorf(ipath, item, "%s needs an id", article)
	case id == "":
	case !re.MatchString(id):
		p.errorf(joinKey(ipath, "id"), idN, "%s id %q must start with a letter or digit and hold only letters, digits, %s", kind, id, extra)
	case seen[id] != "":
		p.errorf(joinKey(ipath, "id"), idN, "duplicate %s id %q (also at %s)", kind, id, seen[id])
	default:
		seen[id] = ipath
	}
}

// listeners checks Kestra's legacy flow listeners as Kestra 0.21 did (every
// listener has tasks, of known types) and records that they will not run:
// Kestra removed them in 2025.1; a Flow trigger or afterExecution does the
// same work.
func (p *parser) listeners(path string, at, v *yaml.Node, f *Flow) {
	items := p.list(path, at, v)
	for i, item := range items {
		lpath := joinIndex(path, i)
		n := p.deref(item)
		if n == nil || n.Kind != yaml.MappingNode {
			p.errorf(lpath, item, "a listener must be a mapping with conditions and tasks, not %s", aKind(n))
			continue
		}
		var tasksN, tasksKey *yaml.Node
		for _, kv := range p.pairs(lpath, n) {
			switch kv.Key {
			case "tasks":
				tasksN, tasksKey = p.deref(kv.Value), kv.KeyN
			case "conditions", "description":
				p.value(joinKey(lpath, kv.Key), "", kv.Value, nil, 0)
			default:
				p.unknownKey(lpath, kv.KeyN, kv.Key, []string{"conditions", "description", "tasks"}, "listener")
			}
		}
		if tasksN == nil || (tasksN.Kind == yaml.SequenceNode && len(tasksN.Content) == 0) || isNull(tasksN) {
			p.errorf(joinKey(lpath, "tasks"), orNode(tasksKey, item), "a listener needs at least one task under tasks")
			continue
		}
		p.taskList(joinKey(lpath, "tasks"), tasksKey, tasksN)
	}
	if len(items) > 0 {
		f.Warnings = append(f.Warnings, "listeners are ignored: Kestra removed flow listeners in 2025.1 and Osprey does not run them; "+
			"move their tasks to afterExecution, or to a flow with a Flow trigger")
	}
}

func orNode(a, b *yaml.Node) *yaml.Node {
	if a != nil {
		return a
	}
	return b
}

// System labels are Kestra's own (system.correlationId, system.username,
// …); a flow may set only system.readOnly (Kestra's FlowValidator).
const (
	systemLabelPrefix = "system."
	readOnlyLabel     = "system.readOnly"
)

func (p *parser) checkSystemLabel(path string, at *yaml.Node, l Label) {
	if strings.HasPrefix(l.Key, systemLabelPrefix) && l.Key != readOnlyLabel {
		p.errorf(path, at, "System labels can only be set by Kestra itself, offending label: %s=%s", l.Key, l.Value)
	}
}
