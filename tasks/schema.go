package tasks

import (
	"reflect"
	"slices"
	"strings"

	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/internal/ordered"
)

// propStructs maps each canonical task type to the struct its properties
// decode into. decode refuses fields the struct lacks, so a type's schema
// is exactly that struct's fields: the schema and the parser agree by
// construction. A type missing here gets a permissive schema naming its
// Spec.Props.
var propStructs = map[string]any{
	pLog:                                     Log{},
	pReturn:                                  Return{},
	pEcho:                                    Echo{},
	pOutputValues:                            OutputValues{},
	pFail:                                    Fail{},
	pLabels:                                  Labels{},
	pSleep:                                   Sleep{},
	"io.kestra.plugin.core.execution.Assert": Assert{},
	pHTTPRequest:                             HTTPRequest{},
	pShell:                                   ShellCommands{},
	"io.kestra.plugin.core.flow.Sequential":  noProps{},
	"io.kestra.plugin.core.flow.Parallel":    parallelProps{},
	"io.kestra.plugin.core.flow.If":          ifProps{},
	"io.kestra.plugin.core.flow.Switch":      switchProps{},
	"io.kestra.plugin.core.flow.ForEach":     forEachProps{},
	"io.kestra.plugin.core.flow.EachSequential": forEachProps{},
	"io.kestra.plugin.core.flow.EachParallel":   forEachProps{},
	"io.kestra.plugin.core.flow.AllowFailure":   noProps{},
	"io.kestra.plugin.core.flow.Dag":            dagProps{},
	"io.kestra.plugin.core.flow.Pause":          pauseProps{},
	"io.kestra.plugin.core.flow.WaitFor":        waitForProps{},
	"io.kestra.plugin.core.flow.Subflow":        subflowProps{},
	"io.kestra.plugin.core.flow.Flow":           subflowProps{},
}

// schemaDraft is the JSON Schema dialect of FlowSchema; draft-07 is the
// one editors (VS Code's YAML extension, IntelliJ) read best, and Kestra's.
const schemaDraft = "http://json-schema.org/draft-07/schema#"

// KindName names a kind as the API lists it: task, flowable task, trigger
// or condition.
func KindName(k Kind) string { return kindName(k) }

// Aliases returns the legacy names that resolve to the canonical type typ.
func (r *Registry) Aliases(typ string) []string {
	var out []string
	for a, c := range r.aliases {
		if c == typ {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// TypeSchema returns the JSON Schema of a task type's own properties (the
// common ones, id, type, retry…, excluded), or nil for a type that is not
// a task.
func (r *Registry) TypeSchema(typ string) map[string]any {
	s, ok := r.Spec(typ)
	if !ok || (s.Kind != KindRunnable && s.Kind != KindFlowable) {
		return nil
	}
	if v, ok := propStructs[s.Type]; ok {
		return structSchema(reflect.TypeOf(v))
	}
	props := map[string]any{}
	for _, p := range s.Props {
		props[p] = map[string]any{}
	}
	return map[string]any{"type": "object", "properties": props}
}

// FlowSchema returns the JSON Schema (draft-07) of the flow format as this
// registry accepts it: the flow's top-level keys, then for every task
// type (and legacy alias) its properties, the common task properties and,
// for flowable types, the task lists they hold. Properties that take an
// expression are left untyped; typed ones (booleans, strings) carry their
// type, because the parser refuses anything else.
func (r *Registry) FlowSchema() map[string]any {
	defs := map[string]any{}
	var taskTypes, triggerTypes []string
	var branches []any
	for _, canon := range r.Types() {
		s := r.specs[canon]
		names := append([]string{canon}, r.Aliases(canon)...)
		switch s.Kind {
		case KindTrigger:
			triggerTypes = append(triggerTypes, names...)
			continue
		case KindRunnable, KindFlowable:
		default:
			continue
		}
		taskTypes = append(taskTypes, names...)
		def := r.TypeSchema(canon)
		props := def["properties"].(map[string]any)
		for k, v := range commonTaskProps() {
			props[k] = v
		}
		if s.Kind == KindFlowable {
			for _, k := range flow.ChildKeys() {
				props[k] = taskList()
			}
			switch {
			case strings.HasSuffix(canon, ".Switch"):
				props["cases"] = map[string]any{"type": "object", "additionalProperties": taskList()}
			case strings.HasSuffix(canon, ".Dag"):
				props["tasks"] = map[string]any{"type": "array", "items": map[string]any{
					"type": "object", "required": []any{"task"}, "additionalProperties": false,
					"properties": map[string]any{
						"task":      map[string]any{"$ref": "#/definitions/task"},
						"dependsOn": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
					},
				}}
			}
		}
		if _, ok := def["additionalProperties"]; ok {
			def["additionalProperties"] = false
		}
		defs[canon] = def
		branches = append(branches, map[string]any{
			"if":   map[string]any{"properties": map[string]any{"type": map[string]any{"enum": toAny(names)}}, "required": []any{"type"}},
			"then": map[string]any{"$ref": "#/definitions/" + jsonPointerEscape(canon)},
		})
	}
	defs["task"] = map[string]any{
		"type":     "object",
		"required": []any{"id", "type"},
		"properties": map[string]any{
			"id":   map[string]any{"type": "string", "pattern": `^[a-zA-Z0-9][a-zA-Z0-9_-]*$`},
			"type": map[string]any{"enum": toAny(taskTypes)},
		},
		"allOf": branches,
	}
	defs["trigger"] = map[string]any{
		"type":     "object",
		"required": []any{"id", "type"},
		"properties": map[string]any{
			"id":          map[string]any{"type": "string", "pattern": `^[a-zA-Z0-9][a-zA-Z0-9_-]*$`},
			"type":        map[string]any{"enum": toAny(triggerTypes)},
			"description": scalar(),
			"disabled":    boolean(),
		},
	}
	return map[string]any{
		"$schema":              schemaDraft,
		"$id":                  "https://osprey.dev/schemas/flow.json",
		"title":                "Flow",
		"type":                 "object",
		"required":             []any{"id", "namespace", "tasks"},
		"additionalProperties": false,
		"properties":           flowProps(),
		"definitions":          defs,
	}
}

func flowProps() map[string]any {
	labelList := map[string]any{"type": "array", "items": map[string]any{
		"type": "object", "required": []any{"key"},
		"properties": map[string]any{"key": map[string]any{"type": "string"}, "value": map[string]any{}},
	}}
	named := func(extra map[string]any) map[string]any {
		props := map[string]any{
			"id": map[string]any{"type": "string"}, "type": map[string]any{"type": "string"},
			"description": scalar(), "displayName": scalar(), "required": boolean(),
		}
		for k, v := range extra {
			props[k] = v
		}
		return map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": props}}
	}
	return map[string]any{
		"id":             map[string]any{"type": "string", "pattern": `^[a-zA-Z0-9][a-zA-Z0-9._-]*$`},
		"namespace":      map[string]any{"type": "string", "pattern": `^[a-z0-9][a-z0-9._-]*$`},
		"revision":       map[string]any{},
		"tenantId":       map[string]any{"type": "string", "pattern": `^[a-z0-9][a-z0-9_-]*$`},
		"description":    scalar(),
		"labels":         map[string]any{"anyOf": []any{map[string]any{"type": "object"}, labelList, map[string]any{"type": "null"}}},
		"inputs":         named(map[string]any{"name": map[string]any{"type": "string"}, "defaults": map[string]any{}}),
		"variables":      map[string]any{"type": []any{"object", "null"}},
		"tasks":          map[string]any{"type": "array", "minItems": 1, "items": map[string]any{"$ref": "#/definitions/task"}},
		"errors":         taskList(),
		"finally":        taskList(),
		"afterExecution": taskList(),
		"outputs":        named(map[string]any{"value": map[string]any{}}),
		"triggers":       map[string]any{"type": "array", "items": map[string]any{"$ref": "#/definitions/trigger"}},
		"pluginDefaults": pluginDefaults(),
		"taskDefaults":   pluginDefaults(),
		"listeners":      map[string]any{},
		"concurrency": map[string]any{"type": "object", "properties": map[string]any{
			"limit":    map[string]any{"type": []any{"integer", "string"}},
			"behavior": map[string]any{"enum": []any{"QUEUE", "CANCEL", "FAIL"}},
		}},
		"retry":       map[string]any{"type": []any{"object", "null"}},
		"disabled":    boolean(),
		"deleted":     boolean(),
		"workerGroup": map[string]any{},
		"sla":         slaSchema(labelList),
		"checks":      checksSchema(),
	}
}

// slaSchema is the shape of a flow's sla list (flow.SLA).
func slaSchema(labelList map[string]any) map[string]any {
	return map[string]any{"type": []any{"array", "null"}, "items": map[string]any{
		"type": "object", "required": []any{"id", "type", "behavior"}, "additionalProperties": false,
		"properties": map[string]any{
			"id":       map[string]any{"type": "string"},
			"type":     map[string]any{"enum": []any{"MAX_DURATION", "EXECUTION_ASSERTION"}},
			"behavior": map[string]any{"enum": []any{"FAIL", "CANCEL", "NONE"}},
			"duration": map[string]any{"type": "string"},
			"assert":   map[string]any{"type": "string"},
			"labels":   map[string]any{"anyOf": []any{map[string]any{"type": "object"}, labelList, map[string]any{"type": "null"}}},
		},
	}}
}

// checksSchema is the shape of a flow's checks list (flow.Check).
func checksSchema() map[string]any {
	return map[string]any{"type": []any{"array", "null"}, "items": map[string]any{
		"type": "object", "required": []any{"message"}, "additionalProperties": false,
		"properties": map[string]any{
			"condition": map[string]any{"type": "string"},
			"when":      map[string]any{"type": "string"},
			"message":   map[string]any{"type": "string"},
			"style":     map[string]any{"enum": []any{"ERROR", "SUCCESS", "WARNING", "INFO"}},
			"behavior":  map[string]any{"enum": []any{"BLOCK_EXECUTION", "FAIL_EXECUTION", "CREATE_EXECUTION"}},
		},
	}}
}

func pluginDefaults() map[string]any {
	return map[string]any{"type": "array", "items": map[string]any{
		"type": "object", "required": []any{"type"},
		"properties": map[string]any{
			"type": map[string]any{"type": "string"}, "forced": boolean(), "values": map[string]any{"type": []any{"object", "null"}},
		},
	}}
}

// commonTaskProps are the properties every task takes (flow.Parse reads
// them into Task's fields).
func commonTaskProps() map[string]any {
	return map[string]any{
		"id":           map[string]any{"type": "string"},
		"type":         map[string]any{"type": "string"},
		"description":  scalar(),
		"disabled":     boolean(),
		"allowFailure": boolean(),
		"allowWarning": boolean(),
		"logToFile":    boolean(),
		"runIf":        scalar(),
		"timeout":      scalar(),
		"logLevel":     map[string]any{"enum": []any{"ERROR", "WARN", "INFO", "DEBUG", "TRACE", nil}},
		"retry":        map[string]any{"type": []any{"object", "null"}},
		"workerGroup":  map[string]any{"type": []any{"object", "null"}},
	}
}

func taskList() map[string]any {
	return map[string]any{"type": "array", "items": map[string]any{"$ref": "#/definitions/task"}}
}

// scalar is what flow.Parse reads as a string: any scalar, spelt as YAML
// wrote it.
func scalar() map[string]any {
	return map[string]any{"type": []any{"string", "number", "boolean", "null"}}
}

func nullable(typ string) map[string]any { return map[string]any{"type": []any{typ, "null"}} }

// boolean is what flow.Parse takes for a boolean: true, false, their
// quoted spellings, or nothing.
func boolean() map[string]any {
	return map[string]any{"anyOf": []any{nullable("boolean"), map[string]any{"enum": []any{"true", "false"}}}}
}

// structSchema describes a property struct by its json tags, as
// encoding/json decodes into it with unknown fields refused.
func structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = typeSchema(f.Type)
	}
	return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
}

func typeSchema(t reflect.Type) map[string]any {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[ordered.Map]() {
		return nullable("object") // a user's map, its order kept
	}
	switch t.Kind() {
	case reflect.String:
		return nullable("string")
	case reflect.Bool:
		return nullable("boolean")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return nullable("integer")
	case reflect.Float32, reflect.Float64:
		return nullable("number")
	case reflect.Map:
		return nullable("object")
	case reflect.Slice, reflect.Array:
		return nullable("array")
	case reflect.Struct:
		s := structSchema(t)
		s["type"] = []any{"object", "null"}
		return s
	}
	return map[string]any{}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// jsonPointerEscape escapes a definition name for a $ref (RFC 6901).
func jsonPointerEscape(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}
