package server

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite docs/api.md's list of the spec's operations")

// apiDoc is the document whose list of served and unserved operations
// TestAPIDocListsEveryOperation keeps true.
var apiDoc = filepath.Join("..", "docs", "api.md")

const (
	docBegin = "<!-- The lists below are written by `go test ./server -run TestAPIDoc -update`; do not edit them by hand. -->"
	docEnd   = "<!-- End of the generated lists. -->"
)

// enterprise is why the operations of Kestra's Enterprise and Cloud
// features are not served.
const enterprise = "a Kestra Enterprise or Cloud feature (identity, tenants, RBAC, apps, dashboards, AI, …) that Osprey, " +
	"a single-tenant server with basic auth, does not have"

// tagReasons say why a tag's operations are not served; opReasons
// override them for single operations. A test fails on an unserved
// operation with no reason.
var tagReasons = map[string]string{
	"AI": enterprise, "Apps": enterprise, "Assets": enterprise, "Audit Logs": enterprise, "Auths": enterprise,
	"Banners": enterprise, "Bindings": enterprise, "Blueprint Tags": enterprise, "Blueprints": enterprise,
	"Cluster": enterprise, "Credentials": enterprise, "Dashboards": enterprise, "Groups": enterprise,
	"Invitations": enterprise, "KillSwitches": enterprise, "Mcp": enterprise, "Notifications": enterprise,
	"Policies": enterprise, "Quotas": enterprise, "Reusable Inputs": enterprise, "Roles": enterprise,
	"SCIM-Configuration": enterprise, "SCIM-Groups": enterprise, "SCIM-Users": enterprise,
	"SecurityIntegrations": enterprise, "ServiceAccount": enterprise, "Services": enterprise,
	"Tenant Access": enterprise, "Tenants": enterprise, "TestSuites": enterprise, "Users": enterprise,
	"Worker Auth": enterprise, "Worker Groups": enterprise, "WorkerQueues": enterprise, "login": enterprise,
	"Expressions": "Kestra 2.0's editor helper that renders expressions for display with a restricted engine and raw " +
		"fallbacks; Osprey's eval (`evalExpression`, `evalTaskRunExpression`) renders against an execution",
	"Files":      "directory creation, export, revisions and search of namespace files are not built yet",
	"Flows":      "bulk operations, import/export, flow dependencies and revision deletion are not built yet",
	"KV":         "bulk delete is not built yet",
	"Logs":       "log deletion and cross-execution log search are not built yet",
	"Metrics":    "task metrics are stored on the attempt and exported on `/metrics`; Kestra's metric search and aggregation API is not built yet",
	"Misc":       "instance configuration, usage, licence and UI helper endpoints describe Kestra's own server",
	"Namespaces": "namespaces exist implicitly in Osprey (no create/delete), inherited variables are Enterprise",
	"Outputs":    "task-run output browsing is not built yet: outputs are in the execution, their files under `…/file`",
	"Plugins": "plugin documentation, icons, versions and UI schemas: Osprey's types are built in; `/plugins`, " +
		"`/plugins/{cls}` and the schemas are served",
	"Triggers": "bulk and per-id trigger operations beyond enable/disable and backfills are not built yet",
}

var opReasons = map[string]string{
	"exportExecutions":                      "CSV export of a search is not built yet; `GET /executions/search` pages through the same executions as JSON",
	"findDistinctFieldValues":               "a UI helper for Kestra's filter bar",
	"followDependenciesExecutions":          "following an execution with its whole dependency tree is not built yet; `…/follow` follows one",
	"getFlowFromExecution":                  "a UI helper; `GET /flows/{namespace}/{id}?revision=N` answers the flow an execution ran",
	"getFlowFromExecutionById":              "a UI helper; `GET /flows/{namespace}/{id}?revision=N` answers the flow an execution ran",
	"listExecutableDistinctNamespaces":      "a UI helper; `GET /flows/distinct-namespaces` lists the namespaces with flows",
	"listFlowExecutionsByNamespace":         "a UI helper; `GET /flows/{namespace}` lists a namespace's flows",
	"replayExecutionWithinputs":             "replay with new inputs is not built yet; replay keeps the original's inputs",
	"resumeExecutionFromBreakpoint":         "breakpoints (Kestra 2.0's step-by-step debugging) are not built",
	"validateNewExecutionInputs":            "a dry run of an execution's inputs is not built yet; a bad input is refused with `422` naming it",
	"validateResumeExecutionInputs":         "a dry run of resume inputs is not built yet; a bad input is refused with `422` naming it",
	"triggerExecutionByGetWebhookWithPath":  "webhook paths after the key are not built yet",
	"triggerExecutionByPostWebhookWithPath": "webhook paths after the key are not built yet",
	"triggerExecutionByPutWebhookWithPath":  "webhook paths after the key are not built yet",
}

// TestAPIDocListsEveryOperation holds docs/api.md's lists to the server:
// every operation of the spec is either served (a route of the server
// answers it) or listed as not served, with the reason. Run with -update
// after adding or removing a route.
func TestAPIDocListsEveryOperation(t *testing.T) {
	if _, err := contractRouter(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Kestra's OpenAPI spec is needed under CI: %v", err)
		}
		t.Skipf("Kestra's OpenAPI spec is not beside the repository (%v): the API doc is not checked", err)
	}
	want, err := operationLists(contract.doc, fullServer())
	require.NoError(t, err)
	b, err := os.ReadFile(apiDoc)
	require.NoError(t, err)
	doc := string(b)
	start, end := strings.Index(doc, docBegin), strings.Index(doc, docEnd)
	require.True(t, start >= 0 && end > start, "docs/api.md must hold the generated lists between %q and %q", docBegin, docEnd)
	got := doc[start+len(docBegin) : end]
	if *update {
		doc = doc[:start+len(docBegin)] + want + doc[end:]
		require.NoError(t, os.WriteFile(apiDoc, []byte(doc), 0o644))
		return
	}
	require.Equal(t, want, got, "docs/api.md's lists of operations are stale: run go test ./server -run TestAPIDoc -update")
}

// operationLists writes the served and unserved operations of the spec as
// docs/api.md shows them.
func operationLists(doc *openapi3.T, s *Server) (string, error) {
	served, own := servedOperations(doc, s)
	type op struct{ tag, id, method, path string }
	var in, out []op
	for path, item := range doc.Paths.Map() {
		for method, o := range item.Operations() {
			tag := "(none)"
			if len(o.Tags) > 0 {
				tag = o.Tags[0]
			}
			x := op{tag, o.OperationID, method, path}
			if _, ok := served[o.OperationID]; ok {
				in = append(in, x)
			} else {
				out = append(out, x)
			}
		}
	}
	byTag := func(a, b op) int { return strings.Compare(a.tag+"\x00"+a.id, b.tag+"\x00"+b.id) }
	slices.SortFunc(in, byTag)
	slices.SortFunc(out, byTag)

	var w strings.Builder
	fmt.Fprintf(&w, "\n\n### Served (%d operations)\n\n| tag | operationId | method | path |\n|---|---|---|---|\n", len(in))
	for _, o := range in {
		fmt.Fprintf(&w, "| %s | `%s` | %s | `%s` |\n", o.tag, o.id, o.method, o.path)
	}
	fmt.Fprintf(&w, "\n### Served outside the spec (%d routes)\n\n"+
		"Osprey's own routes and Kestra's older paths, under both API prefixes, described in the sections above:\n\n", len(own))
	for _, r := range own {
		fmt.Fprintf(&w, "- `%s`\n", r)
	}
	fmt.Fprintf(&w, "\n### Not served (%d operations)\n\n| tag | operations | why |\n|---|---|---|\n", len(out))
	// one row per tag and reason, in the order of the sorted operations
	type group struct {
		tag, reason string
		ids         []string
	}
	var groups []*group
	seen := map[string]*group{}
	var missing []string
	for _, o := range out {
		r := reasonFor(o.tag, o.id)
		if r == "" {
			missing = append(missing, o.id)
		}
		g := seen[o.tag+"\x00"+r]
		if g == nil {
			g = &group{tag: o.tag, reason: r}
			seen[o.tag+"\x00"+r] = g
			groups = append(groups, g)
		}
		g.ids = append(g.ids, "`"+o.id+"`")
	}
	for _, g := range groups {
		fmt.Fprintf(&w, "| %s | %d: %s | %s |\n", g.tag, len(g.ids), strings.Join(g.ids, ", "), g.reason)
	}
	w.WriteString("\n")
	if len(missing) > 0 {
		return "", fmt.Errorf("operations not served with no reason in tagReasons or opReasons: %s", strings.Join(missing, ", "))
	}
	return w.String(), nil
}

func reasonFor(tag, id string) string {
	if r, ok := opReasons[id]; ok {
		return r
	}
	return tagReasons[tag]
}
