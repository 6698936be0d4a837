package config

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
)

// kind is the shape of a configuration value.
type kind int

const (
	kindString kind = iota
	kindSecret
	kindConnURL
	kindBool
	kindOptionalBool
	kindInt
	kindDuration
	kindStrings
	kindStringMap
	kindAnyMap
)

func (k kind) expected() string {
	switch k {
	case kindBool, kindOptionalBool:
		return "a boolean (true or false)"
	case kindInt:
		return "a whole number"
	case kindDuration:
		return "a duration (PT1M or 1m)"
	case kindStrings:
		return "a list of strings"
	case kindStringMap, kindAnyMap:
		return "a mapping"
	}
	return "a string"
}

func (k kind) isMap() bool { return k == kindStringMap || k == kindAnyMap }

// field is one known key and where its value lives in Config.
type field struct {
	key   string
	index []int
	kind  kind
}

// schema is the key tree derived from Config's `key` tags: the one source of
// truth for which keys exist, their types, their environment names and their
// place in Properties.
type schema struct {
	fields map[string]*field
	keys   []string // sorted
	// children maps a prefix ("" for the root) to its sorted child segments.
	children map[string][]string
	// env maps an environment variable name to its key.
	env map[string]string
	// squashed maps a key with its separators removed to the key, for
	// environment names written without separators (AZUREKEYVAULT); empty
	// when two keys collide.
	squashed map[string]string
}

// aliases maps Kestra's spelling of a key onto Osprey's.
var aliases = map[string]string{
	"kestra.secret.jdbc.secret": "kestra.secret.embedded.key",
}

// kestraIgnored are Kestra settings that Osprey accepts and does not use.
// Keys under them draw a WarnIgnored notice rather than an unknown-key
// warning, so a Kestra configuration loads unchanged in strict mode.
var kestraIgnored = []string{
	"kestra.ai", "kestra.anonymous-usage-report", "kestra.ee", "kestra.elasticsearch",
	"kestra.environment", "kestra.executor", "kestra.features", "kestra.heartbeat",
	"kestra.indexer", "kestra.jdbc", "kestra.kafka", "kestra.logs", "kestra.metrics",
	"kestra.plugins", "kestra.queue.postgres", "kestra.queue.h2", "kestra.repository.postgres",
	"kestra.scheduler", "kestra.security", "kestra.server.liveness", "kestra.server.preview",
	"kestra.server.service", "kestra.server.termination-grace-period",
	"kestra.server.worker-task-restart-strategy", "kestra.server-type",
	"kestra.system-flows", "kestra.tasks.scripts", "kestra.tasks.subflow-outputs",
	"kestra.templates", "kestra.tracing", "kestra.tutorial-flows", "kestra.ui-anonymous-usage-report",
	"kestra.variables.cache-enabled", "kestra.variables.cache-size", "kestra.variables.recursive-rendering",
	"kestra.webserver", "kestra.worker",
}

var loadSchema = sync.OnceValue(buildSchema)

func buildSchema() *schema {
	s := &schema{
		fields:   map[string]*field{},
		children: map[string][]string{},
		env:      map[string]string{},
		squashed: map[string]string{},
	}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			idx := append(slices.Clone(index), i)
			key, ok := sf.Tag.Lookup("key")
			if !ok {
				if sf.Type.Kind() == reflect.Struct {
					walk(sf.Type, idx)
				}
				continue
			}
			s.fields[key] = &field{key: key, index: idx, kind: kindOf(sf.Type)}
		}
	}
	walk(reflect.TypeFor[Config](), nil)

	for key, f := range s.fields {
		s.keys = append(s.keys, key)
		parts := strings.Split(key, ".")
		for i := range parts {
			parent := strings.Join(parts[:i], ".")
			if !slices.Contains(s.children[parent], parts[i]) {
				s.children[parent] = append(s.children[parent], parts[i])
			}
		}
		if f.kind.isMap() {
			continue // maps are not bound from the environment
		}
		s.env[envName(key)] = key
		sq := squash(key)
		if _, dup := s.squashed[sq]; dup {
			s.squashed[sq] = ""
		} else {
			s.squashed[sq] = key
		}
	}
	for alias, key := range aliases {
		s.env[envName(alias)] = key
		parts := strings.Split(alias, ".")
		for i := range parts {
			parent := strings.Join(parts[:i], ".")
			if !slices.Contains(s.children[parent], parts[i]) {
				s.children[parent] = append(s.children[parent], parts[i])
			}
		}
	}
	sort.Strings(s.keys)
	for _, c := range s.children {
		sort.Strings(c)
	}
	return s
}

func kindOf(t reflect.Type) kind {
	switch {
	case t == reflect.TypeFor[Secret]():
		return kindSecret
	case t == reflect.TypeFor[ConnURL]():
		return kindConnURL
	case t == reflect.TypeFor[time.Duration]():
		return kindDuration
	case t == reflect.TypeFor[*bool]():
		return kindOptionalBool
	case t == reflect.TypeFor[[]string]():
		return kindStrings
	case t == reflect.TypeFor[map[string]string]():
		return kindStringMap
	case t == reflect.TypeFor[map[string]any]():
		return kindAnyMap
	}
	switch t.Kind() {
	case reflect.Bool:
		return kindBool
	case reflect.Int:
		return kindInt
	case reflect.String:
		return kindString
	}
	panic("config: unsupported field type " + t.String()) // a programming error caught by every test
}

// lookup resolves a canonical key (aliases applied) to its field.
func (s *schema) lookup(key string) (*field, bool) {
	if k, ok := aliases[key]; ok {
		key = k
	}
	f, ok := s.fields[key]
	return f, ok
}

// isPrefix reports whether key is an inner node of the key tree.
func (s *schema) isPrefix(key string) bool {
	_, ok := s.children[key]
	return ok
}

// envName is the relaxed-binding environment name of key:
// kestra.secret.azure-key-vault.vault-name → KESTRA_SECRET_AZURE_KEY_VAULT_VAULT_NAME.
func envName(key string) string {
	return strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// canonicalKey normalises a dotted key written in any spelling (kebab-case,
// camelCase, snake_case) to kebab-case and applies aliases.
func canonicalKey(key string) string {
	parts := strings.Split(key, ".")
	for i, p := range parts {
		parts[i] = kebab(p)
	}
	k := strings.Join(parts, ".")
	if a, ok := aliases[k]; ok {
		return a
	}
	return k
}

// kebab turns one key segment into kebab-case: azureKeyVault → azure-key-vault,
// keyVaultURI → key-vault-uri, tmp_dir → tmp-dir.
func kebab(s string) string {
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i, r := range rs {
		switch {
		case r == '_':
			b.WriteByte('-')
		case unicode.IsUpper(r):
			if i > 0 {
				prev := rs[i-1]
				nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
				if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
					b.WriteByte('-')
				}
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// suggest returns the known sibling of seg under parent closest to it, or ""
// when none is close enough to be a likely typo. It also recognises a key
// placed under the wrong parent (vault-name directly under kestra.secret).
func (s *schema) suggest(parent, seg string) string {
	best, bestD := "", 1<<30
	for _, c := range s.children[parent] {
		if d := distance(seg, c); d < bestD {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(seg) <= 4 {
		limit = 1
	}
	if best != "" && bestD <= limit {
		return join(parent, best)
	}
	for _, k := range s.keys {
		if strings.HasPrefix(k, parent+".") && strings.HasSuffix(k, "."+seg) {
			return k
		}
	}
	return ""
}

// distance is the optimal-string-alignment edit distance (a transposition
// counts as one edit), bounded in cost by key lengths.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20
	}
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

func join(parent, seg string) string {
	if parent == "" {
		return seg
	}
	return parent + "." + seg
}

// ignoredPrefix reports whether key lies under a Kestra setting Osprey does
// not use.
func ignoredPrefix(key string) bool {
	for _, p := range kestraIgnored {
		if key == p || strings.HasPrefix(key, p+".") {
			return true
		}
	}
	return false
}
