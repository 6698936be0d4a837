package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Sources is everything Load reads. The environment is injected so that
// loading never depends on the process it runs in.
type Sources struct {
	// Files are the -c/--config flags, in order; later files win. Files
	// named by MICRONAUT_CONFIG_FILES and OSPREY_CONFIG_FILES (comma
	// separated) are read before them.
	Files []string
	// Env is the environment as os.Environ returns it ("NAME=value"). It
	// feeds relaxed binding, placeholders, KESTRA_CONFIGURATION and the
	// *_CONFIG_FILES lists.
	Env []string
	// Overrides are explicit settings from flags, by key in any spelling
	// (e.g. "micronaut.server.port" from --port). They win over everything.
	Overrides map[string]string
	// Strict turns unknown-key warnings into errors.
	Strict bool
	// ReadFile reads a configuration file; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// Logger receives a debug line listing the top-level sections that were
	// skipped; nil discards.
	Logger *slog.Logger
}

// yamlLine finds the line number the YAML parser puts in its messages.
var yamlLine = regexp.MustCompile(`^line (\d+): `)

// Limits that keep a hostile or broken document from exhausting memory.
const (
	maxDocumentBytes = 4 << 20
	maxNodes         = 10_000
	maxDepth         = 64
	maxDocuments     = 64
)

// Load builds the effective configuration from defaults, files,
// KESTRA_CONFIGURATION, the environment and overrides, then validates it.
// It returns every problem at once: the error joins *Error values (see
// Errors); warnings are problems Osprey can run with, for the caller to log.
func Load(ctx context.Context, src Sources) (*Config, []Warning, error) {
	l := &loader{
		schema: loadSchema(),
		env:    environ(src),
		values: map[string]setting{},
		maps:   map[string]mapSetting{},
		active: map[*yaml.Node]bool{},
		seen:   map[string]bool{},
		strict: src.Strict,
		log:    src.Logger,
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	readFile := src.ReadFile
	if readFile == nil {
		readFile = os.ReadFile
	}

	var files []string
	for _, name := range []string{"MICRONAUT_CONFIG_FILES", "OSPREY_CONFIG_FILES"} {
		if v, ok := l.env.lookup(name); ok {
			files = append(files, splitList(v)...)
		}
	}
	files = append(files, src.Files...)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("load configuration: %w", err)
		}
		b, err := readFile(f)
		if err != nil {
			l.fail(errorf("", Source{Layer: LayerFile, Name: f}, "cannot read configuration file: %v", unwrapPath(err)))
			continue
		}
		l.document(b, Source{Layer: LayerFile, Name: f})
	}
	if doc, ok := l.env.lookup("KESTRA_CONFIGURATION"); ok && strings.TrimSpace(doc) != "" {
		l.document([]byte(doc), Source{Layer: LayerKestraConfiguration, Name: "KESTRA_CONFIGURATION"})
	}
	l.bindEnv()
	l.overrides(src.Overrides)

	if len(l.ignored) > 0 {
		l.log.DebugContext(ctx, "ignoring configuration sections Osprey does not read", "sections", l.ignored)
	}

	cfg := Default()
	l.decode(cfg)
	l.normalise(cfg)
	l.validate(cfg)
	if len(l.errs) > 0 {
		errs := make([]error, len(l.errs))
		for i, e := range l.errs {
			errs[i] = e
		}
		return nil, l.warns, errors.Join(errs...)
	}
	return cfg, l.warns, nil
}

// setting is the winning raw value of one scalar or list key.
type setting struct {
	node *yaml.Node // from a YAML layer; nil otherwise
	text string     // from the environment or a flag
	src  Source
}

// mapSetting is a map-valued key, deep-merged across layers.
type mapSetting struct {
	value map[string]any
	src   Source
}

type loader struct {
	schema *schema
	env    env
	values map[string]setting
	maps   map[string]mapSetting
	strict bool
	log    *slog.Logger
	errs   []*Error
	warns  []Warning
	// nodes counts keys and mappings visited, merges included, to bound the
	// work a document full of aliases can cause; active holds the mappings
	// being walked, to refuse merge cycles.
	nodes  int
	active map[*yaml.Node]bool
	seen   map[string]bool
	// ignored lists skipped top-level sections, for the debug log.
	ignored []string
}

// count records one more visited node and reports whether the walk may go
// on; the first time the bound is passed it records the error.
func (l *loader) count(n *yaml.Node, src Source) bool {
	l.nodes++
	if l.nodes == maxNodes+1 {
		l.fail(errorf("", at(src, n), "more than %d keys and mappings (counting those reached through aliases)", maxNodes))
	}
	return l.nodes <= maxNodes
}

// env is the injected environment.
type env struct {
	vars map[string]string
}

func environ(src Sources) env {
	e := env{vars: make(map[string]string, len(src.Env))}
	for _, kv := range src.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			e.vars[k] = v
		}
	}
	return e
}

func (e env) lookup(name string) (string, bool) {
	v, ok := e.vars[name]
	return v, ok
}

// maxReports bounds the warnings and errors kept from one Load, so a
// document that repeats a mistake through aliases yields a readable report.
const maxReports = 100

func (l *loader) warn(kind WarningKind, key string, src Source, format string, args ...any) {
	w := Warning{Kind: kind, Key: key, Source: src, Msg: fmt.Sprintf(format, args...)}
	if l.seen[w.String()] || len(l.warns) >= maxReports {
		return
	}
	l.seen[w.String()] = true
	l.warns = append(l.warns, w)
}

// fail records a problem once.
func (l *loader) fail(e *Error) {
	if l.seen[e.Error()] || len(l.errs) >= maxReports {
		return
	}
	l.seen[e.Error()] = true
	l.errs = append(l.errs, e)
}

// document reads one YAML stream (one or more documents) as a layer.
func (l *loader) document(b []byte, src Source) {
	if len(b) > maxDocumentBytes {
		l.fail(errorf("", src, "configuration is larger than %d bytes", maxDocumentBytes))
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for range maxDocuments {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			msg, esrc := strings.TrimPrefix(err.Error(), "yaml: "), src
			if m := yamlLine.FindStringSubmatch(msg); m != nil {
				esrc.Line, _ = strconv.Atoi(m[1])
				msg = msg[len(m[0]):]
			}
			l.fail(errorf("", esrc, "invalid YAML: %s", msg))
			return
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue
		}
		if root.Kind != yaml.MappingNode {
			l.fail(errorf("", at(src, root), "the configuration must be a mapping of keys (kestra:, datasources:, …)"))
			return
		}
		l.mapping(root, "", src, 0)
	}
}

func at(src Source, n *yaml.Node) Source {
	src.Line, src.Column = n.Line, n.Column
	return src
}

// mapping walks a YAML mapping found at prefix (a canonical key, "" for the
// root), recording known keys and reporting unknown ones.
func (l *loader) mapping(n *yaml.Node, prefix string, src Source, depth int) {
	if depth > maxDepth {
		l.fail(errorf(prefix, at(src, n), "nested more than %d levels", maxDepth))
		return
	}
	if !l.count(n, src) {
		return
	}
	n = resolveAlias(n)
	if l.active[n] {
		l.fail(errorf(prefix, at(src, n), "a merge key (<<) refers to the mapping that holds it"))
		return
	}
	l.active[n] = true
	defer delete(l.active, n)
	// Merge keys (<<: *base) first, so that keys written here override them.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Tag == "!!merge" {
			v := resolveAlias(n.Content[i+1])
			switch v.Kind {
			case yaml.MappingNode:
				l.mapping(v, prefix, src, depth+1)
			case yaml.SequenceNode:
				for _, m := range v.Content {
					if m = resolveAlias(m); m.Kind == yaml.MappingNode {
						l.mapping(m, prefix, src, depth+1)
					}
				}
			}
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			continue
		}
		if !l.count(k, src) {
			return
		}
		l.entry(prefix, k.Value, resolveAlias(v), at(src, k), depth)
	}
}

// entry handles one "name: value" pair, where name may itself be dotted
// (kestra.secret.type: env).
func (l *loader) entry(prefix, name string, v *yaml.Node, src Source, depth int) {
	segs := strings.Split(name, ".")
	key := prefix
	for i, seg := range segs {
		seg = kebab(seg)
		parent := key
		key = join(key, seg)
		if f, ok := l.schema.lookup(key); ok {
			if i < len(segs)-1 {
				// A dotted name continuing below a leaf: only maps have children.
				if !f.kind.isMap() {
					l.unknownKey(join(key, kebab(segs[i+1])), src, "%s takes a single value; it has no keys below it", key)
					return
				}
				// globals.a.b: 1 means globals: {a: {b: 1}}, as in Micronaut.
				wrapped := v
				for j := len(segs) - 1; j > i; j-- {
					wrapped = &yaml.Node{Kind: yaml.MappingNode, Line: v.Line, Column: v.Column,
						Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: segs[j]}, wrapped}}
				}
				l.set(f, wrapped, src)
				return
			}
			l.set(f, v, src)
			return
		}
		if !l.schema.isPrefix(key) {
			l.unknown(parent, seg, key, src)
			return
		}
	}
	if isNull(v) {
		return
	}
	if v.Kind != yaml.MappingNode {
		l.fail(errorf(key, at(src, v), "is a section; expected a mapping of its keys (%s), not %s",
			strings.Join(l.schema.children[key], ", "), describe(v)))
		return
	}
	l.mapping(v, key, src, depth+1)
}

// unknown reports a key the schema does not know.
func (l *loader) unknown(parent, seg, key string, src Source) {
	if parent == "" {
		// Top-level sections other than the schema's (kestra, datasources,
		// micronaut, endpoints, osprey) belong to Micronaut or Kestra
		// (logger, jackson, …): skipped, listed at debug level.
		l.ignored = append(l.ignored, src.where()+seg)
		return
	}
	if s := l.schema.suggest(parent, seg); s != "" {
		l.unknownKey(key, src, "unknown key; did you mean %s?", s)
		return
	}
	switch section, _, _ := strings.Cut(key, "."); {
	case ignoredPrefix(key):
		l.warn(WarnIgnored, key, src, "Kestra setting that Osprey does not use; ignored")
	case section == "micronaut" || section == "endpoints":
		l.warn(WarnIgnored, key, src, "Micronaut setting that Osprey does not use; ignored")
	case parent == "datasources":
		l.warn(WarnIgnored, key, src, "only datasources.postgres is read; ignored")
	default:
		valid := l.schema.children[parent]
		l.unknownKey(key, src, "unknown key; %s takes %s", parent, strings.Join(valid, ", "))
	}
}

func (l *loader) unknownKey(key string, src Source, format string, args ...any) {
	if l.strict {
		l.fail(errorf(key, src, format, args...))
		return
	}
	l.warn(WarnUnknownKey, key, src, format, args...)
}

// set records the value of a known key from a YAML layer.
func (l *loader) set(f *field, v *yaml.Node, src Source) {
	if isNull(v) {
		return
	}
	src = at(src, v)
	if !f.kind.isMap() {
		l.values[f.key] = setting{node: v, src: src}
		return
	}
	if v.Kind != yaml.MappingNode {
		l.fail(errorf(f.key, src, "expected a mapping, not %s", describe(v)))
		return
	}
	var m map[string]any
	if err := v.Decode(&m); err != nil {
		l.fail(errorf(f.key, src, "cannot read mapping: %s", strings.TrimPrefix(err.Error(), "yaml: ")))
		return
	}
	expanded, err := l.expandAny(m, 0)
	if err != nil {
		l.fail(placeholderError(f.key, src, err))
		return
	}
	prev := l.maps[f.key].value
	l.maps[f.key] = mapSetting{value: mergeMaps(prev, expanded.(map[string]any)), src: src}
}

// bindEnv applies relaxed-binding environment variables: NAME is matched
// against the environment name of every known key (KESTRA_SECRET_TYPE →
// kestra.secret.type), or failing that against the key with its separators
// removed.
func (l *loader) bindEnv() {
	names := slices.Sorted(maps.Keys(l.env.vars))
	for _, name := range names {
		key, ok := l.schema.env[strings.ToUpper(name)]
		if !ok {
			k := l.schema.squashed[squash(name)]
			if k == "" {
				continue
			}
			key = k
		}
		f, _ := l.schema.lookup(key)
		l.values[f.key] = setting{text: l.env.vars[name], src: Source{Layer: LayerEnv, Name: name}}
	}
}

// overrides applies the flag layer.
func (l *loader) overrides(o map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(o)) {
		key := canonicalKey(k)
		f, ok := l.schema.lookup(key)
		if !ok || f.kind.isMap() {
			l.fail(errorf(k, Source{Layer: LayerFlag}, "not a key that can be set from a flag"))
			continue
		}
		l.values[f.key] = setting{text: o[k], src: Source{Layer: LayerFlag, Name: k}}
	}
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("%q", n.Value)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// mergeMaps deep-merges src into dst (later layer wins, nested maps merge).
func mergeMaps(dst, src map[string]any) map[string]any {
	out := make(map[string]any, len(dst)+len(src))
	maps.Copy(out, dst)
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(dm, sm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
