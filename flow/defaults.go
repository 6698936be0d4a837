package flow

import (
	"strings"

	"github.com/ospreyhq/osprey/internal/ordered"
)

// Canonicalizer is an optional interface of a TypeChecker: it resolves a
// legacy type name to today's, so that pluginDefaults written for either
// name apply to both.
type Canonicalizer interface {
	Canonical(typ string) string
}

// applyDefaults merges the flow's pluginDefaults (Kestra's legacy
// taskDefaults) into every task and trigger they name, before types are
// checked, as Kestra does: a default fills a property the task leaves out;
// a forced default wins over what the task says. A default's type matches a
// task type exactly or as a prefix of it (io.kestra.plugin.core.log
// matches io.kestra.plugin.core.log.Log).
func applyDefaults(f *Flow, tasks []*Task, canon func(string) string) {
	if len(f.PluginDefaults) == 0 {
		return
	}
	matches := func(typ, def string) bool {
		for _, t := range []string{typ, canon(typ)} {
			for _, d := range []string{def, canon(def)} {
				if t == d || strings.HasPrefix(t, d+".") {
					return true
				}
			}
		}
		return false
	}
	for _, t := range tasks {
		for _, d := range f.PluginDefaults {
			if matches(t.Type, d.Type) {
				t.applyDefault(d.Values, d.Forced)
			}
		}
	}
	for _, tr := range f.Triggers {
		for _, d := range f.PluginDefaults {
			if matches(tr.Type, d.Type) {
				tr.Props = mergeDefault(tr.Props, d.Values, d.Forced)
			}
		}
	}
}

// applyDefault sets the common properties a default names (when the task
// left them unset, or when forced) and merges the rest into Props.
func (t *Task) applyDefault(values map[string]any, forced bool) {
	rest := map[string]any{}
	for k, v := range values {
		switch k {
		case "id", "type", "tasks", "errors", "finally", "then", "else", "cases", "defaults":
			continue // identity and structure never come from defaults
		case "description":
			setString(&t.Description, v, forced)
		case "runIf":
			setString(&t.RunIf, v, forced)
		case "timeout":
			setString(&t.Timeout, v, forced)
		case "logLevel":
			setString(&t.LogLevel, v, forced)
		case "disabled":
			setBool(&t.Disabled, v, forced)
		case "allowFailure":
			setBool(&t.AllowFailure, v, forced)
		case "allowWarning":
			setBool(&t.AllowWarning, v, forced)
		case "logToFile":
			setBool(&t.LogToFile, v, forced)
		case "retry":
			if m, ok := ordered.AsMap(v); ok && (forced || t.Retry == nil) {
				t.Retry = m
			}
		case "workerGroup":
			if m, ok := ordered.AsMap(v); ok && (forced || t.WorkerGroup == nil) {
				t.WorkerGroup = m
			}
		default:
			rest[k] = v
		}
	}
	t.Props = mergeDefault(t.Props, rest, forced)
}

func setString(dst *string, v any, forced bool) {
	if s, ok := v.(string); ok && (forced || *dst == "") {
		*dst = s
	}
}

func setBool(dst *bool, v any, forced bool) {
	if b, ok := v.(bool); ok && (forced || !*dst) {
		*dst = b
	}
}

// mergeDefault merges defaults into props: nested maps are merged key by
// key; otherwise the task's own value wins unless forced.
func mergeDefault(props, defaults map[string]any, forced bool) map[string]any {
	if len(defaults) == 0 {
		return props
	}
	if props == nil {
		props = map[string]any{}
	}
	for k, dv := range defaults {
		pv, has := props[k]
		if pm, ok := pv.(*ordered.Map); ok {
			if dm, ok := dv.(*ordered.Map); ok {
				props[k] = mergeOrdered(pm, dm, forced)
				continue
			}
		}
		if pm, ok := pv.(map[string]any); ok {
			if dm, ok := dv.(map[string]any); ok {
				props[k] = mergeDefault(pm, dm, forced)
				continue
			}
		}
		if !has || forced {
			props[k] = dv
		}
	}
	return props
}

// mergeOrdered is mergeDefault for the maps a flow's YAML holds: the task's
// keys keep their places, a default's new keys follow in the default's
// order. props is copied, not changed: defaults are shared between tasks.
func mergeOrdered(props, defaults *ordered.Map, forced bool) *ordered.Map {
	out := props.Clone()
	for k, dv := range defaults.All() {
		pv, has := out.Get(k)
		if pm, ok := pv.(*ordered.Map); ok {
			if dm, ok := dv.(*ordered.Map); ok {
				out.Set(k, mergeOrdered(pm, dm, forced))
				continue
			}
		}
		if !has || forced {
			out.Set(k, dv)
		}
	}
	return out
}
