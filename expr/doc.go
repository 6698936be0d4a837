// Package expr renders Kestra's Pebble expressions: "{{ }}" output,
// "{% if %}", "{% for %}", "{% set %}", "{% raw %}", "{# #}" comments and
// whitespace control, with Kestra's operators ("~", "??", "???", "in"),
// filters, functions and tests.
//
// It is a lexer, a parser that keeps line and column of every node, and a
// tree-walking evaluator, written for Osprey rather than adapted from a Go
// Jinja engine: Pebble differs from Jinja in the places flows depend on
// (integer vs double arithmetic, "??" absorbing undefined values, named
// arguments, "is defined" under strict variables, null printing as "", maps
// printing as JSON). Templates are compiled once and kept in a bounded LRU
// cache; evaluation works on a small closed set of Go types (nil, bool,
// int64, float64, string, []any, map[string]any, *ordered.Map, time.Time) with type
// switches, so hot paths use no reflection.
//
// Per-evaluation providers — secret(), errorLogs(), currentEachOutput(),
// tasksWithState() — are passed in Scope.Funcs, so validation needs none of
// them. Masking secrets in rendered output is the caller's job.
package expr
