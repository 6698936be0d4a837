package flow

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

var logLevels = []string{"ERROR", "WARN", "INFO", "DEBUG", "TRACE"}

// Flowable task types whose shape Parse knows: Switch's cases and Dag's
// entries are parsed into Task.Cases and Task.DagTasks.
var (
	switchTypes = []string{"io.kestra.plugin.core.flow.Switch", "io.kestra.core.tasks.flows.Switch"}
	dagTypes    = []string{"io.kestra.plugin.core.flow.Dag", "io.kestra.core.tasks.flows.Dag"}
)

// taskList reads a list of task mappings.
func (p *parser) taskList(path string, at, v *yaml.Node) []*Task {
	items := p.list(path, at, v)
	out := make([]*Task, 0, len(items))
	for i, item := range items {
		if t := p.task(joinIndex(path, i), item); t != nil {
			out = append(out, t)
		}
	}
	return out
}

// task reads one task mapping at path.
func (p *parser) task(path string, n *yaml.Node) *Task {
	at := n
	if n = p.deref(n); n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(path, at, "a task must be a mapping with id and type, not %s", aKind(n))
		return nil
	}
	if p.depth >= maxTaskDepth {
		p.errorf(path, at, "tasks nest deeper than %d levels", maxTaskDepth)
		return nil
	}
	p.depth++
	defer func() { p.depth-- }()
	t := &Task{Path: path, Pos: nodePos(at), Props: map[string]any{}, PropPos: map[string]Position{}}
	kvs := p.pairs(path, n)
	vals := make([]*yaml.Node, len(kvs)) // aliases followed once
	var idN, typeN *yaml.Node
	for i, kv := range kvs {
		v := p.deref(kv.Value)
		if vals[i] = v; v == nil {
			continue
		}
		switch kv.Key {
		case "id":
			t.ID, idN = p.str(joinKey(path, "id"), kv.KeyN, v), kv.KeyN
		case "type":
			t.Type, typeN = p.str(joinKey(path, "type"), kv.KeyN, v), kv.KeyN
		}
	}
	p.tasks = append(p.tasks, t)
	for i, kv := range kvs {
		v := vals[i]
		if v == nil {
			continue
		}
		if kv.Key != "id" && kv.Key != "type" && isNull(v) {
			// A property written as null is absent, as Kestra's
			// deserialiser reads it (`defaults: null` on a Switch).
			continue
		}
		kpath := joinKey(path, kv.Key)
		t.PropPos[joinKey("", kv.Key)] = nodePos(kv.KeyN)
		switch kv.Key {
		case "id", "type":
		case "description":
			t.Description = p.str(kpath, kv.KeyN, v)
		case "disabled":
			t.Disabled = p.boolean(kpath, kv.KeyN, v)
		case "allowFailure":
			t.AllowFailure = p.boolean(kpath, kv.KeyN, v)
		case "allowWarning":
			t.AllowWarning = p.boolean(kpath, kv.KeyN, v)
		case "runIf":
			t.RunIf = p.str(kpath, kv.KeyN, v)
		case "timeout":
			if t.Timeout = p.str(kpath, kv.KeyN, v); v.Kind == yaml.ScalarNode {
				if msg := checkDuration(scalarValue(v)); msg != "" {
					p.errorf(kpath, kv.KeyN, "timeout %s", msg)
				}
			}
		case "logLevel":
			t.LogLevel = p.str(kpath, kv.KeyN, v)
			if t.LogLevel != "" && !slices.Contains(logLevels, t.LogLevel) {
				p.errorf(kpath, kv.KeyN, "logLevel %q must be one of %s", t.LogLevel, strings.Join(logLevels, ", "))
			}
		case "logToFile":
			t.LogToFile = p.boolean(kpath, kv.KeyN, v)
		case "retry":
			t.Retry = p.retry(kpath, kv.KeyN, v, kv.Key, t.PropPos)
		case "workerGroup":
			t.WorkerGroup = p.mappingAt(kpath, kv.KeyN, v, kv.Key, t.PropPos)
		case "tasks":
			if slices.Contains(dagTypes, t.Type) || looksLikeDag(p, v) {
				t.DagTasks = p.dagTasks(kpath, kv.KeyN, v)
			} else {
				p.children(t, kv, v)
			}
		case "errors", "finally", "then", "else":
			p.children(t, kv, v)
		case "defaults":
			if isTaskList(p, v) {
				p.children(t, kv, v)
			} else {
				t.Props[kv.Key] = p.value(kpath, kv.Key, v, t.PropPos, 1)
			}
		case "cases":
			if cases, ok := p.cases(kpath, v); ok {
				t.Cases = cases
			} else {
				if slices.Contains(switchTypes, t.Type) {
					p.errorf(kpath, kv.KeyN, "cases must map each value to a list of tasks")
				}
				t.Props[kv.Key] = p.value(kpath, kv.Key, v, t.PropPos, 1)
			}
		default:
			t.Props[kv.Key] = p.value(kpath, joinKey("", kv.Key), v, t.PropPos, 1)
		}
	}
	switch {
	case idN == nil:
		msg := "a task needs an id"
		if k := closeKey(t.Props, "id"); k != "" {
			msg += fmt.Sprintf("; is %q a misspelt id?", k)
		}
		p.errorf(path, at, "%s", msg)
	case t.ID == "":
		if !p.hasErrorUnder(joinKey(path, "id")) {
			p.errorf(joinKey(path, "id"), idN, "the task id must not be empty")
		}
	case len(t.ID) > 256:
		p.errorf(joinKey(path, "id"), idN, "the task id is %d characters; the limit is 256", len(t.ID))
	case !taskIDRE.MatchString(t.ID):
		p.errorf(joinKey(path, "id"), idN, "task id %q must start with a letter or digit and hold only letters, digits, '_' and '-'", t.ID)
	}
	switch {
	case typeN == nil:
		msg := fmt.Sprintf("task %q needs a type", t.ID)
		if k := closeKey(t.Props, "type"); k != "" {
			msg += fmt.Sprintf("; is %q a misspelt type?", k)
		}
		p.errorf(path, at, "%s", msg)
	case t.Type == "":
		if !p.hasErrorUnder(joinKey(path, "type")) {
			p.errorf(joinKey(path, "type"), typeN, "the task type must not be empty")
		}
	case p.types != nil && !p.types.Known(t.Type):
		p.errorf(joinKey(path, "type"), typeN, "%s", p.unknownType("task", t.Type))
	}
	if slices.Contains(switchTypes, t.Type) {
		if _, ok := t.Props["value"]; !ok {
			p.errorf(path, at, "Switch task %q needs a value to choose a case with", t.ID)
		}
		empty := len(t.Children["defaults"]) == 0
		for _, c := range t.Cases {
			empty = empty && len(c) == 0
		}
		if empty && !p.hasErrorUnder(joinKey(path, "cases")) {
			p.errorf(path, at, "%s: No task defined, neither cases or default have any tasks", t.ID)
		}
	}
	return t
}

func (p *parser) unknownType(what, typ string) string {
	msg := fmt.Sprintf("unknown %s type %q", what, typ)
	if l, ok := p.types.(TypeLister); ok {
		if s := suggestType(typ, l.Types()); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
	}
	return msg
}

// isNull reports whether v is YAML's null (`~`, `null` or nothing).
func isNull(v *yaml.Node) bool { return v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" }

// children reads a property holding a list of tasks into t.Children.
func (p *parser) children(t *Task, kv yamlPair, v *yaml.Node) {
	kpath := joinKey(t.Path, kv.Key)
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
		return
	}
	if v.Kind != yaml.SequenceNode {
		p.errorf(kpath, kv.KeyN, "%s must be a list of tasks, not %s", kv.Key, aKind(v))
		return
	}
	if t.Children == nil {
		t.Children = map[string][]*Task{}
	}
	t.Children[kv.Key] = p.taskList(kpath, kv.KeyN, v)
}

// isTaskList reports whether v is a list whose items are all mappings, as
// Switch's defaults is.
func isTaskList(p *parser, v *yaml.Node) bool {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		return false
	}
	for _, item := range v.Content {
		if item = p.deref(item); item == nil || item.Kind != yaml.MappingNode {
			return false
		}
	}
	return true
}

// looksLikeDag reports whether v lists Dag entries ({task, dependsOn}),
// which a Dag of an unknown or misspelled type still deserves to be read as.
func looksLikeDag(p *parser, v *yaml.Node) bool {
	if !isTaskList(p, v) {
		return false
	}
	for _, item := range v.Content {
		item = p.deref(item)
		var hasTask bool
		for i := 0; i+1 < len(item.Content); i += 2 {
			switch item.Content[i].Value {
			case "task":
				hasTask = true
			case "type", "id":
				return false
			}
		}
		if !hasTask {
			return false
		}
	}
	return true
}

// cases reads Switch's cases: a mapping from value to a list of tasks.
func (p *parser) cases(path string, v *yaml.Node) (map[string][]*Task, bool) {
	if v.Kind != yaml.MappingNode {
		return nil, false
	}
	kvs := p.pairs(path, v)
	for _, kv := range kvs {
		if val := p.deref(kv.Value); val == nil || val.Kind != yaml.SequenceNode {
			return nil, false
		}
	}
	out := make(map[string][]*Task, len(kvs))
	for _, kv := range kvs {
		cpath := joinKey(path, kv.Key)
		out[kv.Key] = p.taskList(cpath, kv.KeyN, p.deref(kv.Value))
	}
	return out, true
}

// dagTasks reads Dag's entries: {task: {...}, dependsOn: [ids]}.
func (p *parser) dagTasks(path string, at, v *yaml.Node) []*DagTask {
	var out []*DagTask
	var deps [][]depRef
	for _, li := range p.mappings(path, at, v, "a Dag entry must be a mapping with task and dependsOn") {
		ipath, item := li.path, li.node
		d := &DagTask{}
		var refs []depRef
		for _, kv := range p.pairs(ipath, item) {
			val := p.deref(kv.Value)
			if val == nil {
				continue
			}
			kpath := joinKey(ipath, kv.Key)
			switch kv.Key {
			case "task":
				d.Task = p.task(kpath, kv.Value)
			case "dependsOn":
				for j, dep := range p.list(kpath, kv.KeyN, val) {
					if dep = p.deref(dep); dep == nil {
						continue
					}
					if dep.Kind != yaml.ScalarNode {
						p.errorf(joinIndex(kpath, j), dep, "dependsOn lists task ids, not %s", aKind(dep))
						continue
					}
					d.DependsOn = append(d.DependsOn, scalarText(dep))
					refs = append(refs, depRef{path: joinIndex(kpath, j), node: dep})
				}
			default:
				p.unknownKey(ipath, kv.KeyN, kv.Key, []string{"task", "dependsOn"}, "Dag entry")
			}
		}
		if d.Task == nil {
			if !p.hasErrorUnder(joinKey(ipath, "task")) {
				p.errorf(ipath, item, "a Dag entry needs a task")
			}
			continue
		}
		out = append(out, d)
		deps = append(deps, refs)
	}
	p.checkDag(path, at, out, deps)
	return out
}

// triggers reads the flow's triggers.
func (p *parser) triggers(path string, at, v *yaml.Node) []*Trigger {
	var out []*Trigger
	seen := map[string]string{}
	for _, li := range p.mappings(path, at, v, "a trigger must be a mapping with id and type") {
		ipath, item := li.path, li.node
		itemAt := li.at
		tr := &Trigger{Pos: nodePos(itemAt), Props: map[string]any{}}
		pos := map[string]Position{}
		var idN, typeN *yaml.Node
		for _, kv := range p.pairs(ipath, item) {
			val := p.deref(kv.Value)
			if val == nil {
				continue
			}
			kpath := joinKey(ipath, kv.Key)
			pos[joinKey("", kv.Key)] = nodePos(kv.KeyN)
			switch kv.Key {
			case "id":
				tr.ID, idN = p.str(kpath, kv.KeyN, val), kv.KeyN
			case "type":
				tr.Type, typeN = p.str(kpath, kv.KeyN, val), kv.KeyN
			case "description":
				tr.Description = p.str(kpath, kv.KeyN, val)
			case "disabled":
				tr.Disabled = p.boolean(kpath, kv.KeyN, val)
			default:
				tr.Props[kv.Key] = p.value(kpath, joinKey("", kv.Key), val, pos, 1)
			}
		}
		p.checkItemID("a trigger", "trigger", ipath, itemAt, idN, tr.ID, taskIDRE, "'_' and '-'", seen)
		switch {
		case typeN == nil || tr.Type == "" && !p.hasErrorUnder(joinKey(ipath, "type")):
			p.errorf(ipath, itemAt, "trigger %q needs a type", tr.ID)
		case tr.Type == "":
		case p.types != nil && !p.types.Known(tr.Type):
			p.errorf(joinKey(ipath, "type"), typeN, "%s", p.unknownType("trigger", tr.Type))
		case p.types != nil:
			p.checked(ipath, tr.Pos, pos, p.types.CheckTrigger(tr))
		}
		out = append(out, tr)
	}
	return out
}

// closeKey returns a key of props that looks like a misspelling of want.
func closeKey(props map[string]any, want string) string {
	for _, k := range sortedKeys(props) {
		if k != want && suggest(k, []string{want}) == want {
			return k
		}
	}
	return ""
}
