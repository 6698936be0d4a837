package server

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/ospreyhq/osprey/flow"
)

// flowJSON renders a parsed flow as Kestra returns it: the model's fields,
// each task with its type-specific properties and nested task lists merged
// back in (flow.Task keeps those apart for the engine), and the source
// when asked for.
func flowJSON(f *flow.Flow, source string, withSource bool) (map[string]any, error) {
	out, err := toMap(f)
	if err != nil {
		return nil, err
	}
	for key, list := range map[string][]*flow.Task{
		"tasks": f.Tasks, "errors": f.Errors, "finally": f.Finally, "afterExecution": f.AfterExecution,
	} {
		if key != "tasks" && len(list) == 0 {
			continue
		}
		if out[key], err = tasksJSON(list); err != nil {
			return nil, err
		}
	}
	if len(f.Inputs) > 0 {
		ins := make([]map[string]any, 0, len(f.Inputs))
		for _, in := range f.Inputs {
			m, err := withProps(in, in.Props)
			if err != nil {
				return nil, err
			}
			for _, k := range []string{"defaults", "prefill"} {
				if v, ok := m[k]; ok {
					m[k] = propertyJSON(v)
				}
			}
			ins = append(ins, m)
		}
		out["inputs"] = ins
	}
	if len(f.Triggers) > 0 {
		trs := make([]map[string]any, 0, len(f.Triggers))
		for _, tr := range f.Triggers {
			m, err := withProps(tr, tr.Props)
			if err != nil {
				return nil, err
			}
			trs = append(trs, m)
		}
		out["triggers"] = trs
	}
	if withSource {
		out["source"] = source
	}
	// Kestra's drafts; Osprey has none, and the spec's Flow requires it.
	out["draft"] = false
	return out, nil
}

// propertyJSON shapes an input's defaults or prefill as the spec's
// Property_Object_ (an object or a string): a number, a boolean or a list
// is answered as its JSON text ("42", "true", "[1,2]"), which is how a
// flow may write it too and how Kestra's generated clients read it.
func propertyJSON(v any) any {
	switch v.(type) {
	case nil, string, map[string]any:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// tasksJSON renders a task list; it is never null, as Kestra's isn't.
func tasksJSON(ts []*flow.Task) ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(ts))
	for _, t := range ts {
		m, err := taskJSON(t)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// taskJSON merges a task's common fields, Props and children into one
// object, as the task appears in YAML.
func taskJSON(t *flow.Task) (map[string]any, error) {
	m, err := withProps(t, t.Props)
	if err != nil {
		return nil, err
	}
	for key, children := range t.Children {
		if m[key], err = tasksJSON(children); err != nil {
			return nil, err
		}
	}
	if len(t.Cases) > 0 {
		cases := make(map[string]any, len(t.Cases))
		for v, children := range t.Cases {
			if cases[v], err = tasksJSON(children); err != nil {
				return nil, err
			}
		}
		m["cases"] = cases
	}
	if len(t.DagTasks) > 0 {
		dag := make([]map[string]any, 0, len(t.DagTasks))
		for _, d := range t.DagTasks {
			tm, err := taskJSON(d.Task)
			if err != nil {
				return nil, err
			}
			e := map[string]any{"task": tm}
			if len(d.DependsOn) > 0 {
				e["dependsOn"] = d.DependsOn
			}
			dag = append(dag, e)
		}
		m["tasks"] = dag
	}
	return m, nil
}

// withProps renders v's tagged fields and adds props under them; a tagged
// field wins over a prop of the same name.
func withProps(v any, props map[string]any) (map[string]any, error) {
	m, err := toMap(v)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(m)+len(props))
	maps.Copy(out, jsonSafe(props))
	maps.Copy(out, m)
	return out, nil
}

func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode %T: %w", v, err)
	}
	return m, nil
}

// jsonSafe converts YAML-decoded values that encoding/json refuses
// (map[any]any from some decoders) into JSON-encodable ones.
func jsonSafe(props map[string]any) map[string]any {
	out := make(map[string]any, len(props))
	for k, v := range props {
		out[k] = safeValue(v)
	}
	return out
}

func safeValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return jsonSafe(x)
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, vv := range x {
			m[fmt.Sprint(k)] = safeValue(vv)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, vv := range x {
			s[i] = safeValue(vv)
		}
		return s
	}
	return v
}
