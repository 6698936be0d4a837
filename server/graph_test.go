package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/shared"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/store"
	"github.com/ospreyhq/osprey/tasks"
)

type graphJSON struct {
	Nodes []struct {
		UID, Type    string
		RelationType string
		Task         *struct{ ID, Type string }
	}
	Edges []struct {
		Source, Target string
		Relation       struct{ RelationType, Value string }
	}
	Clusters []struct {
		Cluster    struct{ UID string }
		Nodes      []string
		Parents    []string
		Start, End string
	}
	Flowables []string
}

func (g graphJSON) edge(from, to string) (string, string, bool) {
	for _, e := range g.Edges {
		if e.Source == from && e.Target == to {
			return e.Relation.RelationType, e.Relation.Value, true
		}
	}
	return "", "", false
}

const graphFlow = `id: f
namespace: company.team
triggers:
  - id: daily
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 9 * * *"
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: hi
  - id: fan
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: left
        type: io.kestra.plugin.core.log.Log
        message: l
      - id: check
        type: io.kestra.plugin.core.flow.If
        condition: "{{ true }}"
        then:
          - id: yes
            type: io.kestra.plugin.core.log.Log
            message: y
        else:
          - id: no
            type: io.kestra.plugin.core.log.Log
            message: n
  - id: last
    type: io.kestra.plugin.core.log.Log
    message: bye
errors:
  - id: alert
    type: io.kestra.plugin.core.log.Log
    message: failed
afterExecution:
  - id: notify
    type: io.kestra.plugin.core.log.Log
    message: ended
finally:
  - id: cleanup
    type: io.kestra.plugin.core.log.Log
    message: done
`

func TestFlowGraph(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	e.flow(t, graphFlow)
	status, b := e.do(t, "GET", "/flows/company.team/f/graph", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	var g graphJSON
	require.NoError(t, json.Unmarshal(b, &g))

	uids := map[string]string{}
	for _, n := range g.Nodes {
		_, dup := uids[n.UID]
		require.False(t, dup, "uid %s appears twice", n.UID)
		uids[n.UID] = n.Type
	}
	require.Equal(t, "io.kestra.core.models.hierarchies.GraphTask", uids["fan.check.yes"])
	require.Equal(t, "io.kestra.core.models.hierarchies.GraphTrigger", uids["trigger:daily"])
	for _, e := range g.Edges {
		require.Contains(t, uids, e.Source)
		require.Contains(t, uids, e.Target)
	}

	tests := []struct {
		name, from, to, rel, value string
	}{
		{"trigger starts the flow", "trigger:daily", "root:start", "SEQUENTIAL", ""},
		{"first task", "root:start", "first", "SEQUENTIAL", ""},
		{"into the parallel cluster", "first", "fan:start", "SEQUENTIAL", ""},
		{"parallel branch", "fan:start", "fan.left", "PARALLEL", ""},
		{"parallel branch ends", "fan.left", "fan:end", "PARALLEL", ""},
		{"nested cluster", "fan:start", "fan.check:start", "PARALLEL", ""},
		{"then branch", "fan.check:start", "fan.check.yes", "CHOICE", "then"},
		{"else branch", "fan.check:start", "fan.check.no", "CHOICE", "else"},
		{"out of the cluster", "fan:end", "last", "SEQUENTIAL", ""},
		{"errors branch", "root:start", "alert", "ERROR", ""},
		{"finally after the tasks", "root:finally", "cleanup", "FINALLY", ""},
		{"finally ends the flow", "cleanup", "root:end", "FINALLY", ""},
		{"afterExecution once ended", "root:end", "notify", "AFTER_EXECUTION", ""},
	}
	for _, tt := range tests {
		rel, value, ok := g.edge(tt.from, tt.to)
		require.True(t, ok, "%s: no edge %s → %s", tt.name, tt.from, tt.to)
		require.Equal(t, tt.rel, rel, tt.name)
		require.Equal(t, tt.value, value, tt.name)
	}

	require.ElementsMatch(t, []string{"fan", "check"}, g.Flowables)
	require.Len(t, g.Clusters, 2)
	for _, c := range g.Clusters {
		switch c.Cluster.UID {
		case "cluster:fan":
			require.Empty(t, c.Parents)
			require.Equal(t, "fan:start", c.Start)
			require.True(t, slices.Contains(c.Nodes, "fan.check.yes"), "a cluster lists nested nodes")
			require.False(t, slices.Contains(c.Nodes, "last"))
		case "cluster:fan.check":
			require.Equal(t, []string{"cluster:fan"}, c.Parents)
			require.ElementsMatch(t, []string{"fan.check:start", "fan.check:end", "fan.check.yes", "fan.check.no"}, c.Nodes)
		default:
			t.Fatalf("unexpected cluster %s", c.Cluster.UID)
		}
	}

	status, _ = e.do(t, "GET", "/flows/company.team/missing/graph", "", nil)
	require.Equal(t, http.StatusNotFound, status)
}

func TestFlowGraphDag(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	e.flow(t, `id: f
namespace: company.team
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task:
          id: extract
          type: io.kestra.plugin.core.log.Log
          message: e
      - task:
          id: load
          type: io.kestra.plugin.core.log.Log
          message: l
        dependsOn: [extract]
`)
	status, b := e.do(t, "GET", "/flows/company.team/f/graph", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	var g graphJSON
	require.NoError(t, json.Unmarshal(b, &g))
	for _, tt := range []struct{ from, to string }{
		{"dag:start", "dag.extract"}, {"dag.extract", "dag.load"}, {"dag.load", "dag:end"},
	} {
		_, _, ok := g.edge(tt.from, tt.to)
		require.True(t, ok, "%s → %s", tt.from, tt.to)
	}
	_, _, ok := g.edge("dag.extract", "dag:end")
	require.False(t, ok, "a task others depend on does not end the dag")
}

// TestFlowGraphOfEveryCorpusFlow draws every flow of our test flows and of
// Kestra's corpus: uids are unique and every edge joins two nodes.
func TestFlowGraphOfEveryCorpusFlow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"testdata", func(*testing.T) string { return "../flow/testdata/valid" }},
		{"kestra-corpus", func(t *testing.T) string { return shared.Dir(t, "kestra-corpus/flows") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files, err := filepath.Glob(filepath.Join(tc.dir(t), "*.y*ml"))
			require.NoError(t, err)
			require.NotEmpty(t, files)
			drawGraphs(t, files)
		})
	}
}

func drawGraphs(t *testing.T, files []string) {
	e := newActionEnv(t)
	reg := tasks.New()
	drawn := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		f, err := flow.Parse(src, flow.ParseOptions{Types: reg})
		if err != nil {
			continue
		}
		if _, err := e.st.Flows().Create(t.Context(), store.PutFlowParams{Namespace: f.Namespace, ID: f.ID, Source: string(src)}); err != nil {
			continue // the same id twice in the corpus
		}
		status, b := e.do(t, "GET", "/flows/"+f.Namespace+"/"+f.ID+"/graph", "", nil)
		require.Equal(t, http.StatusOK, status, "%s: %s", file, b)
		var g graphJSON
		require.NoError(t, json.Unmarshal(b, &g))
		uids := map[string]bool{}
		for _, n := range g.Nodes {
			require.False(t, uids[n.UID], "%s: uid %s twice", file, n.UID)
			uids[n.UID] = true
		}
		for _, ed := range g.Edges {
			require.True(t, uids[ed.Source] && uids[ed.Target], "%s: edge %s → %s", file, ed.Source, ed.Target)
		}
		for _, task := range f.AllTasks() {
			found := false
			for _, n := range g.Nodes {
				if n.Task != nil && n.Task.ID == task.ID {
					found = true
					break
				}
			}
			require.True(t, found, "%s: task %s is drawn", file, task.ID)
		}
		drawn++
	}
	require.Positive(t, drawn)
}

// TestExecutionGraphAndList: GET /executions/{id}/graph draws the flow
// revision the execution ran, and GET /executions lists one flow's
// executions (Kestra's searchExecutionsByFlowId).
func TestExecutionGraphAndList(t *testing.T) {
	t.Parallel()
	e := newActionEnv(t)
	e.flow(t, threeTasks)
	ex := e.execution(t, flow.StateFailed, "a=SUCCESS", "b=FAILED")

	status, b := e.do(t, "GET", "/executions/"+ex.ID+"/graph", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	var g graphJSON
	require.NoError(t, json.Unmarshal(b, &g))
	_, _, ok := g.edge("a", "b")
	require.True(t, ok, "the graph of the execution's flow: a then b")
	status, _ = e.do(t, "GET", "/executions/nope/graph", "", nil)
	require.Equal(t, http.StatusNotFound, status)

	status, b = e.do(t, "GET", "/executions?namespace=company.team&flowId=f", "", nil)
	require.Equal(t, http.StatusOK, status, string(b))
	var page struct {
		Results []flow.Execution `json:"results"`
		Total   int              `json:"total"`
	}
	require.NoError(t, json.Unmarshal(b, &page))
	require.Equal(t, 1, page.Total)
	require.Equal(t, ex.ID, page.Results[0].ID)
	status, b = e.do(t, "GET", "/executions?namespace=company.team", "", nil)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, string(b), "flowId is required")
}
