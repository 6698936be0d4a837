package server

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Catalog describes the types a server's flows may use: the JSON Schema
// of the flow format and every task, trigger and condition type. A Runner
// that also implements it enables GET /plugins and
// GET /plugins/schemas/flow; without it they answer 501.
type Catalog interface {
	// FlowSchema is the JSON Schema (draft-07) of a flow, the one flow
	// validation agrees with.
	FlowSchema() map[string]any
	// PluginTypes lists the types, sorted by Type.
	PluginTypes() []PluginType
}

// PluginType is one type of the catalog.
type PluginType struct {
	// Type is the canonical class name (io.kestra.plugin.core.log.Log).
	Type string `json:"cls"`
	// Kind is task, flowable task, trigger or condition.
	Kind string `json:"kind"`
	// Aliases are the legacy names that resolve to Type.
	Aliases []string `json:"aliases,omitempty"`
	// Schema is the JSON Schema of the type's properties, when it has one.
	Schema map[string]any `json:"schema,omitempty"`
}

func (s *Server) catalog() (Catalog, error) {
	c, ok := s.opts.Runner.(Catalog)
	if !ok {
		return nil, Errorf(http.StatusNotImplemented, "this server has no plugin catalog")
	}
	return c, nil
}

// corePlugin is Kestra's Plugin listing for the one plugin Osprey has,
// its core, with the types by kind.
type corePlugin struct {
	Name       string          `json:"name"`
	Title      string          `json:"title"`
	Group      string          `json:"group"`
	Tasks      []pluginElement `json:"tasks"`
	Triggers   []pluginElement `json:"triggers"`
	Conditions []pluginElement `json:"conditions"`
	Aliases    []string        `json:"aliases"`
}

// pluginElement is one type of a plugin (Kestra's PluginElementMetadata).
type pluginElement struct {
	Cls        string `json:"cls"`
	Deprecated bool   `json:"deprecated"`
}

// listPlugins answers Kestra's GET /plugins: a page of plugins with the
// types they hold.
func (s *Server) listPlugins(w http.ResponseWriter, _ *http.Request) error {
	c, err := s.catalog()
	if err != nil {
		return err
	}
	p := corePlugin{Name: "core", Title: "core", Group: "io.kestra.plugin.core",
		Tasks: []pluginElement{}, Triggers: []pluginElement{}, Conditions: []pluginElement{}, Aliases: []string{}}
	for _, t := range c.PluginTypes() {
		e := pluginElement{Cls: t.Type}
		switch t.Kind {
		case "trigger":
			p.Triggers = append(p.Triggers, e)
		case "condition":
			p.Conditions = append(p.Conditions, e)
		default:
			p.Tasks = append(p.Tasks, e)
		}
		p.Aliases = append(p.Aliases, t.Aliases...)
	}
	// A page, as Kestra 2.0's spec says (PagedResults of Plugin).
	writeJSON(w, http.StatusOK, map[string]any{"results": []corePlugin{p}, "total": 1})
	return nil
}

// getPlugin answers GET /plugins/{cls} for a type or one of its aliases.
func (s *Server) getPlugin(w http.ResponseWriter, r *http.Request) error {
	c, err := s.catalog()
	if err != nil {
		return err
	}
	cls := r.PathValue("cls")
	for _, t := range c.PluginTypes() {
		if t.Type == cls || slices.Contains(t.Aliases, cls) {
			writeJSON(w, http.StatusOK, t)
			return nil
		}
	}
	return Errorf(http.StatusNotFound, fmt.Sprintf("no plugin type %q", cls))
}

// pluginSchema answers GET /plugins/schemas/flow with the flow format's
// JSON Schema, for editors and for clients that validate before sending.
func (s *Server) pluginSchema(w http.ResponseWriter, r *http.Request) error {
	c, err := s.catalog()
	if err != nil {
		return err
	}
	if typ := r.PathValue("type"); !strings.EqualFold(typ, "flow") {
		return Errorf(http.StatusNotFound, fmt.Sprintf("no schema of type %q: only flow is served", typ))
	}
	writeJSON(w, http.StatusOK, c.FlowSchema())
	return nil
}
